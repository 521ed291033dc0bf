//! "What just happened": a report of what one request did to the session — loaded or refused,
//! what changed, where it was saved, the statements it ran — and what crossed the wire: the
//! request's `Cookie` header (names and sizes) and every `Set-Cookie` line of the response.
//!
//! Every page shows the report of its own request. A POST (or a refused session) answers with a
//! redirect, and the page the browser lands on could not know what the POST did — so the fairing
//! keeps the report in this process's memory under a random token for a short while
//! (`report_keep_seconds`, at most `report_max_kept` of them), and hands the browser only that
//! token, sealed, in a cookie of its own (`report_<mode>`, about 80 bytes): the page that lands
//! takes the report out and removes the cookie. That is Django's one-time messages, with the
//! message kept on the server so its cookie never dwarfs the session cookie it reports on. It is no
//! session write, creates no row, works without PostgreSQL, and only the browser holding the
//! sealed token can read it. A report that is gone (kept too long, a restart, another instance)
//! is said to be gone.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use base64::Engine;
use rand::Rng;
use serde::{Deserialize, Serialize};

use super::layer::{Inner, Outgoing, SessionLayer};
use super::store::{Change, Refusal};
use crate::cookies::{browser_size, CookieConfig};

/// One request's effect on the session, in facts a page turns into sentences.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Report {
    /// `POST /color`, or the page's own method and path.
    pub request: String,
    /// `none`, `hit` or `miss`, as in `Session-Trace`.
    pub load: String,
    /// Whether the request opened the session at all (`load=none` also when it never did).
    pub opened: bool,
    /// Whether a session cookie came with the request.
    pub cookie_came: bool,
    /// Why the cookie was refused, by its trace name (`unknown`, …).
    pub refused: Option<String>,
    /// The refusal in words.
    pub refused_why: Option<String>,
    /// What the store was asked to do: `insert`, `update`, `refresh`, `delete`, `replace`.
    pub change: Option<String>,
    /// Whether that change was kept (false: the session ended meanwhile, or the store failed).
    pub kept: bool,
    /// Session keys added, changed or removed.
    pub keys: Vec<String>,
    /// `in` (with the name, when the session holds it) or `out`: the account the session
    /// belongs to changed — not a key, so said in words.
    pub account: Option<(String, Option<String>)>,
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
    /// Cookie mode, after the session ended: until when an unused copy of the cookie still
    /// works (its idle deadline), and the latest it can work however it is used (the absolute).
    /// Each as (in words, exact).
    pub copy_valid_until: Option<((String, String), (String, String))>,
    /// The mode's name (`server` / `cookie`), for /compare's two reports side by side.
    pub mode: String,
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
    cookies: &CookieConfig,
    layer: &SessionLayer,
) -> Report {
    let cookie_name = cookies.session;
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
        load: load(inner).to_string(),
        opened: inner.loaded,
        cookie_came: inner.cookie_came,
        refused: inner.refused.map(|r| r.as_str().to_string()),
        refused_why: inner.refused.map(|r| r.in_words().to_string()),
        kept: change.is_some(),
        change,
        keys: changed_keys(inner),
        account: account_change(inner),
        statements: inner.statements.count,
        cookie,
        cookie_name: cookie_name.to_string(),
        cookie_bytes,
        server_keeps_sessions: layer.keeps_sessions(),
        ends_copies: layer.ends_copies(),
        notes: inner.notes.clone(),
        copy_valid_until: None,
        mode: cookies.mode.as_str().to_string(),
    }
}

/// Whether the session's account changed: logged in (as whom, when the map says) or out.
fn account_change(inner: &Inner) -> Option<(String, Option<String>)> {
    let user_before = inner.stored.as_ref().and_then(|r| r.user_id);
    let after = inner.current.as_ref();
    let user_after = after.and_then(|r| r.user_id);
    match (user_before, user_after) {
        (b, Some(a)) if b != Some(a) => {
            let name = after
                .and_then(|r| r.data.get(crate::login_keys::USERNAME))
                .and_then(|v| v.as_str())
                .map(str::to_string);
            Some(("in".into(), name))
        }
        (Some(_), None) => Some(("out".into(), None)),
        _ => None,
    }
}

/// `Session-Trace`'s `load`: `miss` also when a cookie came that the store could not check.
pub(super) fn load(inner: &Inner) -> &'static str {
    match (&inner.refused, &inner.stored) {
        (Some(_), _) => "miss",
        (None, Some(_)) => "hit",
        (None, None) if inner.cookie_came && !inner.loaded => "miss",
        (None, None) => "none",
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
            // `miss` without a refusal is a cookie the store could not check (below).
            "miss" if self.refused.is_some() => out.push_str(&format!(
                "Your browser sent a <code>{name}</code> cookie; the server refused it because {} \
                 (<code>refused={}</code>), and told the browser to delete it. ",
                escape(self.refused_why.as_deref().unwrap_or("")),
                escape(self.refused.as_deref().unwrap_or(""))
            )),
            "hit" => out.push_str(&format!(
                "The server loaded your session from the <code>{name}</code> cookie{}. ",
                if rows { " and its row" } else { "" }
            )),
            _ if self.cookie_came && !self.opened => out.push_str(&format!(
                "Your browser sent a <code>{name}</code> cookie, but the server could not check \
                 it: its store could not be reached, so the cookie was neither used nor \
                 refused. "
            )),
            _ if !self.opened => out.push_str("The session was not opened. "),
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
                    "It ended your session: its row was deleted, so a copy of the old cookie is \
                     now refused (<code>refused=unknown</code>). ",
                );
            } else if self.ends_copies {
                out.push_str(
                    "It ended your session: its id went on the deny-list and your browser was \
                     told to drop its cookie — a copy of it is refused from now on. ",
                );
            } else {
                out.push_str(
                    "It ended your session: your browser was told to drop its cookie — but a copy \
                     of it would still work",
                );
                if let Some((idle, absolute)) = &self.copy_valid_until {
                    let time = |(words, exact): &(String, String)| {
                        format!("<time title=\"{}\">{}</time>", escape(exact), escape(words))
                    };
                    out.push_str(&format!(
                        " until its idle deadline, {}, if left unused (each use pushes that on), \
                         and never past its absolute deadline, {}",
                        time(idle),
                        time(absolute)
                    ));
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
            for key in &self.keys {
                if let Some(why) = key_in_words(key) {
                    out.push_str(why);
                    out.push(' ');
                }
            }
        }
        match &self.account {
            Some((way, Some(name))) if way == "in" => {
                out.push_str(&format!("You are now logged in as {}. ", escape(name)))
            }
            Some((way, None)) if way == "in" => out.push_str("You are now logged in. "),
            Some(_) => out.push_str("You are no longer logged in. "),
            None => {}
        }
        if self.opened && self.change.is_none() && self.cookie.is_none() && self.load != "miss" {
            out.push_str("Your session did not change. ");
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

/// Where a page's footer shows its own exchange: known only once the response is complete, so
/// the session fairing writes it in, on pages that asked for it ([`ShowsExchange`]).
pub const EXCHANGE_MARKER: &str = "<!--session-lab:this-exchange-->";

/// Per-request flag: this response is a page whose footer has [`EXCHANGE_MARKER`].
#[derive(Default)]
pub struct ShowsExchange(pub std::sync::atomic::AtomicBool);

/// How many characters of a cookie's value an exchange shows: enough to see it change.
const VALUE_SHOWN: usize = 24;

/// What crossed the wire for one request, as devtools' Network tab shows it: the `Cookie` header's
/// cookies by name and size (never their values), and every `Set-Cookie` line of the response.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Exchange {
    /// The response's status.
    pub status: u16,
    /// Each cookie of the request's `Cookie` header: its name and its size (name + value).
    pub sent: Vec<(String, usize)>,
    /// Each `Set-Cookie` line, its value cut past [`VALUE_SHOWN`] characters, with the cookie's
    /// name and size (name + value) apart.
    pub answered: Vec<SetCookieLine>,
    /// The session cookies' names (this mode's, and the sibling's in `--mode both`), told apart
    /// from the others.
    pub session_names: Vec<String>,
}

/// One `Set-Cookie` line as the page shows it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct SetCookieLine {
    pub name: String,
    /// Name + value, as the browser counts it; 0 for a removal.
    pub bytes: usize,
    /// The whole line, the value cut.
    pub line: String,
}

impl Exchange {
    /// The exchange of a request with these `Cookie` headers and a response with these
    /// `Set-Cookie` lines.
    pub fn read<'a>(
        status: u16,
        cookie_headers: impl Iterator<Item = &'a str>,
        set_cookies: impl Iterator<Item = &'a str>,
        session_names: Vec<String>,
    ) -> Exchange {
        let sent = cookie_headers
            .flat_map(|h| h.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .map(|(n, v)| (n.to_string(), browser_size(n, v)))
            .collect();
        let answered = set_cookies
            .map(|line| {
                let (pair, attributes) = line.split_once(';').unwrap_or((line, ""));
                let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
                let shown = match value.char_indices().nth(VALUE_SHOWN) {
                    Some((cut, _)) => format!("{}…", &value[..cut]),
                    None => value.to_string(),
                };
                let attributes = if attributes.is_empty() {
                    String::new()
                } else {
                    format!(";{attributes}")
                };
                SetCookieLine {
                    name: name.to_string(),
                    bytes: browser_size(name, value),
                    line: format!("{name}={shown}{attributes}"),
                }
            })
            .collect();
        Exchange {
            status,
            sent,
            answered,
            session_names,
        }
    }

    /// The exchange in words, as HTML with every value escaped.
    pub fn story(&self) -> String {
        let is_session = |name: &str| self.session_names.iter().any(|n| n == name);
        let mut out = String::with_capacity(512);
        out.push_str("<span class=\"wire\">On the wire: ");
        let (session, other): (Vec<_>, Vec<_>) = self.sent.iter().partition(|(n, _)| is_session(n));
        let list = |cookies: &[&(String, usize)]| {
            cookies
                .iter()
                .map(|(n, b)| format!("<code>{}</code> ({b} bytes)", escape(n)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        if self.sent.is_empty() {
            out.push_str("the request's <code>Cookie</code> header was absent (no cookies came)");
        } else {
            out.push_str("the request's <code>Cookie</code> header carried ");
            if session.is_empty() {
                out.push_str("no session cookie");
            } else {
                out.push_str("the session cookie ");
                out.push_str(&list(&session));
            }
            if !other.is_empty() {
                out.push_str(" and besides it ");
                out.push_str(&list(&other));
            }
            out.push_str(" (sizes are name + value)");
        }
        let reason = rocket::http::Status::from_code(self.status).map_or("", |s| s.reason_lossy());
        out.push_str(&format!(
            "; the response, status {} {reason}, ",
            self.status
        ));
        if self.answered.is_empty() {
            out.push_str("sent no <code>Set-Cookie</code> line.</span>");
            return out;
        }
        let n = self.answered.len();
        out.push_str(&format!(
            "sent {n} <code>Set-Cookie</code> line{}:</span><ul class=\"wire\">",
            if n == 1 { "" } else { "s" }
        ));
        // The session cookie first, then the others, each in the order sent.
        let ordered = self
            .answered
            .iter()
            .filter(|l| is_session(&l.name))
            .chain(self.answered.iter().filter(|l| !is_session(&l.name)));
        for l in ordered {
            let what = if is_session(&l.name) {
                "session cookie"
            } else {
                "not the session"
            };
            let size = if l.line.contains("Max-Age=0") {
                "removes it".to_string()
            } else {
                format!("{} bytes", l.bytes)
            };
            out.push_str(&format!(
                "<li><code>Set-Cookie: {}</code> <small>({what}, {size})</small></li>",
                escape(&l.line)
            ));
        }
        out.push_str("</ul>");
        out
    }
}

/// What the page after a redirect is told: the request's report, the sibling mode's in
/// `--mode both` (when the request used it), and the exchange.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Told {
    pub own: Report,
    pub sibling: Option<Report>,
    pub exchange: Exchange,
}

/// Managed state: the reports waiting for the page a redirect lands on, by token. Bounded in
/// time (`report_keep_seconds`) and in number (`report_max_kept`, the oldest dropped first), so a
/// flood of POSTs that never follow their redirects costs a fixed amount of memory.
pub struct ReportShelf {
    keep: Duration,
    max: usize,
    shelf: std::sync::Mutex<Shelf>,
}

#[derive(Default)]
struct Shelf {
    by_token: HashMap<String, (Instant, Told)>,
    /// Tokens in the order they were kept, which is also their expiry order. A token already
    /// taken stays here until it reaches the front; the queue is held to twice `max`.
    order: VecDeque<(Instant, String)>,
}

impl ReportShelf {
    pub fn new(keep_seconds: u64, max: usize) -> ReportShelf {
        ReportShelf {
            keep: Duration::from_secs(keep_seconds),
            max,
            shelf: std::sync::Mutex::default(),
        }
    }

    /// A new token: 128 random bits, base64url — unguessable, and sealed in its cookie besides.
    pub fn new_token() -> String {
        let mut bytes = [0u8; 16];
        rand::rng().fill_bytes(&mut bytes);
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }

    /// Keeps `told` under `token`, dropping what has expired and, past `report_max_kept`, the
    /// oldest. False when nothing may be kept (`report_max_kept = 0`, or a panic poisoned the
    /// shelf): the landing page then says the report is gone.
    pub fn keep(&self, token: String, told: Told) -> bool {
        if self.max == 0 {
            return false;
        }
        let now = Instant::now();
        let Ok(mut shelf) = self.shelf.lock() else {
            return false;
        };
        let Shelf { by_token, order } = &mut *shelf;
        while let Some((at, old)) = order.front() {
            let expired = now.duration_since(*at) >= self.keep;
            if !expired && by_token.len() < self.max && order.len() < 2 * self.max {
                break;
            }
            by_token.remove(old);
            order.pop_front();
        }
        order.push_back((now, token.clone()));
        by_token.insert(token, (now, told));
        true
    }

    /// Takes the report kept under `token`, once. `None` when it is gone: older than
    /// `report_keep_seconds`, pushed out by newer ones, or kept by another process.
    pub fn take(&self, token: &str) -> Option<Told> {
        let mut shelf = self.shelf.lock().ok()?;
        let (at, told) = shelf.by_token.remove(token)?;
        (at.elapsed() < self.keep).then_some(told)
    }

    /// How many reports are kept now.
    pub fn len(&self) -> usize {
        self.shelf.lock().map_or(0, |s| s.by_token.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What the keys a login writes are for, said where they appear (a student sees them in the map
/// and would otherwise find them explained only in the README).
fn key_in_words(key: &str) -> Option<&'static str> {
    use crate::login_keys as keys;
    match key {
        keys::AUTH_HASH => Some(
            "<code>auth_hash</code> is a keyed hash of your password's hash at login (Django's \
             <code>_auth_user_hash</code>): once the password changes it no longer matches, and \
             the session ends.",
        ),
        keys::SESSION_EPOCH => Some(
            "<code>session_epoch</code> is your account's sign-out counter at login: \
             \"sign out everywhere else\" can raise it, and a session stamped with an older one \
             is then refused.",
        ),
        keys::USERNAME => Some(
            "<code>username</code> is kept so that every page's header can name you without a \
             query.",
        ),
        _ => None,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn told(request: &str) -> Told {
        Told {
            own: Report {
                request: request.into(),
                ..Report::default()
            },
            ..Told::default()
        }
    }

    #[test]
    fn a_kept_report_is_taken_once() {
        let shelf = ReportShelf::new(60, 10);
        let token = ReportShelf::new_token();
        assert_eq!(token.len(), 22, "128 bits, base64url");
        assert!(shelf.keep(token.clone(), told("POST /color")));
        assert_eq!(
            shelf.take(&token).map(|t| t.own.request),
            Some("POST /color".into())
        );
        assert!(shelf.take(&token).is_none());
        assert!(shelf.is_empty());
    }

    #[test]
    fn past_its_bound_the_shelf_drops_the_oldest() {
        let shelf = ReportShelf::new(60, 3);
        let tokens: Vec<String> = (0..5).map(|_| ReportShelf::new_token()).collect();
        for (i, t) in tokens.iter().enumerate() {
            shelf.keep(t.clone(), told(&format!("POST /{i}")));
        }
        assert_eq!(shelf.len(), 3);
        assert!(shelf.take(&tokens[0]).is_none());
        assert!(shelf.take(&tokens[1]).is_none());
        assert!(shelf.take(&tokens[4]).is_some());
    }

    #[test]
    fn nothing_is_kept_with_a_bound_of_zero() {
        let shelf = ReportShelf::new(60, 0);
        assert!(!shelf.keep(ReportShelf::new_token(), told("POST /color")));
        assert!(shelf.is_empty());
    }

    #[test]
    fn the_exchange_cuts_values_and_sizes_cookies_by_name_and_value() {
        let value = "A".repeat(100);
        let line = format!("session_id={value}; HttpOnly; SameSite=Lax; Path=/");
        let x = Exchange::read(
            303,
            ["session_id=abc; csrf_server=xyz"].into_iter(),
            [line.as_str(), "report_server=; Max-Age=0"].into_iter(),
            vec!["session_id".into()],
        );
        assert_eq!(
            x.sent,
            vec![("session_id".into(), 13), ("csrf_server".into(), 14)]
        );
        assert_eq!(x.answered[0].bytes, 10 + 100);
        assert_eq!(
            x.answered[0].line,
            format!(
                "session_id={}…; HttpOnly; SameSite=Lax; Path=/",
                "A".repeat(24)
            )
        );
        let story = x.story();
        assert!(story.contains("status 303 See Other"), "{story}");
        assert!(story.contains("(session cookie, 110 bytes)"), "{story}");
        assert!(story.contains("(not the session, removes it)"), "{story}");
    }
}
