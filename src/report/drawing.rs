//! The exchange drawn: one request as a sequence diagram — browser → app → store → app → browser —
//! with each cookie of the `Cookie` header and each `Set-Cookie` line as an arrow as thick as its
//! bytes (a 4096-byte cookie is [`FULL`] units thick), the session cookie first, and what the
//! store was asked (`SELECT`, `INSERT`, `UPDATE`, `DELETE`, or nothing). Laid out here from the
//! same [`Summary`] and [`Exchange`] the words come from, and drawn by `templates/exchange.svg`,
//! which askama compiles at build time: no script, no drawing library, and an accessible name that
//! says the whole picture in words.

use askama::Template;

use crate::cookies::wire::{SentCookie, SetCookieLine};
use crate::cookies::{Exchange, COOKIE_LIMIT};
use crate::session::summary::{Change, Load, Outcome};
use crate::session::{Refusal, Summary};

/// The drawing's width in its own units: about a phone's column, so its text reads at about the
/// page's size there.
pub const WIDTH: f32 = 330.0;
/// Where each party's lifeline runs.
const BROWSER: f32 = 44.0;
const APP: f32 = 180.0;
const STORE: f32 = 284.0;
/// A cookie of the browsers' 4096-byte limit is this thick; a smaller one to scale, but never
/// thinner than [`THIN`] so that it can be seen at all.
pub const FULL: f32 = 16.0;
const THIN: f32 = 1.5;
/// A label's line above its arrow.
const LABEL: f32 = 14.0;

/// One arrow and its label.
struct Arrow {
    x1: f32,
    x2: f32,
    y: f32,
    /// Thickness.
    w: f32,
    /// The arrowhead's corners.
    head: String,
    /// `session`, `other`, `store` or `plain`: the colour, from the site's stylesheet.
    class: &'static str,
    dashed: bool,
    label: String,
    label_x: f32,
    label_y: f32,
}

/// A line of text on its own.
struct Note {
    x: f32,
    y: f32,
    text: &'static str,
}

#[derive(Template)]
#[template(path = "exchange.svg", escape = "html")]
struct Drawing<'a> {
    name: &'a str,
    width: f32,
    height: f32,
    lanes: [(f32, &'a str); 3],
    store_class: &'static str,
    life_end: f32,
    arrows: Vec<Arrow>,
    notes: Vec<Note>,
    legend_y: f32,
    full: f32,
}

/// To a tenth of a unit: enough for the eye, short in the page.
fn tenth(x: f32) -> f32 {
    (x * 10.0).round() / 10.0
}

/// The thickness that draws `bytes` to scale.
pub fn thickness(bytes: usize) -> f32 {
    tenth((bytes.min(COOKIE_LIMIT) as f32 * FULL / COOKIE_LIMIT as f32).max(THIN))
}

/// Lays arrows out top to bottom.
struct Rows {
    y: f32,
    arrows: Vec<Arrow>,
}

impl Rows {
    fn arrow(
        &mut self,
        (x1, x2): (f32, f32),
        w: f32,
        class: &'static str,
        dashed: bool,
        label: String,
    ) {
        let y = self.y + LABEL + w / 2.0;
        // The head is wider than the line, and the line stops where the head starts.
        let half = w / 2.0 + 3.5;
        let long = (half * 1.3).max(7.0);
        let back = if x2 > x1 { -long } else { long };
        let head = format!(
            "{},{} {},{} {},{}",
            x2,
            tenth(y),
            tenth(x2 + back),
            tenth(y - half),
            tenth(x2 + back),
            tenth(y + half)
        );
        let label_x = x1.min(x2) + 6.0;
        self.arrows.push(Arrow {
            x1,
            x2: tenth(x2 + back * 0.8),
            y: tenth(y),
            w,
            head,
            class,
            dashed,
            label,
            label_x,
            label_y: tenth(self.y + LABEL - 4.5),
        });
        self.y += LABEL + w + 5.0;
    }
}

/// What the store was asked for one summary, in order: (the statement, what came back).
fn store_steps(s: &Summary) -> Vec<(&'static str, &'static str)> {
    let mut steps = Vec::new();
    if !s.keeps_sessions {
        return steps;
    }
    // The row is looked up when the handler opened a session whose cookie decrypted to an id.
    let looked_up = s.cookie_came
        && s.opened
        && !matches!(s.refused, Some(Refusal::Undecryptable | Refusal::Malformed));
    if looked_up {
        let found = match (s.load, s.refused) {
            (Load::Hit, _) => "its row",
            (_, Some(Refusal::Unknown)) => "no row",
            (_, Some(Refusal::ExpiredIdle | Refusal::ExpiredAbsolute)) => "an expired row",
            _ => "its row",
        };
        steps.push(("SELECT", found));
    } else if s.cookie_came && !s.opened && s.load == Load::Miss {
        steps.push(("SELECT", "unreachable"));
    }
    let statement = match s.change {
        None => return steps,
        Some(Change::Insert) => "INSERT",
        Some(Change::Update) => "UPDATE",
        Some(Change::Renew) => "DELETE + INSERT",
        Some(Change::Refresh) => "UPDATE (times)",
        Some(Change::Delete) => "DELETE",
    };
    let result = match s.outcome {
        Outcome::Kept | Outcome::Pending => "done",
        Outcome::Gone => "no row: not kept",
        Outcome::Unavailable => "unreachable",
        Outcome::Failed => "failed",
    };
    steps.push((statement, result));
    steps
}

/// `name, N B` for a cookie in the picture; `name, N bytes` for the words.
fn sized(name: &str, bytes: usize, unit: &str) -> String {
    format!("{name}, {bytes} {unit}")
}

/// The exchange of one request, drawn, as inline SVG; `request` is its line (`POST /color`),
/// `summaries` its session summaries (two under `--mode both`, this app's own first).
pub fn drawing(request: &str, summaries: &[&Summary], x: &Exchange) -> String {
    let own = summaries.first();
    let mut steps: Vec<(&'static str, &'static str)> = Vec::new();
    let mut statements = 0;
    let mut rows_kept = false;
    for s in summaries {
        steps.extend(store_steps(s));
        statements += s.trips.sql;
        rows_kept |= s.keeps_sessions;
    }
    // Statements that were not the session's own (the account's, a lab's): counted, not named.
    let drawn = steps.iter().filter(|(_, r)| *r != "unreachable").count() as u32;
    let others = statements.saturating_sub(drawn);
    let store = if rows_kept || statements > 0 {
        "PostgreSQL"
    } else {
        "no store"
    };

    let mut rows = Rows {
        y: 30.0,
        arrows: Vec::new(),
    };
    let sent: Vec<&SentCookie> = x.sent_sessions().chain(x.sent_others()).collect();
    rows.arrow(
        (BROWSER, APP),
        THIN,
        "plain",
        false,
        format!(
            "{request}{}",
            if sent.is_empty() {
                ", no Cookie header"
            } else {
                ""
            }
        ),
    );
    for c in &sent {
        let class = if c.session { "session" } else { "other" };
        let label = format!("Cookie: {}", sized(&c.name, c.bytes, "B"));
        rows.arrow((BROWSER, APP), thickness(c.bytes), class, false, label);
    }
    let mut notes = Vec::new();
    for (statement, result) in &steps {
        rows.arrow((APP, STORE), THIN, "store", false, statement.to_string());
        rows.arrow((STORE, APP), THIN, "store", true, result.to_string());
    }
    if others > 0 {
        let label = format!(
            "{others} other statement{}",
            if others == 1 { "" } else { "s" }
        );
        rows.arrow((APP, STORE), THIN, "store", false, label);
    }
    if steps.is_empty() && others == 0 {
        let middle = (APP + STORE) / 2.0;
        notes.push(Note {
            x: middle,
            y: rows.y + 12.0,
            text: if rows_kept {
                "nothing asked"
            } else {
                "nothing stored:"
            },
        });
        if !rows_kept {
            notes.push(Note {
                x: middle,
                y: rows.y + 25.0,
                text: "the cookie holds it",
            });
        }
        rows.y += 32.0;
    }
    rows.arrow(
        (APP, BROWSER),
        THIN,
        "plain",
        false,
        format!(
            "{} {}{}",
            x.status,
            x.reason,
            if x.answered.is_empty() {
                ", no Set-Cookie"
            } else {
                ""
            }
        ),
    );
    for l in &x.answered {
        let class = if l.session { "session" } else { "other" };
        let label = if l.removes {
            format!("Set-Cookie: {} (removes it)", l.name)
        } else {
            format!("Set-Cookie: {}", sized(&l.name, l.bytes, "B"))
        };
        let (w, dashed) = if l.removes {
            (THIN, true)
        } else {
            (thickness(l.bytes), false)
        };
        rows.arrow((APP, BROWSER), w, class, dashed, label);
    }
    let life_end = rows.y;
    let legend_y = rows.y + 8.0;
    let mode = own.map_or("", |s| s.mode.as_str());
    let name = said(request, mode, store, &steps, others, &sent, &x.answered, x);
    let drawing = Drawing {
        name: &name,
        width: WIDTH,
        height: legend_y + FULL + 6.0,
        lanes: [(BROWSER, "Browser"), (APP, "App"), (STORE, store)],
        store_class: if store == "no store" { "none" } else { "db" },
        life_end,
        arrows: rows.arrows,
        notes,
        legend_y,
        full: FULL,
    };
    drawing.render().unwrap_or_else(|e| {
        rocket::error!("report: the exchange's drawing did not render: {e}");
        String::new()
    })
}

/// The drawing's accessible name: the whole picture in words.
#[allow(clippy::too_many_arguments)]
fn said(
    request: &str,
    mode: &str,
    store: &str,
    steps: &[(&str, &str)],
    others: u32,
    sent: &[&SentCookie],
    answered: &[SetCookieLine],
    x: &Exchange,
) -> String {
    let list = |items: Vec<String>| items.join(", ");
    let mut words = format!("The exchange of {request} in {mode} mode, drawn. ");
    if sent.is_empty() {
        words.push_str("The browser sent no cookies. ");
    } else {
        let cookies = sent
            .iter()
            .map(|c| {
                let what = if c.session { "the session cookie " } else { "" };
                format!("{what}{}", sized(&c.name, c.bytes, "bytes"))
            })
            .collect();
        words.push_str(&format!("The browser sent {}. ", list(cookies)));
    }
    if steps.is_empty() && others == 0 && store == "no store" {
        words.push_str("No store was asked: the cookie holds the session. ");
    } else if steps.is_empty() && others == 0 {
        words.push_str(&format!("The app asked {store} nothing. "));
    } else {
        let mut asked: Vec<String> = steps
            .iter()
            .map(|(statement, result)| format!("{statement} ({result})"))
            .collect();
        if others > 0 {
            asked.push(format!("{others} other statements"));
        }
        words.push_str(&format!("The app asked {store}: {}. ", list(asked)));
    }
    words.push_str(&format!("It answered {} {}", x.status, x.reason));
    if answered.is_empty() {
        words.push_str(" with no Set-Cookie.");
    } else {
        let lines = answered
            .iter()
            .map(|l| {
                let what = if l.session { "the session cookie " } else { "" };
                if l.removes {
                    format!("{what}{} removed", l.name)
                } else {
                    format!("{what}{}", sized(&l.name, l.bytes, "bytes"))
                }
            })
            .collect();
        words.push_str(&format!(", setting {}.", list(lines)));
    }
    words
}

/// The report in one line, for above the drawing: what happened to the session, and what the
/// browser was told.
pub fn headline(s: &Summary) -> String {
    let rows = s.keeps_sessions;
    let mut line = String::from(match (s.refused, s.change) {
        (Some(_), _) => "your session cookie was refused",
        (None, Some(Change::Insert)) if rows => "a new session: one INSERT",
        (None, Some(Change::Insert)) => "a new session, sealed into its cookie",
        (None, Some(Change::Update)) if rows => "your session changed: one UPDATE",
        (None, Some(Change::Update)) => "your session changed: its cookie re-sealed",
        (None, Some(Change::Renew)) => "your session got a new identity",
        (None, Some(Change::Refresh)) => "the idle deadline moved on",
        (None, Some(Change::Delete)) => "your session ended",
        (None, None) if s.load == Load::Hit => "your session was read, not changed",
        (None, None) => "no session was changed",
    });
    if let Some(r) = s.refused {
        line.push_str(&format!(" ({})", r.as_str()));
    }
    if s.change.is_some() && !matches!(s.outcome, Outcome::Kept | Outcome::Pending) {
        line.push_str(", not kept");
    }
    match s.cookie_sent() {
        Some(bytes) => line.push_str(&format!("; {} set, {bytes} bytes.", s.cookie_name)),
        None if s.cookie_removed() => line.push_str(&format!("; {} removed.", s.cookie_name)),
        None => line.push('.'),
    }
    line
}
