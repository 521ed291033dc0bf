//! The session cookie and its deadlines, drawn for the inspector and the notes page: the cookie
//! as a strip to scale against the browsers' 4096 bytes, its parts coloured (name, nonce,
//! ciphertext, tag — in server mode the ciphertext is the sealed id), then the same cookie
//! enlarged; in server mode the row's data against `session_max_bytes` beside it; and the idle
//! and absolute deadlines as two timelines with "now" marked (and real time too, when this
//! browser's clock is fast-forwarded). Laid out here from figures the page already has, drawn by
//! `templates/cookie.svg` and `templates/deadlines.svg`, which askama compiles at build time.

use askama::Template;
use time::OffsetDateTime;

use crate::cookies::COOKIE_LIMIT;
use crate::humanize;

/// The drawings' width in their own units (about a phone's column).
const WIDTH: f32 = 330.0;
/// A strip's height.
const STRIP: f32 = 14.0;
/// Where the enlarged strip starts (the first strip's scale labels above it).
const ENLARGED: f32 = 60.0;
/// AES-GCM's nonce and tag, in bytes.
const NONCE: usize = 12;
const TAG: usize = 16;

/// One coloured part of a strip.
struct Part {
    x: f32,
    w: f32,
    class: &'static str,
}

/// A strip: a title, its parts, and the limit it is drawn against.
struct Strip {
    y: f32,
    title: String,
    parts: Vec<Part>,
    /// The scale's right end in words (`4096 bytes`), or "" for an enlarged strip.
    end: String,
}

#[derive(Template)]
#[template(path = "cookie.svg", escape = "html")]
struct CookieDrawing<'a> {
    name: &'a str,
    width: f32,
    height: f32,
    strips: Vec<Strip>,
    legend: Vec<(f32, f32, &'static str, String)>,
}

fn tenth(x: f32) -> f32 {
    (x * 10.0).round() / 10.0
}

/// `sizes` laid side by side from x = 0, `scale` units a byte.
fn lay(sizes: &[(usize, &'static str, String)], scale: f32) -> Vec<Part> {
    let mut x = 0.0;
    sizes
        .iter()
        .filter(|(bytes, _, _)| *bytes > 0)
        .map(|(bytes, class, _)| {
            let w = *bytes as f32 * scale;
            let part = Part {
                x: tenth(x),
                w: tenth(w.max(0.6)),
                class,
            };
            x += w;
            part
        })
        .collect()
}

/// The value's characters that carry the nonce, the ciphertext and the tag (the tag's with
/// base64's padding), or `None` when the value is not a sealed cookie's base64.
fn sealed(value: &str) -> Option<(usize, usize, usize)> {
    use base64::Engine;
    // Cookies written before this app stopped percent-encoding them may still hold `%2F`.
    let raw = rocket::http::RawStr::new(value).percent_decode_lossy();
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(raw.as_bytes())
        .ok()?
        .len();
    if decoded < NONCE + TAG {
        return None;
    }
    // Base64 writes 4 characters for every 3 bytes: a part's characters are its bytes' share.
    let chars = value.len();
    let nonce = chars * NONCE / decoded;
    let tag_from = chars * (decoded - TAG) / decoded;
    Some((nonce, tag_from - nonce, chars - tag_from))
}

/// The session cookie `name=value` drawn against 4096 bytes and enlarged; `row`, in server
/// mode, the row's data against its limit (bytes, `session_max_bytes`). The id is what server
/// mode's ciphertext seals.
pub fn cookie(name: &str, value: &str, server: bool, row: Option<(usize, usize)>) -> String {
    let bytes = name.len() + value.len();
    let sealed_what = if server { "the id" } else { "the map" };
    let mut sizes = vec![(name.len(), "name", format!("name {}", name.len()))];
    match sealed(value) {
        Some((nonce, ciphertext, tag)) => sizes.extend([
            (nonce, "nonce", format!("nonce {nonce}")),
            (ciphertext, "ciphertext", format!("ciphertext {ciphertext}")),
            (tag, "tag", format!("tag {tag}")),
        ]),
        None => sizes.push((value.len(), "unread", format!("value {}", value.len()))),
    }
    let inner = WIDTH - 2.0;
    let mut strips = vec![
        Strip {
            y: 14.0,
            title: format!("{name}: {bytes} of {COOKIE_LIMIT} bytes"),
            parts: lay(&sizes, inner / COOKIE_LIMIT as f32),
            end: format!("{COOKIE_LIMIT} bytes"),
        },
        Strip {
            y: ENLARGED,
            title: format!("enlarged (the ciphertext seals {sealed_what})"),
            parts: lay(&sizes, inner / bytes.max(1) as f32),
            end: String::new(),
        },
    ];
    // The legend: two to a line, under the strips.
    let mut y = ENLARGED + STRIP + 16.0;
    let legend: Vec<(f32, f32, &'static str, String)> = sizes
        .iter()
        .enumerate()
        .map(|(i, (_, class, label))| {
            let x = if i % 2 == 0 { 1.0 } else { WIDTH / 2.0 };
            let at = y + (i / 2) as f32 * 14.0;
            (x, at, *class, label.clone())
        })
        .collect();
    y += sizes.len().div_ceil(2) as f32 * 14.0;
    let mut said = format!(
        "The {name} cookie, drawn: {bytes} of the {COOKIE_LIMIT} bytes a browser keeps for one \
         cookie ({}%): {}.",
        bytes * 100 / COOKIE_LIMIT,
        sizes
            .iter()
            .map(|(bytes, _, label)| format!("{} bytes of {}", bytes, part_name(label)))
            .collect::<Vec<_>>()
            .join(", ")
    );
    if sealed(value).is_some() {
        said.push_str(&format!(" The ciphertext seals {sealed_what}."));
    }
    if let Some((row_bytes, limit)) = row {
        let title = format!("the row's data: {row_bytes} of {limit} bytes");
        let part = (row_bytes, "row", String::new());
        strips.push(Strip {
            y: y + 8.0,
            title,
            parts: lay(&[part], inner / limit.max(1) as f32),
            end: format!("{limit} bytes (session_max_bytes)"),
        });
        said.push_str(&format!(
            " Beside it, in the database, the session's row holds {row_bytes} of at most \
             {limit} bytes of data (session_max_bytes, {}%).",
            row_bytes * 100 / limit.max(1)
        ));
        y += 8.0 + STRIP + 20.0;
    }
    render(&CookieDrawing {
        name: &said,
        width: WIDTH,
        height: y - 8.0,
        strips,
        legend,
    })
}

/// A legend's label without its size: `nonce 16` → `nonce`.
fn part_name(label: &str) -> &str {
    label.rsplit_once(' ').map_or(label, |(name, _)| name)
}

/// A marked moment on a timeline.
struct Mark {
    x: f32,
    class: &'static str,
    label: String,
    /// Its label's side: `start` (to the right of the mark) or `end` (to its left).
    anchor: &'static str,
}

/// One timeline: from a start to a deadline, with moments marked.
struct Line {
    y: f32,
    title: String,
    start: String,
    end: String,
    marks: Vec<Mark>,
}

#[derive(Template)]
#[template(path = "deadlines.svg", escape = "html")]
struct DeadlinesDrawing<'a> {
    name: &'a str,
    width: f32,
    height: f32,
    lines: Vec<Line>,
}

/// Which side of its mark a label goes: `preferred`, unless that would run off the drawing.
fn side(x: f32, preferred: &'static str) -> &'static str {
    match preferred {
        "start" if x > WIDTH * 0.65 => "end",
        "end" if x < WIDTH * 0.35 => "start",
        _ => preferred,
    }
}

/// What the deadlines drawing is given.
pub struct Times {
    /// The session began (login or creation) and was last seen (its idle window's start).
    pub issued: OffsetDateTime,
    pub last_seen: OffsetDateTime,
    pub idle: OffsetDateTime,
    pub absolute: OffsetDateTime,
    /// This browser's now (fast-forwarded or not), and real time.
    pub now: OffsetDateTime,
    pub real: OffsetDateTime,
    /// The idle timeout, in seconds: a request after half of it pushes the deadline on.
    pub idle_timeout: i64,
}

/// The idle and the absolute deadline, each on a timeline of its own (30 minutes and 14 days do
/// not share a scale), with now marked.
pub fn deadlines(t: &Times) -> String {
    let inner = WIDTH - 2.0;
    let place = |from: OffsetDateTime, to: OffsetDateTime, at: OffsetDateTime| {
        let span = (to - from).as_seconds_f32().max(1.0);
        tenth(1.0 + inner * ((at - from).as_seconds_f32() / span).clamp(0.0, 1.0))
    };
    let ahead = (t.now - t.real).whole_seconds();
    let now_marks = |from: OffsetDateTime, to: OffsetDateTime| {
        let mut marks = vec![Mark {
            x: place(from, to, t.now),
            anchor: side(place(from, to, t.now), "start"),
            class: "now",
            label: if ahead > 0 {
                format!("now (+{})", humanize::in_words(ahead.unsigned_abs()))
            } else {
                "now".to_string()
            },
        }];
        if ahead > 0 {
            marks.push(Mark {
                x: place(from, to, t.real),
                class: "real",
                label: "real time".to_string(),
                anchor: side(place(from, to, t.real), "end"),
            });
        }
        marks
    };
    let half = t.last_seen + time::Duration::seconds(t.idle_timeout / 2);
    let mut idle_marks = now_marks(t.last_seen, t.idle);
    idle_marks.push(Mark {
        x: place(t.last_seen, t.idle, half),
        class: "half",
        label: "refresh from here".to_string(),
        anchor: "middle",
    });
    let lines = vec![
        Line {
            y: 14.0,
            title: format!(
                "idle: {} after the last request",
                humanize::in_words(t.idle_timeout.unsigned_abs())
            ),
            start: "last request".to_string(),
            end: format!("ends {}", humanize::relative(t.idle, t.now)),
            marks: idle_marks,
        },
        Line {
            y: 86.0,
            title: "absolute: however active".to_string(),
            start: "login or creation".to_string(),
            end: format!("ends {}", humanize::relative(t.absolute, t.now)),
            marks: now_marks(t.issued, t.absolute),
        },
    ];
    let mut said = format!(
        "The session's deadlines, drawn on two timelines with now marked: the idle deadline \
         {}, {} after the last request (a request after half of that pushes it on); the \
         absolute deadline {}.",
        humanize::relative(t.idle, t.now),
        humanize::in_words(t.idle_timeout.unsigned_abs()),
        humanize::relative(t.absolute, t.now)
    );
    if ahead > 0 {
        said.push_str(&format!(
            " This browser's clock runs {} ahead of real time, which is marked too.",
            humanize::in_words(ahead.unsigned_abs())
        ));
    }
    render(&DeadlinesDrawing {
        name: &said,
        width: WIDTH,
        height: 140.0,
        lines,
    })
}

fn render(template: &impl Template) -> String {
    template.render().unwrap_or_else(|e| {
        rocket::error!("drawings: a template did not render: {e}");
        String::new()
    })
}
