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

use crate::cookies::{CookieConfig, COOKIE_LIMIT};
use crate::csrf::CheckedForm;
use crate::error::AppError;
use crate::humanize;
use crate::lab::Lab;
use crate::page::Page;
use crate::routes::labs::RedirectWithCookies;
use crate::session::Session;
use crate::settings::Settings;

/// The session cookie's value exactly as it came in the `Cookie` header (still percent-encoded).
struct SentCookie(Option<String>);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for SentCookie {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let name = req
            .rocket()
            .state::<CookieConfig>()
            .map(|c| c.session)
            .unwrap_or("");
        let value = req
            .headers()
            .get("Cookie")
            .flat_map(|h| h.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .filter(|(n, _)| *n == name)
            // When a browser sends several (one per Path or Domain), Rocket's jar keeps the
            // last, and that is the one the session layer opens: show the same one.
            .last()
            .map(|(_, v)| v.to_string());
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
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
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
        "overhead_bytes": name.len() + value.len() - ciphertext,
    })
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

/// The inspector's data, shared by the page and the JSON.
async fn inspect(
    session: &Session<'_>,
    cookies: &CookieConfig,
    sent: &SentCookie,
) -> Result<Value, AppError> {
    let layer = session.layer();
    // lesson: inspector
    let record = session.record().await?;
    let refused = session.refusal().await?;
    // end lesson
    // The value came as the browser stores it (percent-encoded), so its size is the browser's.
    let cookie = sent.0.as_ref().map(|value| {
        let name = cookies.session;
        json!({ "name": name, "value": value, "bytes": name.len() + value.len() })
    });
    let deadlines = record.as_ref().map(|r| layer.deadlines(r));
    // Where the store keeps sessions, the inspector shows the row as the table holds it.
    let row = match &record {
        Some(r) if layer.keeps_sessions() => match deadlines {
            Some(d) => json!({
                "id": r.id,
                "data": r.data,
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
        "mode": cookies.mode.as_str(),
        "cookie": cookie,
        "data": record.as_ref().map(|r| r.data.clone()).unwrap_or_default(),
        "user_id": record.as_ref().and_then(|r| r.user_id),
        "refused": refused.map(|r| r.as_str()),
        "revocation": layer.revocation().map(|r| r.as_str()),
        "refused_why": refused.map(|r| r.in_words()),
        "anatomy": sent.0.as_deref().map(|v| anatomy(cookies.session, v)),
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
    }))
}

#[get("/session")]
async fn inspector_page(
    page: Page<'_>,
    sent: SentCookie,
    settings: &State<Settings>,
) -> Result<Html, AppError> {
    let mut view = inspect(&page.session, page.cookies, &sent).await?;
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
        v.insert(
            "row_pretty".into(),
            json!(serde_json::to_string_pretty(&v["row"]).unwrap_or_default()),
        );
        v.insert("idle_timeout".into(), json!(settings.idle_timeout));
        v.insert("absolute_timeout".into(), json!(settings.absolute_timeout));
        v.insert("clock_offset".into(), json!(page.session.lab().offset));
    }
    page.render("inspector", view).await
}

#[get("/session.json")]
async fn inspector_json(
    session: Session<'_>,
    cookies: &State<CookieConfig>,
    sent: SentCookie,
) -> Result<Json<Value>, AppError> {
    Ok(Json(inspect(&session, cookies, &sent).await?))
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
fn fast_forward(
    form: CheckedForm<FastForward>,
    lab: &Lab,
    cookies: &State<CookieConfig>,
    settings: &State<Settings>,
) -> RedirectWithCookies {
    let next = match form.0 {
        FastForward {
            reset: false,
            seconds: Some(seconds),
        } => lab.advanced(seconds, settings.absolute_timeout),
        _ => lab.clock_reset(),
    };
    RedirectWithCookies::new("/session", vec![next.cookie(cookies)])
}

pub fn routes() -> Vec<rocket::Route> {
    rocket::routes![inspector_page, inspector_json, fast_forward]
}
