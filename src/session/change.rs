//! Changing the request's session: every write goes through [`Session::replace`], which checks
//! the size limits at once (so a handler can still answer 413), asks the store for the key the
//! session will be filed under, and seals a new cookie only when what the cookie carries changes.

use time::OffsetDateTime;

use super::guard::Session;
use super::record::Record;
use super::state::{Filed, Inner, Outgoing};
use super::store::SessionStore;
use super::SessionError;

impl Session<'_> {
    pub(super) fn new_record(&self, now: OffsetDateTime) -> Record {
        Record::new(
            now,
            self.user_agent.map(|ua| ua.chars().take(256).collect()),
        )
    }

    /// Applies `edit` to a copy of the session and keeps it only if its cookie can be sent.
    pub(super) async fn change(&self, edit: impl FnOnce(&mut Record)) -> Result<(), SessionError> {
        let mut inner = self.loaded().await?;
        let now = self.layer.now();
        let mut next = inner
            .current_record()
            .cloned()
            .unwrap_or_else(|| self.new_record(now));
        // The idle deadline moves only by the half-window rule applied at load, not with every
        // write: that keeps `expires_at` (indexed) unchanged on most updates, so PostgreSQL can
        // update the row in place (a HOT update) instead of adding an entry to every index.
        edit(&mut next);
        self.replace(&mut inner, Some(next), false)
    }

    /// Makes `next` the request's session (under a new key with `renew`) and decides the cookie it
    /// needs. An empty session is no session: its cookie is removed and its stored copy deleted.
    pub(super) fn replace(
        &self,
        inner: &mut Inner,
        next: Option<Record>,
        renew: bool,
    ) -> Result<(), SessionError> {
        let Some(mut next) = next.filter(|r| !r.is_empty()) else {
            if inner.current.is_some() {
                inner.dirty = true;
            }
            inner.current = None;
            // Remove the browser's cookie if it has (or is about to get) one.
            inner.outgoing = if inner.sent.is_some() || inner.refused.is_some() {
                Outgoing::Remove
            } else {
                Outgoing::Keep
            };
            inner.sent = None;
            return Ok(());
        };
        if !renew && inner.current_record() == Some(&next) {
            return Ok(());
        }
        self.layer.check_data(&next)?;
        let key = self
            .layer
            .store_for(self.conditions.cut)
            .key(&mut next, renew)?;
        let resend = inner.reseal
            || inner
                .sent
                .as_ref()
                .is_none_or(|sent| sent.key != key || attributes_change(&sent.record, &next));
        if resend {
            let sealed = self.layer.seal(self.jar.config(), &key, &next)?;
            inner.outgoing = Outgoing::Set(sealed);
            inner.sent = Some(Filed {
                key: key.clone(),
                record: next.clone(),
            });
            inner.reseal = false;
        }
        inner.renewed |= renew;
        inner.current = Some(Filed { key, record: next });
        inner.dirty = true;
        Ok(())
    }
}

/// Whether the cookie's attributes (not its value) differ: persistence, and with it the Expires
/// date taken from the absolute deadline.
fn attributes_change(before: &Record, after: &Record) -> bool {
    before.remember != after.remember || (after.remember && before.created_at != after.created_at)
}
