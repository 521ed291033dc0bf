//! Where sessions live: the one trait every store implements, and the decorators that wrap any
//! store.
//!
//! A store files each session's [`Record`] under a key and finds it again by that key; the
//! session cookie carries the key, sealed (sealing is the cookie controller's job, not the
//! store's). What the key is, is the store's choice: a random id whose row holds the data
//! ([`server::ServerStore`]), or the record itself, so the cookie is the whole session
//! ([`cookie::CookieStore`], as actix-session's `CookieSessionStore` returns the state as its
//! key). Everything both modes share — deadlines, the size limit, what changed, the cookie — is the
//! layer's, above this trait; nothing above it branches on the mode.
//!
//! Decorators wrap any store behind the same trait, as tower-sessions' `CachingSessionStore`
//! does: [`decorators::Outage`] (a browser's outage lab: the backend unreachable) and
//! [`decorators::Counted`] (the round trips `Session-Trace` reports). A new store is one file, and
//! the labs and the trace work on it for free.

pub mod cached;
pub mod cookie;
pub mod decorators;
pub mod redis;
pub mod server;
mod trips;

use time::OffsetDateTime;

pub use super::record::{Deadlines, Record, Refusal};
use crate::settings::Revocation;
pub use trips::{Cache, Done, Trips};

/// What a store made of a key.
#[derive(Debug)]
pub enum Loaded {
    Found(Record),
    Refused(Refusal),
}

/// The one write a request makes, decided by the layer after the handler ran. `key` is the key
/// the record is filed under ([`SessionStore::key`]).
#[derive(Debug, Clone, Copy)]
pub enum Write<'a> {
    /// A session that did not exist before this request.
    Create {
        key: &'a str,
        record: &'a Record,
        deadlines: Deadlines,
    },
    /// New data for an existing session.
    Update {
        key: &'a str,
        record: &'a Record,
        deadlines: Deadlines,
    },
    /// Only the idle deadline moves (sliding expiry).
    Touch {
        key: &'a str,
        record: &'a Record,
        deadlines: Deadlines,
    },
    /// The session ended (logout, emptied).
    Delete { key: &'a str, record: &'a Record },
    /// The session was given a new key (login): it moves there, and the old key dies with it.
    Renew {
        old_key: &'a str,
        old: &'a Record,
        key: &'a str,
        record: &'a Record,
        deadlines: Deadlines,
    },
}

/// What became of a [`Write`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Saved {
    /// Stored (or nothing to store: the cookie was the write).
    Saved,
    /// The session was deleted while the request ran (logged out in another tab, signed out
    /// elsewhere): the write was not kept.
    Gone,
}

/// An operation, for [`SessionStore::reaches_backend`].
#[derive(Debug, Clone, Copy)]
pub enum Op<'a> {
    Load(&'a str),
    Save(&'a Write<'a>),
    /// Listing or ending sessions by user or class.
    Index,
    /// Deleting what has expired.
    Sweep,
}

/// What a store is, for the pages that explain it and the layer's choices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Traits {
    /// It keeps sessions the server can list and end (rows), so it has an index.
    pub keeps_sessions: bool,
    /// The session's data lives with the store and the cookie only names it, so the limit it
    /// meets is `session_max_bytes`, not the browser's 4096 bytes.
    pub holds_data: bool,
    /// Ending a session (logout) also kills every copy of its cookie: the server deletes what
    /// the cookie points to, or records the session as revoked.
    pub ends_copies: bool,
    /// How it revokes sessions early, where that is a choice (cookie mode).
    pub revocation: Option<Revocation>,
}

/// What a store could not do.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The backend cannot be reached (it is down, the pool timed out, or this browser's outage
    /// lab has cut it off): the page answers 503.
    #[error("session store unavailable: {0}")]
    Unavailable(Unavailable),
    /// The backend answered with an error we did not expect.
    #[error("session store query failed")]
    Query(#[source] sqlx::Error),
    /// The session could not be encoded for its key.
    #[error("session could not be encoded")]
    Encode(#[from] serde_json::Error),
    /// A record without what this store needs, or an index asked of a store without one (a bug).
    #[error("invalid use of the session store: {0}")]
    Invalid(&'static str),
}

pub use crate::unavailable::Unavailable;

/// What a store files a session id under at rest: its SHA-256, in hex. Never the id itself, the
/// credential the cookie carries, so a copy of the store (a dump, a replica, a backup) opens no
/// session — as Rails has stored `private_id` since CVE-2019-16782.
pub fn at_rest(id: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(id.as_bytes()))
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if crate::unavailable::is_unavailable(&e) {
            StoreError::Unavailable(Unavailable::Database(e))
        } else {
            StoreError::Query(e)
        }
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

/// One kept session as the teacher's table shows it: never its key, which is the credential.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct KeptSession {
    /// The row's public name (random, see the migration), safe to show.
    pub handle: i64,
    pub user_id: Option<i64>,
    /// The session's data as the store keeps it, in bytes.
    pub bytes: i32,
    pub created_at: OffsetDateTime,
    /// The last sliding refresh, which is not the last request.
    pub updated_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub absolute_expires_at: OffsetDateTime,
    /// The session of the request that asked.
    pub current: bool,
}

/// Where sessions live. See the module's documentation.
#[rocket::async_trait]
pub trait SessionStore: Send + Sync {
    /// What this store is.
    fn traits(&self) -> Traits;

    /// The key `record` is filed under, which its cookie carries: its current key, or with
    /// `renew` (a login) a new one — a store that names sessions by a random id sets
    /// `record.id`; a store whose key is the record itself encodes it. Pure: no round trip.
    ///
    /// # Errors
    /// A record that cannot be encoded.
    fn key(&self, record: &mut Record, renew: bool) -> Result<String, StoreError>;

    /// The name the store files `record` under at rest (a row's key, a Redis key), where that is
    /// not the cookie's: what the inspector shows beside the id. Pure: no round trip.
    fn filed_under(&self, _record: &Record) -> Option<String> {
        None
    }

    /// Whether `op` needs a round trip to the store's backend, or is answered from what the store
    /// is given (a cookie store's load). An outage cuts off only the former.
    fn reaches_backend(&self, op: Op<'_>) -> bool;

    /// The session filed under `key`, or why there is none. The store checks what it keeps of the
    /// deadlines; the layer checks both deadlines again from the record.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the backend cannot be reached.
    async fn load(&self, key: &str, now: OffsetDateTime) -> Result<Done<Loaded>, StoreError>;

    /// Persists the request's one write.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the backend cannot be reached.
    async fn save(&self, write: Write<'_>) -> Result<Done<Saved>, StoreError>;

    /// A user's sessions that have not expired, most recently used first; `current` is the key
    /// of the session asking. Only a store that keeps sessions has an index: the others answer
    /// [`StoreError::Invalid`] (check [`Traits::keeps_sessions`] first).
    ///
    /// # Errors
    /// As [`SessionStore::load`].
    async fn list_user(
        &self,
        _user_id: i64,
        _current: Option<&str>,
        _now: OffsetDateTime,
    ) -> Result<Done<Vec<SessionSummary>>, StoreError> {
        Err(StoreError::Invalid("this store keeps no sessions to list"))
    }

    /// Ends one of the user's sessions by its handle, returning the name it was filed under
    /// ([`SessionStore::filed_under`], or its key where the store files it under the key); a
    /// handle of someone else's session ends nothing.
    ///
    /// # Errors
    /// As [`SessionStore::list_user`].
    async fn end_user_session(
        &self,
        _user_id: i64,
        _handle: i64,
    ) -> Result<Done<Option<String>>, StoreError> {
        Err(StoreError::Invalid("this store keeps no sessions to end"))
    }

    /// Ends every session of the user except the one under `keep`, returning how many ended.
    ///
    /// # Errors
    /// As [`SessionStore::list_user`].
    async fn end_user_others(
        &self,
        _user_id: i64,
        _keep: Option<&str>,
    ) -> Result<Done<u64>, StoreError> {
        Err(StoreError::Invalid("this store keeps no sessions to end"))
    }

    /// Every kept session, most recently refreshed first, expired ones not yet swept included.
    ///
    /// # Errors
    /// As [`SessionStore::list_user`].
    async fn list_all(&self, _current: Option<&str>) -> Result<Done<Vec<KeptSession>>, StoreError> {
        Err(StoreError::Invalid("this store keeps no sessions to list"))
    }

    /// Ends every kept session but the one under `keep`, returning how many ended.
    ///
    /// # Errors
    /// As [`SessionStore::list_user`].
    async fn end_all(&self, _keep: Option<&str>) -> Result<Done<u64>, StoreError> {
        Err(StoreError::Invalid("this store keeps no sessions to end"))
    }

    /// Whether the store keeps expired entries until they are swept (a table does; a store that
    /// expires its own keys, or keeps nothing, does not).
    fn sweeps(&self) -> bool {
        false
    }

    /// Deletes what expired by `now`, returning how many entries went.
    ///
    /// # Errors
    /// As [`SessionStore::load`].
    async fn sweep(&self, _now: OffsetDateTime) -> Result<u64, StoreError> {
        Ok(0)
    }
}

/// A reference to a store is a store: decorators wrap `&dyn SessionStore` for one request
/// without moving or copying the store the app keeps.
#[rocket::async_trait]
impl<S: SessionStore + ?Sized> SessionStore for &S {
    fn traits(&self) -> Traits {
        (**self).traits()
    }
    fn key(&self, record: &mut Record, renew: bool) -> Result<String, StoreError> {
        (**self).key(record, renew)
    }
    fn filed_under(&self, record: &Record) -> Option<String> {
        (**self).filed_under(record)
    }
    fn reaches_backend(&self, op: Op<'_>) -> bool {
        (**self).reaches_backend(op)
    }
    async fn load(&self, key: &str, now: OffsetDateTime) -> Result<Done<Loaded>, StoreError> {
        (**self).load(key, now).await
    }
    async fn save(&self, write: Write<'_>) -> Result<Done<Saved>, StoreError> {
        (**self).save(write).await
    }
    async fn list_user(
        &self,
        user_id: i64,
        current: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<Done<Vec<SessionSummary>>, StoreError> {
        (**self).list_user(user_id, current, now).await
    }
    async fn end_user_session(
        &self,
        user_id: i64,
        handle: i64,
    ) -> Result<Done<Option<String>>, StoreError> {
        (**self).end_user_session(user_id, handle).await
    }
    async fn end_user_others(
        &self,
        user_id: i64,
        keep: Option<&str>,
    ) -> Result<Done<u64>, StoreError> {
        (**self).end_user_others(user_id, keep).await
    }
    async fn list_all(&self, current: Option<&str>) -> Result<Done<Vec<KeptSession>>, StoreError> {
        (**self).list_all(current).await
    }
    async fn end_all(&self, keep: Option<&str>) -> Result<Done<u64>, StoreError> {
        (**self).end_all(keep).await
    }
    fn sweeps(&self) -> bool {
        (**self).sweeps()
    }
    async fn sweep(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        (**self).sweep(now).await
    }
}
