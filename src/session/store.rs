//! The storage side of a session: one trait, one implementation per mode.
//!
//! The session layer (`super`) owns everything both modes share — sealing the cookie, expiry,
//! the size limit, deciding what changed — and asks a store only two things: what a cookie's
//! plaintext means, and how to persist the request's one change.

use serde_json::{Map, Value};
use time::OffsetDateTime;

/// One session as both modes see it.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// Server mode's row id (also what the cookie carries); `None` in cookie mode.
    pub id: Option<String>,
    pub data: Map<String, Value>,
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
            created_at: now,
            last_seen: now,
            remember: false,
            user_agent,
        }
    }

    /// The user id the session is logged in as, if any (under `session::keys::USER_ID`).
    pub fn user_id(&self) -> Option<i64> {
        self.data.get(super::keys::USER_ID).and_then(Value::as_i64)
    }
}

/// What the session layer could not do.
#[derive(Debug)]
pub enum SessionError {
    /// The store (PostgreSQL) could not be reached: the page answers 503.
    Unavailable(String),
    /// The sealed cookie would pass the browsers' limit: the page answers 413, nothing changes.
    TooLarge { bytes: usize, limit: usize },
    /// Anything else, logged and answered with an opaque 500.
    Internal(String),
}

impl std::fmt::Display for SessionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SessionError::Unavailable(why) => write!(f, "session store unavailable: {why}"),
            SessionError::TooLarge { bytes, limit } => {
                write!(
                    f,
                    "session cookie would be {bytes} bytes, over the {limit}-byte limit"
                )
            }
            SessionError::Internal(why) => write!(f, "session error: {why}"),
        }
    }
}

impl std::error::Error for SessionError {}

impl From<crate::db::DbError> for SessionError {
    fn from(e: crate::db::DbError) -> Self {
        match e {
            crate::db::DbError::Unavailable(why) => SessionError::Unavailable(why),
            crate::db::DbError::Query(e) => SessionError::Internal(e.to_string()),
        }
    }
}

impl From<sqlx::Error> for SessionError {
    fn from(e: sqlx::Error) -> Self {
        crate::db::DbError::from(e).into()
    }
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
    Delete(&'a str),
    /// The id was cycled (login): the data moves to a new id and the old one dies.
    Replace { old: &'a str, new: &'a Record },
}

#[rocket::async_trait]
pub trait SessionStore: Send + Sync {
    /// A fresh id for a new session, or `None` when the cookie itself is the session.
    fn new_id(&self) -> Option<String>;

    /// What the sealed cookie carries for `record`.
    ///
    /// # Errors
    /// A record that cannot be encoded.
    fn cookie_plaintext(&self, record: &Record) -> Result<String, SessionError>;

    /// The session a cookie's (already decrypted) plaintext points to, or `None` when it is
    /// unknown, expired or malformed. `queries` counts the SQL statements run.
    ///
    /// # Errors
    /// [`SessionError::Unavailable`] when the store cannot be reached.
    async fn load(
        &self,
        plaintext: &str,
        now: OffsetDateTime,
        queries: &mut u32,
    ) -> Result<Option<Record>, SessionError>;

    /// Persists the request's change. The cookie store keeps nothing, so does nothing.
    ///
    /// # Errors
    /// [`SessionError::Unavailable`] when the store cannot be reached.
    async fn commit(
        &self,
        change: Change<'_>,
        deadlines: Deadlines,
        queries: &mut u32,
    ) -> Result<(), SessionError>;
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
