//! The session layer's shared state and its per-request bookkeeping: what came in, what the
//! handler changed, and what must go out — decided here once, for both modes, from what the store
//! says about its cookie.

use rocket::http::Cookie;
use time::{Duration, OffsetDateTime};
use tokio::sync::Mutex;

use super::store::{
    Change, Deadlines, Loaded, Record, Refusal, SessionStore, Statements, StoreError, UserSessions,
};
use super::{SessionError, SizeLimit};
use crate::clock::Clock;
use crate::cookies::{browser_size, CookieConfig, COOKIE_LIMIT};
use crate::settings::Settings;

/// Managed state: the store the mode chose, the clock and the timeouts.
pub struct SessionLayer {
    store: Box<dyn SessionStore>,
    clock: std::sync::Arc<Clock>,
    idle: Duration,
    absolute: Duration,
    trace: bool,
    /// `session_max_bytes`: the most data (the map as JSON) one session may hold.
    max_data: usize,
}

impl SessionLayer {
    pub fn new(
        settings: &Settings,
        clock: std::sync::Arc<Clock>,
        store: Box<dyn SessionStore>,
    ) -> SessionLayer {
        SessionLayer {
            store,
            clock,
            idle: Duration::seconds(settings.idle_timeout),
            absolute: Duration::seconds(settings.absolute_timeout),
            trace: settings.trace,
            max_data: settings.max_bytes,
        }
    }

    pub fn now(&self) -> OffsetDateTime {
        self.clock.now()
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

    pub(super) fn store(&self) -> &dyn SessionStore {
        self.store.as_ref()
    }

    /// Whether the store keeps sessions (rows the server can list and end).
    pub fn keeps_sessions(&self) -> bool {
        self.store.user_sessions().is_some()
    }

    /// Whether a logout also kills every copy of the cookie.
    pub fn ends_copies(&self) -> bool {
        self.store.ends_copies()
    }

    /// Whether the account pages check the session's epoch: everywhere but with
    /// `cookie_revocation = "none"`, where the cookie alone is trusted.
    pub fn checks_epoch(&self) -> bool {
        self.revocation() != Some(crate::settings::Revocation::None)
    }

    /// How the store can revoke sessions early, where that is a choice (cookie mode).
    pub fn revocation(&self) -> Option<crate::settings::Revocation> {
        self.store.revocation()
    }

    pub(super) fn trace(&self) -> bool {
        self.trace
    }

    /// Listing and ending a user's sessions, where the store can.
    pub fn user_sessions(&self) -> Option<&dyn UserSessions> {
        self.store.user_sessions()
    }

    /// What a session cookie's value (as the browser holds it) opens to now: the session, or why
    /// it is refused — the same steps a request takes, without the request. Counts the store's
    /// statements in `statements`. The replay lab uses it to show what a copied cookie would get.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the store cannot be reached.
    pub async fn open(
        &self,
        cookies: &CookieConfig,
        value: &str,
        now: OffsetDateTime,
        statements: &mut Statements,
    ) -> Result<Opened, StoreError> {
        let Some(opened) = cookies.keys.open(cookies.session, value) else {
            return Ok(Opened::Refused(Refusal::Undecryptable));
        };
        let record = match self.store.load(&opened.plaintext, now, statements).await? {
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
                with_fallback: opened.with_fallback,
            }
        })
    }

    /// The most data one session may hold, as JSON bytes.
    pub fn max_data(&self) -> usize {
        self.max_data
    }

    /// Refuses a session whose data (the map as JSON) passes `session_max_bytes`. Checked on every
    /// change, whether or not the cookie must be re-sent: server mode's cookie rarely is.
    pub(super) fn check_data(&self, record: &Record) -> Result<(), SessionError> {
        let bytes = data_bytes(record).map_err(|source| SessionError::Type {
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

    /// Seals `record` into its cookie, refusing a cookie that browsers would drop.
    pub(super) fn seal(
        &self,
        cookies: &CookieConfig,
        record: &Record,
    ) -> Result<Cookie<'static>, SessionError> {
        let plaintext = self.store.cookie_plaintext(record)?;
        let mut cookie = cookies.sealed(cookies.session, &plaintext);
        let bytes = browser_size(cookie.name(), cookie.value());
        if bytes > COOKIE_LIMIT {
            return Err(SessionError::TooLarge {
                what: SizeLimit::Cookie,
                bytes,
                limit: COOKIE_LIMIT,
            });
        }
        if record.remember {
            // Persistent until the absolute deadline; the server still enforces both deadlines.
            cookie.set_expires(self.deadlines(record).absolute);
        }
        Ok(cookie)
    }
}

/// What a cookie value opened to.
#[derive(Debug)]
pub enum Opened {
    /// A live session; `with_fallback` when an older key was needed (re-seal it).
    Found {
        record: Record,
        with_fallback: bool,
    },
    Refused(Refusal),
}

/// What the response must tell the browser about the session cookie.
#[derive(Debug, Default)]
pub(super) enum Outgoing {
    /// Nothing: the browser's cookie (or its lack of one) is right as it is.
    #[default]
    Keep,
    /// A new value (sealed when the handler made the change).
    Set(Cookie<'static>),
    /// Delete it.
    Remove,
}

/// Per-request state, shared by every guard of one request through `local_cache`.
#[derive(Default)]
pub struct RequestState {
    pub(super) inner: Mutex<Inner>,
}

#[derive(Default)]
pub(super) struct Inner {
    pub loaded: bool,
    /// A session cookie came with the request (whether or not it could be opened).
    pub cookie_came: bool,
    /// This request's handler touched the session (so the page shows session data).
    pub accessed: bool,
    /// Why the cookie that came was not used.
    pub refused: Option<Refusal>,
    /// The session as the request found it (server mode: a row with this id exists).
    pub stored: Option<Record>,
    /// The session as this request leaves it.
    pub current: Option<Record>,
    /// What the browser's cookie will encode once this response arrives.
    pub sent: Option<Record>,
    /// `current` differs from `stored` in more than its last-seen time.
    pub dirty: bool,
    /// Only the idle deadline moved (a sliding refresh).
    pub touched: bool,
    /// The cookie was opened with a fallback key: re-seal it with the current key.
    pub reseal: bool,
    pub outgoing: Outgoing,
    pub statements: Statements,
    /// What handlers said about this request, for the report.
    pub notes: Vec<String>,
}

impl Inner {
    /// The one store write this request needs, if any.
    pub fn change(&self) -> Option<Change<'_>> {
        match (&self.stored, &self.current) {
            (None, Some(r)) if self.dirty => Some(Change::Insert(r)),
            (Some(old), None) => Some(Change::Delete(old)),
            (Some(old), Some(r)) if r.id != old.id => Some(Change::Replace { old, new: r }),
            (Some(_), Some(r)) if self.dirty => Some(Change::Update(r)),
            (Some(_), Some(r)) if self.touched => Some(Change::Touch(r)),
            _ => None,
        }
    }
}

/// Whether the cookie's attributes (not its value) differ: persistence, and with it the Expires
/// date taken from the absolute deadline.
pub(super) fn attributes_change(before: &Record, after: &Record) -> bool {
    before.remember != after.remember || (after.remember && before.created_at != after.created_at)
}

/// The size `session_max_bytes` is measured in: the session's map serialized as compact JSON.
/// Not PostgreSQL's own figure for the `jsonb` column (its binary form, maybe compressed), but
/// the one a write is refused by, so the pages that show it and the 413 agree.
///
/// # Errors
/// A map that cannot be serialized (not expected: it came from JSON).
pub fn data_bytes(record: &Record) -> Result<usize, serde_json::Error> {
    serde_json::to_vec(&record.data).map(|json| json.len())
}
