//! Opening the session a request's cookie names, on its first use: the cookie unsealed, the
//! store asked for the key, both deadlines checked on this browser's clock, and the sliding
//! refresh decided (a new cookie only where the key itself changes).

use tokio::sync::MutexGuard;

use super::guard::Session;
use super::layer::Opened;
use super::state::{Filed, Inner, Outgoing};
use super::store::SessionStore;
use super::SessionError;

impl<'r> Session<'r> {
    /// Locks the request's state, loading the session on first use.
    pub(super) async fn loaded(&self) -> Result<MutexGuard<'r, Inner>, SessionError> {
        let mut inner = self.state.inner.lock().await;
        inner.accessed = true;
        if !inner.loaded {
            self.load(&mut inner).await?;
            inner.loaded = true;
        }
        Ok(inner)
    }

    pub(super) async fn load(&self, inner: &mut Inner) -> Result<(), SessionError> {
        let layer = self.layer;
        let kind = layer.cookie_kind();
        let Some(value) = self.jar.value(kind) else {
            return Ok(());
        };
        inner.cookie_came = true;
        // Real time for what is written (the refresh below); this browser's clock, which the
        // inspector's fast-forward may have moved ahead, for whether the session has ended.
        let now = layer.now();
        let store = layer.store_for(self.conditions.cut);
        let opened = layer
            .open(self.jar.config(), value, self.browser_time(now), &store)
            .await;
        inner.trips += store.around().trips();
        let (mut record, key) = match opened? {
            Opened::Found {
                record,
                key,
                with_fallback,
            } => {
                inner.reseal = with_fallback;
                if layer.revocation() == Some(crate::settings::Revocation::Denylist) {
                    // The store read the deny-list to let this cookie in.
                    inner.checked = Some("denylist");
                }
                (record, key)
            }
            Opened::Refused(why) => {
                // A cookie came but cannot be used: the request is anonymous and the cookie goes.
                rocket::info!(
                    "session: refusing a {} cookie: {}",
                    self.jar.name(kind),
                    why.as_str()
                );
                inner.refused = Some(why);
                inner.outgoing = Outgoing::Remove;
                return Ok(());
            }
        };
        let filed = Filed {
            key: key.clone(),
            record: record.clone(),
        };
        inner.stored = Some(filed.clone());
        inner.sent = Some(filed);
        let mut key = key;
        if layer.needs_refresh(&layer.deadlines(&record), now) {
            let mut refreshed = record.clone();
            refreshed.last_seen = now;
            let refreshed_key = store.key(&mut refreshed, false)?;
            if inner.reseal || refreshed_key != key {
                // A refresh that no longer fits keeps the old cookie, which works until its
                // deadline.
                match layer.seal(self.jar.config(), &refreshed_key, &refreshed) {
                    Ok(sealed) => {
                        inner.outgoing = Outgoing::Set(sealed);
                        inner.sent = Some(Filed {
                            key: refreshed_key.clone(),
                            record: refreshed.clone(),
                        });
                        inner.reseal = false;
                        (record, key, inner.touched) = (refreshed, refreshed_key, true);
                    }
                    Err(e) => rocket::info!("session: not refreshed: {e}"),
                }
            } else {
                (record, inner.touched) = (refreshed, true);
            }
        }
        inner.current = Some(Filed { key, record });
        Ok(())
    }
}
