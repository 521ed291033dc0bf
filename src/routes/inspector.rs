//! `/session` and `/session.json`: the inspector — the cookie exactly as the browser holds it, its
//! size against the 4096-byte limit, the decoded map, both deadlines, and in server mode the row.

use crate::html::Html;
use rocket::form::FromForm;
use rocket::request::{FromRequest, Outcome, Request};
use rocket::serde::json::Json;
use rocket::{get, post, State};
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use rocket::response::Redirect;

use crate::browser_lab::Lab;
use crate::cookies::{Jar, Kind, COOKIE_LIMIT};
use crate::csrf::CheckedForm;
use crate::drawings;
use crate::error::AppError;
use crate::humanize;
use crate::page::Page;
use crate::report::words;
use crate::session::{Session, SessionError};
use crate::settings::Settings;

/// The session cookie's value exactly as it came in the `Cookie` header (still percent-encoded).
pub struct SentCookie(pub Option<String>);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for SentCookie {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let name = Jar::of(req).map_or("", |jar| jar.name(Kind::Session(jar.mode())));
        let value = req
            .headers()
            .get("Cookie")
            // Not percent-decoded: the inspector shows the value as the browser sent it.
            .flat_map(::cookie::Cookie::split_parse)
            .filter_map(Result::ok)
            .filter(|c| c.name() == name)
            // When a browser sends several (one per Path or Domain), Rocket's jar keeps the
            // last, and that is the one the session layer opens: show the same one.
            .last()
            .map(|c| c.value().to_string());
        Outcome::Success(SentCookie(value))
    }
}

/// The cookie's value taken apart: base64 → a 12-byte nonce, the ciphertext, a 16-byte tag. The
/// ciphertext is as long as the plaintext (AES-GCM is a stream cipher), so what encryption costs is
/// the 28 bytes of nonce and tag, and base64 then adds a third.
fn anatomy(name: &str, value: &str) -> Value {
    use base64::Engine;
    // Cookies written before this app stopped percent-encoding them may still hold `%2F`.
    let raw = rocket::http::RawStr::new(value).percent_decode_lossy();
    let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(raw.as_bytes()) else {
        return json!({ "readable": false, "value_bytes": value.len() });
    };
    const NONCE: usize = 12;
    const TAG: usize = 16;
    if bytes.len() < NONCE + TAG {
        return json!({ "readable": false, "value_bytes": value.len() });
    }
    let hex = hex::encode::<&[u8]>;
    let ciphertext = bytes.len() - NONCE - TAG;
    json!({
        "readable": true,
        "name_bytes": name.len(),
        "value_bytes": value.len(),
        "decoded_bytes": bytes.len(),
        "nonce_bytes": NONCE,
        "nonce_hex": hex(&bytes[..NONCE]),
        "ciphertext_bytes": ciphertext,
        "tag_bytes": TAG,
        "tag_hex": hex(&bytes[bytes.len() - TAG..]),
        "plaintext_bytes": ciphertext,
        "browser_bytes": name.len() + value.len(),
        // What sealing costs the value (nonce, tag, base64), not counting the cookie's name.
        "overhead_bytes": value.len() - ciphertext,
    })
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

/// How full the session is against the limit that applies to its mode: the cookie's size
/// (name + value, as the browser counts it) against 4096 bytes where the cookie holds the
/// session, the row's data (the map as compact JSON, see [`data_bytes`]) against
/// `session_max_bytes` where a row does.
pub struct Usage {
    /// `"cookie"` or `"row"`: what is measured.
    pub what: &'static str,
    pub bytes: usize,
    pub limit: usize,
}

/// Past this share of the limit the pages warn that the next writes may be refused with 413.
const WARN_PERCENT: usize = 90;

impl Usage {
    /// Measures `session` (already loaded) and the cookie the browser sent for it.
    ///
    /// # Errors
    /// [`SessionError::Store`] when the store cannot be reached.
    pub async fn of(session: &Session<'_>, sent: Option<&str>) -> Result<Usage, SessionError> {
        let layer = session.layer();
        if layer.holds_data() {
            let record = session.record().await?;
            let bytes = match &record {
                Some(r) => r.data_bytes().map_err(|source| SessionError::Type {
                    key: String::new(),
                    source,
                })?,
                None => 0,
            };
            Ok(Usage {
                what: "row",
                bytes,
                limit: Usage::limit_of(session),
            })
        } else {
            let name = session.jar().name(layer.cookie_kind());
            Ok(Usage {
                what: "cookie",
                bytes: sent.map_or(0, |value| name.len() + value.len()),
                limit: Usage::limit_of(session),
            })
        }
    }

    /// The limit that applies to `session`'s mode, without loading it.
    pub fn limit_of(session: &Session<'_>) -> usize {
        let layer = session.layer();
        if layer.holds_data() {
            layer.max_data()
        } else {
            COOKIE_LIMIT
        }
    }

    pub fn percent(&self) -> usize {
        (self.bytes * 100 / self.limit.max(1)).min(100)
    }

    /// For the templates: the figures, the share, and whether to warn.
    pub fn view(&self) -> Value {
        json!({
            "what": self.what,
            "bytes": self.bytes,
            "limit": self.limit,
            "percent": self.percent(),
            "near": self.percent() >= WARN_PERCENT,
            "left": self.limit.saturating_sub(self.bytes),
        })
    }
}

/// Why the store's key is not the id the cookie carries, in one sentence.
const KEY_WHY: &str = "the store files the session under the SHA-256 of the id, never the id \
     itself, so a copy of the store (a dump, a replica, a backup) holds no id a browser could \
     send, and opens no session";

/// The inspector's data, shared by the page, `/session.json` and `/compare.json`: `session` as its
/// own mode's store opens it, and `sent`, the value its cookie came with (as the browser holds it).
///
/// # Errors
/// [`SessionError::Store`] when the store cannot be reached.
pub async fn inspect(session: &Session<'_>, sent: Option<&str>) -> Result<Value, SessionError> {
    let layer = session.layer();
    let name = session.jar().name(layer.cookie_kind());
    // lesson: inspector
    let record = session.record().await?;
    let refused = session.refusal().await?;
    // end lesson
    // The value came as the browser stores it (percent-encoded), so its size is the browser's.
    let cookie = sent
        .map(|value| json!({ "name": name, "value": value, "bytes": name.len() + value.len() }));
    let usage = Usage::of(session, sent).await?;
    let deadlines = record.as_ref().map(|r| layer.deadlines(r));
    // Where the store holds the data, the inspector shows it as the store holds it: the id from
    // the cookie, and the key the store files it under (not the id: see `KEY_WHY`).
    let row = match &record {
        Some(r) if layer.holds_data() => match deadlines {
            Some(d) => json!({
                "id": r.id,
                "key": layer.filed_under(r),
                "key_why": layer.filed_under(r).map(|_| KEY_WHY),
                // 64 hex digits are wider than a phone: the page breaks them only between halves.
                "key_parts": layer.filed_under(r).map(|k| crate::html::halves(&k, 32)),
                "data": r.data,
                "bytes": usage.bytes,
                "user_id": r.user_id,
                "created_at": rfc3339(r.created_at),
                "updated_at": rfc3339(r.last_seen),
                "expires_at": rfc3339(d.expires_at()),
                "absolute_expires_at": rfc3339(d.absolute),
                "remember": r.remember,
                "user_agent": r.user_agent,
            }),
            None => Value::Null,
        },
        _ => Value::Null,
    };
    // This browser's clock: the countdowns run on it, fast-forwarded or not.
    let now = session.clock_now();
    Ok(json!({
        "mode": layer.mode().as_str(),
        "cookie": cookie,
        "data": record.as_ref().map(|r| r.data.clone()).unwrap_or_default(),
        "user_id": record.as_ref().and_then(|r| r.user_id),
        "refused": refused.map(|r| r.as_str()),
        "revocation": layer.revocation().map(|r| r.as_str()),
        "refused_why": refused.map(words::refusal),
        "anatomy": sent.map(|v| anatomy(name, v)),
        "expires_at": deadlines.map(|d| rfc3339(d.expires_at())),
        "idle_expires_at": deadlines.map(|d| rfc3339(d.idle)),
        "absolute_expires_at": deadlines.map(|d| rfc3339(d.absolute)),
        "idle_seconds_left": deadlines.map(|d| (d.idle - now).whole_seconds().max(0)),
        "absolute_seconds_left": deadlines.map(|d| (d.absolute - now).whole_seconds().max(0)),
        "issued_at": record.as_ref().map(|r| rfc3339(r.created_at)),
        // The same moments in words ("in 29 minutes", "3 minutes ago"), with the exact time for
        // a title= on hover: raw seconds and microseconds are hard to read at a glance.
        "idle_in_words": deadlines.map(|d| humanize::relative(d.idle, now)),
        "idle_exact": deadlines.map(|d| humanize::exact(d.idle)),
        "absolute_in_words": deadlines.map(|d| humanize::relative(d.absolute, now)),
        "absolute_exact": deadlines.map(|d| humanize::exact(d.absolute)),
        "issued_in_words": record.as_ref().map(|r| humanize::relative(r.created_at, now)),
        "issued_exact": record.as_ref().map(|r| humanize::exact(r.created_at)),
        "remember": record.as_ref().map(|r| r.remember),
        "now": rfc3339(now),
        "row": row,
        // The limit this mode's session meets first: the browser's 4096 bytes for the cookie
        // that holds it, or `session_max_bytes` for the row's data.
        "limit_bytes": usage.limit,
        "usage": usage.view(),
    }))
}

/// The row with its times (the `…_at` columns) cut to the whole second
/// (`…T06:10:17.123456Z` → `…T06:10:17Z`); the map it holds is left as stored.
fn to_the_second(mut row: Value) -> Value {
    if let Some(columns) = row.as_object_mut() {
        for (column, value) in columns.iter_mut() {
            let time = value
                .as_str()
                .and_then(|s| OffsetDateTime::parse(s, &Rfc3339).ok());
            if let (true, Some(t)) = (column.ends_with("_at"), time) {
                *value = json!(rfc3339(t.replace_nanosecond(0).unwrap_or(t)));
            }
        }
    }
    row
}

/// The inspector's two drawings: the cookie as sent (with the row beside it in server mode), and
/// the session's deadlines against this browser's now — each `None` where there is nothing to
/// draw.
async fn drawn(
    page: &Page<'_>,
    sent: &SentCookie,
    view: &Value,
    settings: &Settings,
) -> Result<(Option<String>, Option<String>), AppError> {
    let layer = page.session.layer();
    let row = (!view["row"].is_null()).then(|| {
        let bytes = view["usage"]["bytes"].as_u64().unwrap_or(0) as usize;
        (bytes, settings.max_bytes)
    });
    let name = page.jar.name(layer.cookie_kind());
    let cookie = sent
        .0
        .as_deref()
        .map(|value| drawings::cookie(name, value, layer.keeps_sessions(), row));
    let record = page.session.record().await?;
    // One reading of real time, and this browser's clock from it, so that the gap between the
    // two marks is exactly the fast-forward.
    let real = layer.now();
    let now = page.lab.now(real);
    let deadlines = record.filter(|_| view["refused"].is_null()).map(|r| {
        let d = layer.deadlines(&r);
        drawings::deadlines(&drawings::Times {
            issued: r.created_at,
            last_seen: r.last_seen,
            idle: d.idle,
            absolute: d.absolute,
            now,
            real,
            idle_timeout: settings.idle_timeout,
        })
    });
    Ok((cookie, deadlines))
}

#[get("/session")]
async fn inspector_page(
    page: Page<'_>,
    sent: SentCookie,
    settings: &State<Settings>,
) -> Result<Html, AppError> {
    let mut view = inspect(&page.session, sent.0.as_deref()).await?;
    let bytes = view["cookie"]["bytes"].as_u64().unwrap_or(0) as usize;
    if let Some(v) = view.as_object_mut() {
        v.insert("limit".into(), json!(COOKIE_LIMIT));
        v.insert("max_bytes".into(), json!(settings.max_bytes));
        v.insert(
            "percent".into(),
            json!((bytes * 100 / COOKIE_LIMIT).min(100)),
        );
        v.insert(
            "data_pretty".into(),
            json!(serde_json::to_string_pretty(&v["data"]).unwrap_or_default()),
        );
        // The row as the table holds it, but its times to the second: PostgreSQL's microseconds
        // are noise to a reader (inspector.js trims them the same way on live updates).
        let row = to_the_second(v["row"].clone());
        v.insert(
            "row_pretty".into(),
            json!(serde_json::to_string_pretty(&row).unwrap_or_default()),
        );
        v.insert("idle_timeout".into(), json!(settings.idle_timeout));
        v.insert("absolute_timeout".into(), json!(settings.absolute_timeout));
        v.insert("clock_offset".into(), json!(page.lab.offset));
    }
    let (cookie, deadlines) = drawn(&page, &sent, &view, settings).await?;
    if let Some(v) = view.as_object_mut() {
        v.insert("cookie_drawing".into(), json!(cookie));
        v.insert("deadlines_drawing".into(), json!(deadlines));
    }
    page.render("inspector", view).await
}

#[get("/session.json")]
async fn inspector_json(session: Session<'_>, sent: SentCookie) -> Result<Json<Value>, AppError> {
    Ok(Json(inspect(&session, sent.0.as_deref()).await?))
}

/// What the fast-forward form asks: `seconds` further ahead, or (`reset`) back to real time.
#[derive(FromForm)]
struct FastForward {
    #[field(default = false)]
    reset: bool,
    #[field(validate = step(self.reset))]
    seconds: Option<i64>,
}

/// A step forward (at least a second), unless the form asks for a reset.
fn step<'v>(seconds: &Option<i64>, reset: bool) -> rocket::form::Result<'v, ()> {
    match (seconds, reset) {
        (_, true) | (Some(1..), false) => Ok(()),
        (Some(_), false) => Err(rocket::form::Error::validation(
            "the clock only moves forward: seconds must be at least 1",
        ))?,
        (None, false) => Err(rocket::form::Error::validation(
            "say how many seconds to move ahead, or reset",
        ))?,
    }
}

/// Moves this browser's clock ahead (or back to real time) so a student can watch a session
/// expire without waiting. Only its lab cookie changes: nothing stored, nobody else's clock. The
/// clock goes at most `session_absolute_timeout` ahead, where every session has ended anyway.
#[post("/session/fast-forward", data = "<form>")]
async fn fast_forward(
    form: CheckedForm<FastForward>,
    lab: &Lab,
    jar: Jar<'_>,
    settings: &State<Settings>,
    session: Session<'_>,
) -> Redirect {
    let next = match form.0 {
        FastForward {
            reset: false,
            seconds: Some(seconds),
        } => lab.advanced(seconds, settings.absolute_timeout),
        _ => lab.clock_reset(),
    };
    let moved = next.offset - lab.offset;
    session
        .note(if next.offset == 0 {
            "Put this browser's clock back on real time. Your session itself was not touched."
                .to_string()
        } else {
            format!(
                "Moved this browser's clock forward by {}: its deadline checks now run {} ahead \
                 of real time. Your session itself was not touched — the page below reads it \
                 against the new time — and nobody else's clock moved.",
                humanize::in_words(moved.unsigned_abs()),
                humanize::in_words(next.offset.unsigned_abs())
            )
        })
        .await;
    next.store(jar);
    Redirect::to("/session")
}

pub fn routes() -> Vec<rocket::Route> {
    rocket::routes![inspector_page, inspector_json, fast_forward]
}
