//! A request's report and its exchange in words: the facts of a [`Summary`] and an [`Exchange`]
//! handed to the two templates that word them (`templates/report.html`, `templates/exchange.html`),
//! which askama compiles at build time. The wording lives in the templates; here is only what a
//! template cannot work out for itself (times in words, what each changed key is for, the refusal
//! in words).

use askama::Template;
use time::OffsetDateTime;

use super::words;
use crate::cookies::wire::SentCookie;
use crate::cookies::Exchange;
use crate::session::summary::{AccountChange, Change, CookieAction, Load, Outcome};
use crate::session::Summary;

/// A time in words and exactly (for a `title` on hover).
type Said = (String, String);

/// One mode's report, as `templates/report.html` words it.
#[derive(Template)]
#[template(path = "report.html", escape = "html")]
struct Story<'a> {
    name: &'a str,
    rows: bool,
    /// Redis mode: the session is one Redis key.
    redis: bool,
    load: &'static str,
    refused: Option<crate::session::Refusal>,
    refused_code: &'static str,
    refused_why: &'static str,
    cookie_came: bool,
    opened: bool,
    change: &'static str,
    not_kept: bool,
    ends_copies: bool,
    copy: Option<(Said, Said)>,
    keys: Vec<(&'a str, Option<&'static str>)>,
    account: &'static str,
    account_name: Option<&'a str>,
    unchanged: bool,
    notes: &'a [String],
    statements: u32,
    redis_commands: u32,
    cookie: &'static str,
    cookie_bytes: usize,
}

/// `s` in words, as HTML; times relative to `now`.
pub fn story(s: &Summary, now: OffsetDateTime) -> String {
    let said = |t: OffsetDateTime| (crate::humanize::relative(t, now), crate::humanize::exact(t));
    let (account, account_name) = match &s.account {
        Some(AccountChange::In { name }) => ("in", name.as_deref()),
        Some(AccountChange::Out) => ("out", None),
        None => ("", None),
    };
    let (cookie, cookie_bytes) = match s.cookie {
        CookieAction::Keep => ("", 0),
        CookieAction::Set { bytes } => ("set", bytes),
        CookieAction::Remove => ("remove", 0),
    };
    let story = Story {
        name: s.cookie_name,
        rows: s.keeps_sessions,
        redis: s.mode == crate::settings::Mode::Redis,
        load: match s.load {
            Load::None => "none",
            Load::Hit => "hit",
            Load::Miss => "miss",
        },
        refused: s.refused,
        refused_code: s.refused.map_or("", |r| r.as_str()),
        refused_why: s.refused.map_or("", words::refusal),
        cookie_came: s.cookie_came,
        opened: s.opened,
        change: match s.change {
            None => "",
            Some(Change::Insert) => "insert",
            Some(Change::Update) => "update",
            Some(Change::Renew) => "renew",
            Some(Change::Refresh) => "refresh",
            Some(Change::Delete) => "delete",
        },
        not_kept: s.change.is_some() && !matches!(s.outcome, Outcome::Kept | Outcome::Pending),
        ends_copies: s.ends_copies,
        copy: s.copy_valid_until.map(|d| (said(d.idle), said(d.absolute))),
        keys: s.keys.iter().map(|k| (k.as_str(), words::key(k))).collect(),
        account,
        account_name,
        unchanged: s.opened
            && s.change.is_none()
            && s.cookie == CookieAction::Keep
            && s.load != Load::Miss,
        notes: &s.notes,
        statements: s.trips.sql,
        redis_commands: s.trips.redis,
        cookie,
        cookie_bytes,
    };
    render(&story)
}

/// What crossed the wire, as `templates/exchange.html` words it.
#[derive(Template)]
#[template(path = "exchange.html", escape = "html")]
struct Wire<'a> {
    x: &'a Exchange,
    sessions: Vec<&'a SentCookie>,
    others: Vec<&'a SentCookie>,
}

/// `x` in words, as HTML.
pub fn wire(x: &Exchange) -> String {
    render(&Wire {
        x,
        sessions: x.sent_sessions().collect(),
        others: x.sent_others().collect(),
    })
}

/// A compiled template's text; it can fail only where a value's `Display` fails, which none of
/// these does — should one, the page says less rather than failing.
fn render(template: &impl Template) -> String {
    template.render().unwrap_or_else(|e| {
        rocket::error!("report: a template did not render: {e}");
        String::new()
    })
}
