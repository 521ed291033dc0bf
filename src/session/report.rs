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

impl Report {
    /// The report in words, as HTML with every value escaped: built here once rather than by a
    /// template macro, which cost each page more than the whole session layer (BENCHMARKS.md).
    pub fn story(&self) -> String {
        let name = escape(&self.cookie_name);
        let rows = self.server_keeps_sessions;
        let mut out = String::with_capacity(512);
        match self.load.as_str() {
            "miss" => out.push_str(&format!(
                "Your browser sent a <code>{name}</code> cookie; the server refused it because {} \
                 (<code>refused={}</code>), and told the browser to delete it. ",
                escape(self.refused_why.as_deref().unwrap_or("")),
                escape(self.refused.as_deref().unwrap_or(""))
            )),
            "hit" => out.push_str(&format!(
                "The server loaded your session from the <code>{name}</code> cookie{}. ",
                if rows { " and its row" } else { "" }
            )),
            _ if self.change.is_some() => out.push_str("No session cookie came. "),
            _ => out.push_str("No session cookie came, so there was nothing to load. "),
        }
        out.push_str(match (self.change.as_deref(), rows) {
            (Some("insert"), true) => "It created a session: one <code>INSERT</code> of a new row. ",
            (Some("insert"), false) => "It created a session, sealed into a new cookie. ",
            (Some("update"), true) => "It changed your session: one <code>UPDATE</code> of its row. ",
            (Some("update"), false) => {
                "It changed your session: the whole map re-sealed into a new cookie. "
            }
            (Some("replace"), true) => {
                "It gave your session a new identity: one statement deleted the old row and \
                 inserted it again under a new random id. "
            }
            (Some("replace"), false) => {
                "It gave your session a new identity: a freshly sealed cookie with a new issued-at. "
            }
            (Some("refresh"), true) => {
                "It pushed the idle deadline forward (sliding expiry: at most once per half idle \
                 window): one <code>UPDATE</code> of the row's times. "
            }
            (Some("refresh"), false) => {
                "It pushed the idle deadline forward (sliding expiry: at most once per half idle \
                 window): a re-sealed cookie. "
            }
            _ => "",
        });
        if self.change.as_deref() == Some("delete") {
            if rows {
                out.push_str(
                    "It ended your session: its row was deleted — a copy of your cookie is now \
                     worthless. ",
                );
            } else if self.ends_copies {
                out.push_str(
                    "It ended your session: its id went on the deny-list and your browser was \
                     told to drop its cookie — a copy of it is refused from now on. ",
                );
            } else {
                out.push_str("It ended your session: your browser was told to drop its cookie — a copy of it would still work");
                if let Some(until) = &self.copy_valid_until {
                    out.push_str(&format!(" until {}", escape(until)));
                }
                out.push_str(", because the server kept nothing it could delete. ");
            }
        }
        if self.change.is_some() && !self.kept {
            out.push_str("<strong>That change was not kept.</strong> ");
        }
        if !self.keys.is_empty() {
            let keys: Vec<String> = self
                .keys
                .iter()
                .map(|k| format!("<code>{}</code>", escape(k)))
                .collect();
            out.push_str(&format!("Changed: {}. ", keys.join(", ")));
        }
        for note in &self.notes {
            out.push_str(&escape(note));
            out.push(' ');
        }
        out.push_str(&match self.statements {
            0 => "No SQL statement ran. ".to_string(),
            1 => "1 SQL statement ran. ".to_string(),
            n => format!("{n} SQL statements ran. "),
        });
        match (self.cookie.as_deref(), self.cookie_bytes) {
            (Some("set"), Some(bytes)) => out.push_str(&format!(
                "Sent <code>Set-Cookie: {name}=…</code>, {bytes} bytes (name + value)."
            )),
            (Some("removed"), _) => out.push_str(&format!(
                "Sent a <code>Set-Cookie</code> that removes <code>{name}</code>."
            )),
            _ => {}
        }
        out
    }
}

/// Escapes text for HTML the way the templates' autoescape does.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            '/' => out.push_str("&#x2F;"),
            c => out.push(c),
        }
    }
    out
}
