//! "What just happened": a report of what one request did to the session — loaded or refused,
//! what changed, where it was saved, the statements it ran, the cookie it sent.
//!
//! Every page shows the report of its own request. A POST (or a refused session) answers with a
//! redirect, and the page the browser lands on could not know what the POST did — so the fairing
//! hands the report over in a short-lived cookie of its own (`report_<mode>`, sealed, read and
//! removed by the next page). That is the way Django's messages framework keeps one-time messages
//! in a cookie: it is no session write, creates no row, and a page view adds nothing.

use serde::{Deserialize, Serialize};

use super::layer::{Inner, Outgoing, SessionLayer};
use super::store::{Change, Refusal};

/// One request's effect on the session, in facts a page turns into sentences.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Report {
    /// `POST /color`, or the page's own method and path.
    pub request: String,
    /// `none`, `hit` or `miss`, as in `Session-Trace`.
    pub load: String,
    /// Why the cookie was refused, by its trace name (`unknown`, …).
    pub refused: Option<String>,
    /// The refusal in words.
    pub refused_why: Option<String>,
    /// What the store was asked to do: `insert`, `update`, `refresh`, `delete`, `replace`.
    pub change: Option<String>,
    /// Whether that change was kept (false: the session ended meanwhile, or the store failed).
    pub kept: bool,
    /// Session keys added, changed or removed, and `login` / `logout` for the account.
    pub keys: Vec<String>,
    /// SQL statements run for the session and login state (`Session-Trace`'s `queries`).
    pub statements: u32,
    /// The session cookie sent back: `set` (a new value) or `removed`.
    pub cookie: Option<String>,
    pub cookie_name: String,
    /// Its size as the browser counts it (name + value), when set.
    pub cookie_bytes: Option<usize>,
    /// Whether the server keeps sessions as rows (the words for where a change was saved).
    pub server_keeps_sessions: bool,
    /// Whether ending the session also killed every copy of its cookie.
    pub ends_copies: bool,
    /// What the handler said about it in words (logout, sign-outs).
    pub notes: Vec<String>,
    /// Cookie mode, after the session ended: until when a copy of the cookie still works.
    pub copy_valid_until: Option<String>,
}

impl Report {
    /// Whether the next page should hear about this request: it changed or refused something.
    pub fn worth_telling(&self) -> bool {
        self.change.is_some()
            || self.refused.is_some()
            || self.cookie.is_some()
            || !self.notes.is_empty()
    }
}

impl Refusal {
    /// The refusal in words, for the pages.
    pub fn in_words(self) -> &'static str {
        match self {
            Refusal::Undecryptable => {
                "it does not decrypt with this server's key: it was changed (tampered with), cut \
                 short, or sealed by another server"
            }
            Refusal::Malformed => "it decrypts, but does not hold a session this app wrote",
            Refusal::Unknown => {
                "no session has its id any more: it was logged out, signed out from elsewhere, or \
                 cleaned up after it expired"
            }
            Refusal::ExpiredIdle => "it went unused for longer than the idle timeout",
            Refusal::ExpiredAbsolute => {
                "it is older than the absolute timeout, which holds however active a session is"
            }
            Refusal::OldEpoch => "your account signed out everywhere after this cookie was sealed",
            Refusal::AccountChanged => {
                "the account it was logged in to is not the same any more: its password changed, \
                 or the users table was replaced"
            }
            Refusal::Revoked => {
                "it was logged out: the server recorded its session id on the deny-list, and \
                 checks that list on every request"
            }
        }
    }
}

/// The facts of `inner` before the fairing commits: what the page can already say about itself.
pub(super) fn draft(
    inner: &Inner,
    request: String,
    cookie_name: &str,
    layer: &SessionLayer,
) -> Report {
    // A cookie session has no id to replace: its new identity at login is a new issued-at.
    let renewed = match (&inner.stored, &inner.current) {
        (Some(before), Some(after)) => before.created_at != after.created_at,
        _ => false,
    };
    let change = inner.change().map(|c| {
        match c {
            Change::Update(_) if renewed => "replace",
            Change::Insert(_) => "insert",
            Change::Update(_) => "update",
            Change::Touch(_) => "refresh",
            Change::Delete(_) => "delete",
            Change::Replace { .. } => "replace",
        }
        .to_string()
    });
    let (cookie, cookie_bytes) = match &inner.outgoing {
        Outgoing::Keep => (None, None),
        Outgoing::Set(c) => (
            Some("set".to_string()),
            Some(c.name().len() + c.value().len()),
        ),
        Outgoing::Remove => (Some("removed".to_string()), None),
    };
    Report {
        request,
        load: match (&inner.refused, &inner.stored) {
            (Some(_), _) => "miss",
            (None, Some(_)) => "hit",
            (None, None) => "none",
        }
        .to_string(),
        refused: inner.refused.map(|r| r.as_str().to_string()),
        refused_why: inner.refused.map(|r| r.in_words().to_string()),
        kept: change.is_some(),
        change,
        keys: changed_keys(inner),
        statements: inner.statements.count,
        cookie,
        cookie_name: cookie_name.to_string(),
        cookie_bytes,
        server_keeps_sessions: layer.keeps_sessions(),
        ends_copies: layer.ends_copies(),
        notes: inner.notes.clone(),
        copy_valid_until: None,
    }
}

/// Keys whose values differ between the session as it came and as it leaves.
fn changed_keys(inner: &Inner) -> Vec<String> {
    let empty = serde_json::Map::new();
    let before = inner.stored.as_ref().map_or(&empty, |r| &r.data);
    let after = inner.current.as_ref().map_or(&empty, |r| &r.data);
    let mut keys: Vec<String> = before
        .iter()
        .filter(|(k, v)| after.get(*k) != Some(*v))
        .map(|(k, _)| k.clone())
        .chain(after.keys().filter(|k| !before.contains_key(*k)).cloned())
        .collect();
    keys.sort();
    let user_before = inner.stored.as_ref().and_then(|r| r.user_id);
    let user_after = inner.current.as_ref().and_then(|r| r.user_id);
    match (user_before, user_after) {
        (b, Some(a)) if b != Some(a) => keys.push("login".into()),
        (Some(_), None) => keys.push("logout".into()),
        _ => {}
    }
    keys
}
