//! `/labs/dump`: what a copy of the store opens. Server and redis mode file each session under the
//! SHA-256 of its id, so a dump of the `sessions` table or of Redis holds only hashes. The page
//! shows this browser's id and the key it is filed under, and offers to send that key as the
//! session cookie — shaped like an id and sealed with the app's own key, as only the server
//! could, so the cookie is opened and judged like any other. It opens nothing: the store hashes
//! what the cookie carries, and the hash of a hash names no session.
//!
//! Sending it replaces the browser's session cookie on purpose (the page says so first), as the
//! replay lab's "put back" does; the session itself stays in the store until it expires.

use rocket::form::FromForm;
use rocket::response::Redirect;
use rocket::{get, post};
use serde_json::json;

use crate::cookies::Kind;
use crate::csrf::CheckedForm;
use crate::error::AppError;
use crate::html::Html;
use crate::page::Page;
use crate::session::Session;
use crate::settings::Mode;

/// The longest key the form takes: a SHA-256 in hex is 64 characters; a prefixed Redis key a few
/// dozen more.
const MAX_KEY: usize = 200;

#[get("/labs/dump")]
async fn dump_page(page: Page<'_>) -> Result<Html, AppError> {
    let session = &page.session;
    let holds = session.layer().holds_data();
    let mut id = None;
    let mut key = None;
    if holds {
        if let Some(record) = session.record().await? {
            // Only the hash goes in the form: the key a dump would hold, without the prefix.
            key = session
                .layer()
                .filed_under(&record)
                .map(|k| k.rsplit(':').next().unwrap_or_default().to_string());
            id = record.id;
        }
    }
    let refused = session.refusal().await?;
    let context = json!({
        "holds_data": holds,
        "store": if session.mode() == Mode::Redis { "Redis" } else { "the sessions table" },
        "id_start": id.map(|i| crate::routes::labs::start_of(&i)),
        "key": key,
        "refused": refused.map(|r| r.as_str()),
        "cookie_name": session.cookie_name(),
    });
    page.render("labs_dump", context).await
}

#[derive(FromForm)]
struct Stolen {
    key: String,
}

/// Seals `key` as this browser's session cookie, as if it were an id: the next request carries
/// it and the session layer judges it.
#[post("/labs/dump", data = "<form>")]
async fn send_key(session: Session<'_>, form: CheckedForm<Stolen>) -> Result<Redirect, AppError> {
    let key = form.0.key.trim().to_string();
    if !session.layer().holds_data() {
        return Err(AppError::Conflict(
            "Cookie mode keeps no session at rest: there is no table or Redis key to copy. Start \
             the app with --mode server or --mode redis."
                .into(),
        ));
    }
    if key.is_empty() || key.len() > MAX_KEY || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(AppError::Unprocessable(format!(
            "A stored key is 1 to {MAX_KEY} visible ASCII characters (a SHA-256 is 64 hex \
             digits); this one is not."
        )));
    }
    let jar = session.jar();
    let kind = Kind::Session(session.mode());
    let value = as_cookie_key(&key, session.mode(), session.layer().now().unix_timestamp());
    // lesson: dump-send
    let sealed = jar.config().seal(kind, &value);
    session.adopt_cookie(sealed).await;
    // end lesson
    session
        .note(format!(
            "Sealed the stored key as your {} cookie, as only this server could: the next \
             request carries it. Your own session stays in the store, but your browser no longer \
             holds its cookie.",
            session.cookie_name()
        ))
        .await;
    Ok(Redirect::to("/labs/dump"))
}

/// A stored key put in the shape the mode's cookie carries, so the store looks it up rather than
/// refusing its shape: a SHA-256 in hex is 32 bytes, as an id is, so it becomes 43 characters of
/// base64url like an id; redis mode's cookie adds when the session began (`<id>.<unix seconds>`,
/// which a dump's JSON shows). Anything else goes as it was typed.
fn as_cookie_key(key: &str, mode: Mode, now: i64) -> String {
    use base64::Engine;
    let bytes: Option<Vec<u8>> = (key.len() == 64)
        .then(|| {
            (0..64)
                .step_by(2)
                .map(|i| u8::from_str_radix(key.get(i..i + 2)?, 16).ok())
                .collect()
        })
        .flatten();
    let Some(bytes) = bytes else {
        return key.to_string();
    };
    let id = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    match mode {
        Mode::Redis => format!("{id}.{now}"),
        Mode::Server | Mode::Cookie => id,
    }
}

pub fn routes() -> Vec<rocket::Route> {
    rocket::routes![dump_page, send_key]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hex_hash_takes_an_ids_shape_and_anything_else_stays() {
        let hash = "ab".repeat(32);
        let id = as_cookie_key(&hash, Mode::Server, 7);
        assert_eq!(id.len(), 43, "{id}");
        assert_eq!(as_cookie_key(&hash, Mode::Redis, 7), format!("{id}.7"));
        assert_eq!(as_cookie_key("not-hex", Mode::Server, 7), "not-hex");
        assert_eq!(
            as_cookie_key(&"zz".repeat(32), Mode::Server, 7),
            "zz".repeat(32)
        );
    }
}
