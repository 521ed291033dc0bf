//! The storage side of a session: the record both modes share, and the one trait each mode
//! implements.
//!
//! The session layer owns everything both modes share — sealing the cookie, expiry, the size
//! limit, deciding what changed. It asks a store what a cookie's plaintext means, what the cookie
//! must carry, whether a change needs a new cookie, and how to persist the request's one change.
//! The mode is decided once, by choosing the store: nothing above this trait branches on it.

use serde_json::{Map, Value};
use time::OffsetDateTime;

/// One session as both modes see it.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// Server mode's row id (also what the cookie carries); `None` in cookie mode.
    pub id: Option<String>,
    /// The session map: what the app stored under its own keys.
    pub data: Map<String, Value>,
    /// The account this session is logged in as. Kept beside the map, not in it, so a store can
    /// index it (server mode's `user_id` column) without knowing the app's keys.
    pub user_id: Option<i64>,
    /// When the session was created or last logged in: the absolute deadline counts from here.
    pub created_at: OffsetDateTime,
    /// The last time the idle deadline was pushed forward.
    pub last_seen: OffsetDateTime,
    /// "Remember me": a persistent cookie instead of a browser-session one.
    pub remember: bool,
    /// Server mode only: shown on the "your sessions" page.
    pub user_agent: Option<String>,
}

impl Record {
    pub fn new(now: OffsetDateTime, user_agent: Option<String>) -> Record {
        Record {
            id: None,
            data: Map::new(),
            user_id: None,
            created_at: now,
            last_seen: now,
            remember: false,
            user_agent,
        }
    }

    /// An empty session is no session: it has neither data nor a login.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty() && self.user_id.is_none()
    }
}

/// The two moments a session ends, computed by the layer from its settings.
#[derive(Debug, Clone, Copy)]
pub struct Deadlines {
    pub idle: OffsetDateTime,
    pub absolute: OffsetDateTime,
}

impl Deadlines {
    /// The earlier of the two: when the session really ends.
    pub fn expires_at(&self) -> OffsetDateTime {
        self.idle.min(self.absolute)
    }
}

/// Why a session cookie that came with a request was not used (`Session-Trace: refused=…`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// It does not decrypt: tampered, truncated, or sealed with another key.
    Undecryptable,
    /// It decrypts, but what is inside is not a session this app wrote.
    Malformed,
    /// Server mode: no row has this id (logged out, signed out elsewhere, cleaned up).
    Unknown,
    /// No request for longer than the idle timeout.
    ExpiredIdle,
    /// Older than the absolute timeout, however active.
    ExpiredAbsolute,
    /// Cookie mode: the account signed out everywhere after this cookie was sealed.
    OldEpoch,
    /// Cookie mode with the deny-list: this session was logged out; its id is on the list.
    Revoked,
    /// Both modes: the account is not the one logged in: its password changed, or the `users`
    /// table is another (restored, replaced, or another database under the same key).
    AccountChanged,
}

impl Refusal {
    /// The reason's name in `Session-Trace` and `/session.json`.
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::Undecryptable => "undecryptable",
            Refusal::Malformed => "malformed",
            Refusal::Unknown => "unknown",
            Refusal::ExpiredIdle => "expired-idle",
            Refusal::ExpiredAbsolute => "expired-absolute",
            Refusal::OldEpoch => "old-epoch",
            Refusal::Revoked => "revoked",
            Refusal::AccountChanged => "account-changed",
        }
    }
}

/// What a store made of a decrypted cookie.
#[derive(Debug)]
pub enum Loaded {
    Found(Record),
    Refused(Refusal),
}

/// The one write a request makes, decided by the session layer after the handler ran.
#[derive(Debug)]
pub enum Change<'a> {
    /// A session that did not exist before this request.
    Insert(&'a Record),
    /// New data for an existing session.
    Update(&'a Record),
    /// Only the idle deadline moves (sliding expiry).
    Touch(&'a Record),
    /// The session ended (logout, emptied).
    Delete(&'a Record),
    /// The id was cycled (login): the data moves to a new id and the old one dies.
    Replace { old: &'a Record, new: &'a Record },
}

/// What became of a [`Change`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Committed {
    /// Stored (or nothing to store: the cookie was the write).
    Saved,
    /// The session was deleted while the request ran (logged out in another tab, signed out
    /// elsewhere): the change was not kept.
    Gone,
}

/// What a store could not do.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database is down or the pool timed out: the page answers 503.
    #[error("session store unavailable")]
    Unavailable(#[source] sqlx::Error),
    /// The database answered with an error we did not expect.
    #[error("session store query failed")]
    Query(#[source] sqlx::Error),
    /// The session could not be encoded for its cookie.
    #[error("session could not be encoded")]
    Encode(#[from] serde_json::Error),
    /// A record without what this store needs (a bug).
    #[error("invalid session record: {0}")]
    Invalid(&'static str),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if crate::failure::is_unavailable(&e) {
            StoreError::Unavailable(e)
        } else {
            StoreError::Query(e)
        }
    }
}

/// Statements run for one request's session, for `Session-Trace`'s `queries`, and the revocation
/// check that passed, if one ran (`checked=epoch` or `checked=denylist`). Also carries this
/// browser's outage lab switch to the stores, which ask [`Statements::begin`] before each one.
#[derive(Debug, Default)]
pub struct Statements {
    pub count: u32,
    pub checked: Option<&'static str>,
    /// This browser's outage lab has cut the database off: no statement may run.
    cut: bool,
}

impl Statements {
    /// No statements yet, for a request of a browser whose labs are `lab`.
    pub fn for_lab(lab: &crate::lab::Lab) -> Statements {
        Statements {
            cut: lab.is_cut(),
            ..Statements::default()
        }
    }

    /// Applies `lab`'s switch to the statements still to come.
    pub fn follow(&mut self, lab: &crate::lab::Lab) {
        self.cut = lab.is_cut();
    }

    /// A fresh count for the same request (the same switch).
    pub fn fresh(&self) -> Statements {
        Statements {
            cut: self.cut,
            ..Statements::default()
        }
    }

    pub fn add(&mut self, n: u32) {
        self.count += n;
    }

    /// Counts one statement about to run, or refuses it as a stopped PostgreSQL would while this
    /// browser's outage lab has the database cut off.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] while the switch is on.
    pub fn begin(&mut self) -> Result<(), StoreError> {
        if self.cut {
            return Err(StoreError::Unavailable(crate::lab::refused()));
        }
        self.add(1);
        Ok(())
    }
}

#[rocket::async_trait]
pub trait SessionStore: Send + Sync {
    /// A fresh id for a new session, or `None` when the cookie itself is the session.
    fn new_id(&self) -> Option<String>;

    /// What the sealed cookie carries for `record`.
    ///
    /// # Errors
    /// A record that cannot be encoded.
    fn cookie_plaintext(&self, record: &Record) -> Result<String, StoreError>;

    /// Whether going from `before` to `after` changes what the cookie carries, so the browser
    /// must be sent a new one. (A new id always does; new data does only where the cookie is the
    /// data.)
    fn cookie_changes(&self, before: &Record, after: &Record) -> bool;

    /// The session a cookie's (already decrypted) plaintext points to.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the store cannot be reached.
    async fn load(
        &self,
        plaintext: &str,
        now: OffsetDateTime,
        statements: &mut Statements,
    ) -> Result<Loaded, StoreError>;

    /// Persists the request's change.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the store cannot be reached.
    async fn commit(
        &self,
        change: Change<'_>,
        deadlines: Deadlines,
        statements: &mut Statements,
    ) -> Result<Committed, StoreError>;

    /// Listing and ending a user's sessions by the server, where this store can (it keeps them).
    fn user_sessions(&self) -> Option<&dyn UserSessions> {
        None
    }

    /// Whether ending a session (logout) also kills every copy of its cookie: true where the
    /// server deletes what the cookie points to, or records the session as revoked.
    fn ends_copies(&self) -> bool;

    /// How this store can revoke sessions, for `Session-Trace` and the inspector (`None` for a
    /// store where ending a session is deleting it).
    fn revocation(&self) -> Option<crate::settings::Revocation> {
        None
    }
}

/// A user's live session, as "your sessions" lists it.
#[derive(Debug, sqlx::FromRow, serde::Serialize)]
pub struct SessionSummary {
    /// A name for the session that is safe to put in a form: not the id, which is the credential.
    pub handle: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    pub user_agent: Option<String>,
    pub current: bool,
}

/// The capability to list and end a user's sessions from the server: only a store that keeps
/// sessions has it (as actix-session's `is_invalidation_supported`).
#[rocket::async_trait]
pub trait UserSessions: Send + Sync {
    /// The user's sessions that have not expired, most recently used first.
    async fn list(
        &self,
        user_id: i64,
        current_id: Option<&str>,
        now: OffsetDateTime,
        statements: &mut Statements,
    ) -> Result<Vec<SessionSummary>, StoreError>;

    /// Ends one of the user's sessions by its handle, returning the id it had; a handle of
    /// someone else's session ends nothing.
    async fn end_one(
        &self,
        user_id: i64,
        handle: i64,
        statements: &mut Statements,
    ) -> Result<Option<String>, StoreError>;

    /// Ends every session of the user except `keep`, returning how many ended.
    async fn end_others(
        &self,
        user_id: i64,
        keep: Option<&str>,
        statements: &mut Statements,
    ) -> Result<u64, StoreError>;
}
