//! What the session layer did for one request, in a few plain facts, for whoever watches requests
//! after the session fairing (the exercises). Left in `req.local_cache` by the fairing for the
//! requests of a learner (a browser with a learner cookie) only; reading it changes nothing, and
//! no part of the session depends on it.

use super::layer::{Inner, Outgoing};
use super::store::{Change, Refusal};

/// One request's session facts. Cheap to make: copies of a few fields, and the data's size only
/// when the request wrote it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Observed {
    /// The fairing ran for this request (false: the default, nothing was observed).
    pub seen: bool,
    /// A session cookie came and opened to a live session.
    pub hit: bool,
    /// A session cookie came and was refused, and why.
    pub refused: Option<Refusal>,
    /// The handler read or wrote the session.
    pub accessed: bool,
    /// The account the session was logged in to when the request came, and when it left.
    pub user_before: Option<i64>,
    pub user_after: Option<i64>,
    /// The session was created by this request (its first cookie).
    pub inserted: bool,
    /// New data (or a new identity) was saved: an insert, update or replace that was kept.
    pub saved: bool,
    /// The session that came was ended (logout, emptied).
    pub ended: bool,
    /// The session's data as JSON, in bytes, after a saved write.
    pub data_bytes: Option<usize>,
    /// The response sets a new session cookie, and its size as the browser counts it.
    pub cookie_sent: Option<usize>,
    /// The response removes the session cookie.
    pub cookie_removed: bool,
}

impl Observed {
    /// The facts of `inner` once the fairing decided the request's `save` (`none`, `write`,
    /// `delete`), before the cookie leaves.
    pub(super) fn of(inner: &Inner, save: &str) -> Observed {
        let change = inner.change();
        let saved = save == "write"
            && matches!(
                change,
                Some(Change::Insert(_) | Change::Update(_) | Change::Replace { .. })
            );
        Observed {
            seen: true,
            hit: inner.refused.is_none() && inner.stored.is_some(),
            refused: inner.refused,
            accessed: inner.accessed,
            user_before: inner.stored.as_ref().and_then(|r| r.user_id),
            user_after: inner.current.as_ref().and_then(|r| r.user_id),
            inserted: saved && matches!(change, Some(Change::Insert(_))),
            saved,
            ended: save == "delete" && matches!(change, Some(Change::Delete(_))),
            data_bytes: match (&inner.current, saved) {
                (Some(r), true) => serde_json::to_vec(&r.data).ok().map(|v| v.len()),
                _ => None,
            },
            cookie_sent: match &inner.outgoing {
                Outgoing::Set(c) => Some(c.name().len() + c.value().len()),
                _ => None,
            },
            cookie_removed: matches!(inner.outgoing, Outgoing::Remove),
        }
    }
}
