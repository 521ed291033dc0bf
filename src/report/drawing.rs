//! The exchange drawn: one request as a sequence diagram — browser → app → store → app → browser —
//! with each cookie of the `Cookie` header and each `Set-Cookie` line as an arrow as thick as its
//! bytes (a 4096-byte cookie is [`FULL`] units thick), the session cookie first, and what each
//! store was asked ([`super::asked`]: `SELECT`, `INSERT`, `UPDATE`, `DELETE` of a PostgreSQL row,
//! `MGET`, `SET`, `DEL` of a Redis key, or nothing) — one lane per store asked, so a request that
//! reached PostgreSQL and Redis draws both. Laid out here from the
//! same [`Summary`] and [`Exchange`] the words come from, and drawn by `templates/exchange.svg`,
//! which askama compiles at build time: no script, no drawing library, and an accessible name that
//! says the whole picture in words.

use askama::Template;

use super::asked::{asked, Asked};
use crate::cookies::wire::SentCookie;
use crate::cookies::{Exchange, COOKIE_LIMIT};
use crate::session::summary::{Change, Load, Outcome};
use crate::session::Summary;

/// The drawing's width in its own units: about a phone's column, so its text reads at about the
/// page's size there.
pub const WIDTH: f32 = 330.0;
/// Where each party's lifeline runs, and half its title box's width: with one store lane (or
/// none)...
const THREE: [(f32, f32); 3] = [(44.0, 42.0), (180.0, 42.0), (284.0, 42.0)];
/// ...and with two (PostgreSQL and Redis), narrower boxes, each still wider than its title.
const FOUR: [(f32, f32); 4] = [(36.0, 34.0), (124.0, 28.0), (212.0, 45.0), (294.0, 30.0)];
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

/// One party's lifeline and its title.
struct Lane<'a> {
    x: f32,
    /// Half the title box's width.
    half: f32,
    title: &'a str,
    /// `db` for a store, `none` for the absent one, else empty: the style, from the stylesheet.
    class: &'static str,
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
    lanes: Vec<Lane<'a>>,
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

/// `name, N B` for a cookie in the picture; `name, N bytes` for the words.
fn sized(name: &str, bytes: usize, unit: &str) -> String {
    format!("{name}, {bytes} {unit}")
}

/// The exchange of one request, drawn, as inline SVG; `request` is its line (`POST /color`),
/// `summaries` its session summaries (one per mode it touched under `--mode both` or `all`, this
/// app's own first).
pub fn drawing(request: &str, summaries: &[&Summary], x: &Exchange) -> String {
    let own = summaries.first();
    let stores = asked(summaries);
    // The lifelines: the browser's, the app's, then one per store asked (or one saying none was).
    let places: &[(f32, f32)] = if stores.len() > 1 { &FOUR } else { &THREE };
    let at = |i: usize| places.get(i).map_or(WIDTH / 2.0, |p| p.0);
    let (browser, app) = (at(0), at(1));
    let mut lanes: Vec<Lane<'_>> = [("Browser", ""), ("App", "")]
        .into_iter()
        .chain(stores.iter().map(|a| (a.store.name(), "db")))
        .zip(places)
        .map(|((title, class), &(x, half))| Lane {
            x,
            half,
            title,
            class,
        })
        .collect();
    if stores.is_empty() {
        lanes.push(Lane {
            x: at(2),
            half: THREE[2].1,
            title: "no store",
            class: "none",
        });
    }

    let mut rows = Rows {
        y: 30.0,
        arrows: Vec::new(),
    };
    let sent: Vec<&SentCookie> = x.sent_sessions().chain(x.sent_others()).collect();
    rows.arrow(
        (browser, app),
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
        rows.arrow((browser, app), thickness(c.bytes), class, false, label);
    }
    let mut notes = Vec::new();
    for (i, a) in stores.iter().enumerate() {
        let store = at(2 + i);
        for step in &a.steps {
            rows.arrow((app, store), THIN, "store", false, step.asked.to_string());
            rows.arrow((store, app), THIN, "store", true, step.answer.to_string());
        }
        if let Some(label) = a.others_said() {
            rows.arrow((app, store), THIN, "store", false, label);
        }
    }
    if stores.iter().all(Asked::nothing) {
        let middle = (app + at(1 + stores.len().max(1))) / 2.0;
        let kept = !stores.is_empty();
        notes.push(Note {
            x: middle,
            y: rows.y + 12.0,
            text: if kept {
                "nothing asked"
            } else {
                "nothing stored:"
            },
        });
        if !kept {
            notes.push(Note {
                x: middle,
                y: rows.y + 25.0,
                text: "the cookie holds it",
            });
        }
        rows.y += 32.0;
    }
    rows.arrow(
        (app, browser),
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
        rows.arrow((app, browser), w, class, dashed, label);
    }
    let life_end = rows.y;
    let legend_y = rows.y + 8.0;
    let mode = own.map_or("", |s| s.mode.as_str());
    let name = said(request, mode, &stores, &sent, x);
    let drawing = Drawing {
        name: &name,
        width: WIDTH,
        height: legend_y + FULL + 6.0,
        lanes,
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
fn said(request: &str, mode: &str, stores: &[Asked], sent: &[&SentCookie], x: &Exchange) -> String {
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
    if stores.is_empty() {
        words.push_str("No store was asked: the cookie holds the session. ");
    }
    for a in stores {
        let store = a.store.name();
        if a.nothing() {
            words.push_str(&format!("The app asked {store} nothing. "));
            continue;
        }
        let asked: Vec<String> = a
            .steps
            .iter()
            .map(|step| format!("{} ({})", step.asked, step.answer))
            .chain(a.others_said())
            .collect();
        words.push_str(&format!("The app asked {store}: {}. ", list(asked)));
    }
    words.push_str(&format!("It answered {} {}", x.status, x.reason));
    if x.answered.is_empty() {
        words.push_str(" with no Set-Cookie.");
    } else {
        let lines = x
            .answered
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
