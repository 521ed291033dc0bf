//! One session as every part of the layer sees it — the record a store files, its two deadlines —
//! and why a session cookie that came was not used.

use serde_json::{Map, Value};
use time::OffsetDateTime;

/// One session, whatever store keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// The session's random id, where its store names it one: server mode's row id (the key the
    /// cookie carries), cookie mode's name for the deny-list. `None` where nothing needs one.
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

    /// The size `session_max_bytes` is measured in: the map serialized as compact JSON. Not
    /// PostgreSQL's own figure for the `jsonb` column (its binary form, maybe compressed), but
    /// the one a write is refused by, so the pages that show it and the 413 agree.
    ///
    /// # Errors
    /// A map that cannot be serialized (not expected: it came from JSON).
    pub fn data_bytes(&self) -> Result<usize, serde_json::Error> {
        serde_json::to_vec(&self.data).map(|json| json.len())
    }
}

/// The two moments a session ends, computed by the layer from its settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
    /// Redis mode: the key is gone before its idle deadline could have passed — evicted, flushed,
    /// or lost in a restart without persistence. A cache is not permanent storage.
    Evicted,
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
            Refusal::Evicted => "evicted",
            Refusal::ExpiredIdle => "expired-idle",
            Refusal::ExpiredAbsolute => "expired-absolute",
            Refusal::OldEpoch => "old-epoch",
            Refusal::Revoked => "revoked",
            Refusal::AccountChanged => "account-changed",
        }
    }
}
