//! The session layer's shared state: the store the mode chose, the clock, the timeouts, and the
//! steps every request shares — opening a cookie, the deadlines, sealing a key into a cookie.

use std::sync::Arc;

use rocket::Request;
use time::{Duration, OffsetDateTime};

use super::record::{Deadlines, Record, Refusal};
use super::store::decorators::{self, ForRequest};
use super::store::{Loaded, SessionStore, StoreError, Traits};
use super::{SessionError, SizeLimit};
use crate::clock::Clock;
use crate::cookies::{CookieConfig, Kind, Lifetime, COOKIE_LIMIT};
use crate::settings::{Mode, Revocation, Settings};

/// What a browser has asked of the session layer for its requests, by means the layer does not
/// need to know (the labs): its clock runs `offset` seconds ahead for deadline checks, and its
/// store's backend is cut off.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Conditions {
    pub offset: i64,
    pub cut: bool,
}

/// How the layer learns a request's [`Conditions`]: handed to it when the app is built (the labs
/// provide it), so the layer imports nothing of the features above it.
pub type ConditionsOf = fn(&Request<'_>) -> Conditions;

/// No lab: real time, the backend reachable.
pub fn no_conditions(_: &Request<'_>) -> Conditions {
    Conditions::default()
}

/// Managed state: one mode's sessions.
pub struct SessionLayer {
    mode: Mode,
    store: Arc<dyn SessionStore>,
    clock: Arc<Clock>,
    idle: Duration,
    absolute: Duration,
    pub(super) trace: bool,
    pub(super) log_map: bool,
    /// `session_max_bytes`: the most data (the map as JSON) one session may hold.
    max_data: usize,
    pub(super) conditions: ConditionsOf,
}

impl SessionLayer {
    pub fn new(
        settings: &Settings,
        clock: Arc<Clock>,
        store: Arc<dyn SessionStore>,
        conditions: ConditionsOf,
    ) -> SessionLayer {
        SessionLayer {
            mode: settings.mode,
            store,
            clock,
            idle: Duration::seconds(settings.idle_timeout),
            absolute: Duration::seconds(settings.absolute_timeout),
            trace: settings.trace,
            log_map: settings.log_map,
            max_data: settings.max_bytes,
            conditions,
        }
    }

    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Real time, on the app's clock: what is stored.
    pub fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    /// What this request's browser has asked of the layer.
    pub fn conditions(&self, req: &Request<'_>) -> Conditions {
        (self.conditions)(req)
    }

    pub fn deadlines(&self, record: &Record) -> Deadlines {
        Deadlines {
            idle: record.last_seen.saturating_add(self.idle),
            absolute: record.created_at.saturating_add(self.absolute),
        }
    }

    /// Sliding expiry without a write per read: the idle deadline is pushed only once less than
    /// half of the idle window is left, i.e. at most one write per session per half window.
    pub(super) fn needs_refresh(&self, deadlines: &Deadlines, now: OffsetDateTime) -> bool {
        deadlines.idle - now < self.idle / 2
    }

    /// The store, as one request of a browser whose backend is `cut` sees it: behind the outage
    /// lab and counted.
    pub fn store_for(&self, cut: bool) -> ForRequest<'_> {
        decorators::for_request(self.store.as_ref(), cut)
    }

    /// What the store is.
    pub fn traits(&self) -> Traits {
        self.store.traits()
    }

    /// Whether the store keeps sessions (rows the server can list and end).
    pub fn keeps_sessions(&self) -> bool {
        self.traits().keeps_sessions
    }

    /// Whether the session's data lives with the store (the cookie only names it).
    pub fn holds_data(&self) -> bool {
        self.traits().holds_data
    }

    /// The name the store files `record` under at rest, where that is not the cookie's key.
    pub fn filed_under(&self, record: &Record) -> Option<String> {
        self.store.filed_under(record)
    }

    /// Whether a logout also kills every copy of the cookie.
    pub fn ends_copies(&self) -> bool {
        self.traits().ends_copies
    }

    /// How the store can revoke sessions early, where that is a choice (cookie mode).
    pub fn revocation(&self) -> Option<Revocation> {
        self.traits().revocation
    }

    /// Whether the account pages check the session's epoch: everywhere but with
    /// `cookie_revocation = "none"`, where the cookie alone is trusted.
    pub fn checks_epoch(&self) -> bool {
        self.revocation() != Some(Revocation::None)
    }

    /// Whether responses carry `Session-Trace` (`session_trace`).
    pub fn trace_enabled(&self) -> bool {
        self.trace
    }

    /// The most data one session may hold, as JSON bytes.
    pub fn max_data(&self) -> usize {
        self.max_data
    }

    /// The session cookie's kind in this mode.
    pub fn cookie_kind(&self) -> Kind {
        Kind::Session(self.mode)
    }

    /// What a session cookie's value (as the browser holds it) opens to at `now`: the session and
    /// its key, or why it is refused — the same steps a request takes, without the request. The
    /// replay lab uses it to show what a copied cookie would get.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the store cannot be reached.
    pub async fn open(
        &self,
        cookies: &CookieConfig,
        value: &str,
        now: OffsetDateTime,
        store: &dyn SessionStore,
    ) -> Result<Opened, StoreError> {
        let Some(opened) = cookies.open(self.cookie_kind(), value) else {
            return Ok(Opened::Refused(Refusal::Undecryptable));
        };
        let record = match store.load(&opened.plaintext, now).await?.value {
            Loaded::Found(record) => record,
            Loaded::Refused(why) => return Ok(Opened::Refused(why)),
        };
        let deadlines = self.deadlines(&record);
        Ok(if now >= deadlines.absolute {
            Opened::Refused(Refusal::ExpiredAbsolute)
        } else if now >= deadlines.idle {
            Opened::Refused(Refusal::ExpiredIdle)
        } else {
            Opened::Found {
                record,
                key: opened.plaintext,
                with_fallback: opened.with_fallback,
            }
        })
    }

    /// Refuses a session whose data (the map as JSON) passes `session_max_bytes`. Checked on every
    /// change, whether or not the cookie must be re-sent: server mode's cookie rarely is.
    pub(super) fn check_data(&self, record: &Record) -> Result<(), SessionError> {
        let bytes = record.data_bytes().map_err(|source| SessionError::Type {
            key: String::new(),
            source,
        })?;
        if bytes > self.max_data {
            return Err(SessionError::TooLarge {
                what: SizeLimit::Data,
                bytes,
                limit: self.max_data,
            });
        }
        Ok(())
    }

    /// The session cookie for `record` filed under `key`: sealed, refused when browsers would
    /// drop it, and persistent until the absolute deadline with "remember me".
    pub(super) fn seal(
        &self,
        cookies: &CookieConfig,
        key: &str,
        record: &Record,
    ) -> Result<Sealed, SessionError> {
        let kind = self.cookie_kind();
        let value = cookies.seal(kind, key);
        let bytes = cookies.size(kind, &value);
        if bytes > COOKIE_LIMIT {
            return Err(SessionError::TooLarge {
                what: SizeLimit::Cookie,
                bytes,
                limit: COOKIE_LIMIT,
            });
        }
        // Persistent until the absolute deadline; the server still enforces both deadlines.
        let lifetime = if record.remember {
            Lifetime::Until(self.deadlines(record).absolute)
        } else {
            Lifetime::Browser
        };
        Ok(Sealed {
            value,
            lifetime,
            bytes,
        })
    }
}

/// A session cookie ready to go out.
#[derive(Debug, Clone, PartialEq)]
pub struct Sealed {
    pub value: String,
    pub lifetime: Lifetime,
    /// Name + value, as the browser counts it.
    pub bytes: usize,
}

/// What a cookie value opened to.
#[derive(Debug)]
pub enum Opened {
    /// A live session, the key it is filed under, and `with_fallback` when an older secret key
    /// was needed to open it (re-seal it).
    Found {
        record: Record,
        key: String,
        with_fallback: bool,
    },
    Refused(Refusal),
}
