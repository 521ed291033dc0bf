//! `/labs/tamper`: one session three ways — the sealed cookie this app sends (in server mode it
//! holds only the session's id), the session's map signed only (readable, not changeable) and
//! plain (anyone's to rewrite) — and what changing a byte of each does.
//!
//! The sealed column is real: a changed value goes through [`SessionLayer::open`], as a request's
//! cookie would. The other two are computed on the page; the app neither issues nor trusts them.
//!
//! [`SessionLayer::open`]: crate::session::SessionLayer::open

use crate::html::Html;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use rocket::form::FromForm;
use rocket::http::Status;
use rocket::response::Redirect;
use rocket::{get, post};
use serde_json::{json, Map, Value};

use super::encodings::{self, flip, sealed_part, Signer, NONCE_LEN, TAG_LEN};
use super::start_of;
use crate::cookies::Kind;
use crate::csrf::CheckedForm;
use crate::error::AppError;
use crate::page::Page;
use crate::session::Opened;

/// The key the signed-only column is signed with: derived from the app's secret, never the key
/// that seals real cookies, since the page hands out values it signed.
const SIGNING_PURPOSE: &str = "tamper lab: signed-only demonstration";

/// Shown when the browser has no session: small, and with a login worth forging.
fn example_map() -> Map<String, Value> {
    let mut map = Map::new();
    map.insert("color".into(), json!("rebeccapurple"));
    map.insert("user_id".into(), json!(42));
    map.insert("username".into(), json!("alice"));
    map
}

/// What the three columns show: the browser's sealed cookie and its map, or an example.
struct Subject {
    /// The sealed value as it travels (base64).
    value: String,
    /// The same value decoded: nonce, ciphertext, tag.
    sealed: Vec<u8>,
    /// The session map, with the login as `user_id` the way a signed or plain cookie would carry
    /// it (this app keeps it beside the map).
    map: Map<String, Value>,
    /// Whether this is the browser's own session (not the example).
    real: bool,
}

async fn subject(page: &Page<'_>) -> Result<Subject, AppError> {
    let record = page.session.record().await?;
    let value = page
        .jar
        .value(Kind::Session(page.jar.mode()))
        .map(str::to_string);
    if let (Some(record), Some(value)) = (record, value) {
        if let Ok(sealed) = STANDARD.decode(&value) {
            let mut map = record.data;
            if let Some(id) = record.user_id {
                map.insert("user_id".into(), json!(id));
            }
            return Ok(Subject {
                value,
                sealed,
                map,
                real: true,
            });
        }
    }
    let map = example_map();
    let json = Value::Object(map.clone()).to_string();
    let value = page
        .jar
        .config()
        .seal(page.session.layer().cookie_kind(), &json);
    Ok(Subject {
        sealed: STANDARD.decode(&value).unwrap_or_default(),
        value,
        map,
        real: false,
    })
}

/// The byte index a form or link asked for, or what is wrong with it.
fn parse_index(text: &str, len: usize) -> Result<usize, String> {
    let last = len.saturating_sub(1);
    match text.trim().parse::<usize>() {
        Ok(i) if i < len => Ok(i),
        Ok(i) => Err(format!(
            "Byte {i} is past the end: the decoded value has {len} bytes, numbered 0 to {last}."
        )),
        Err(_) => Err(format!(
            "“{text}” is not a byte index: give a number from 0 to {last}."
        )),
    }
}

/// A user id that is not this one: 1, the first account, often the administrator's.
fn forged_user_id(map: &Map<String, Value>) -> i64 {
    match map.get("user_id").and_then(Value::as_i64) {
        Some(1) => 2,
        _ => 1,
    }
}

/// Byte `index` of each column changed, and what the server would make of it.
async fn flipped(
    page: &Page<'_>,
    s: &Subject,
    json: &[u8],
    index: usize,
) -> Result<Value, AppError> {
    let Some(changed) = flip(&s.sealed, index) else {
        return Ok(Value::Null);
    };
    let value = STANDARD.encode(&changed);
    // lesson: tamper-open
    let (opened, statements) = page.session.open_value(&value).await?;
    // end lesson
    let sealed_verdict = match opened {
        Opened::Refused(why) => json!({ "refused": why.as_str() }),
        // Never seen: AES-GCM's tag covers every byte. Said plainly should it ever happen.
        Opened::Found { .. } => json!({ "refused": null }),
    };
    let signer = Signer::new(page.jar.config().keys.derive(SIGNING_PURPOSE));
    // The other two columns change the same byte of their JSON, when it has that many.
    let (signed, plain) = match flip(json, index) {
        Some(changed_json) => {
            let signed_value = Signer::with_payload(&signer.sign(json), &changed_json);
            let plain_value = encodings::plain(&changed_json);
            (
                json!({
                    "value": start_of(&signed_value),
                    "verdict": verdict(signer.verify(&signed_value).map_err(|e| e.as_str())),
                }),
                json!({
                    "value": start_of(&plain_value),
                    "text": String::from_utf8_lossy(&changed_json),
                    "verdict": verdict(encodings::read_plain(&plain_value)),
                }),
            )
        }
        None => (Value::Null, Value::Null),
    };
    Ok(json!({
        "index": index,
        "part": sealed_part(index, s.sealed.len()),
        "before": format!("{:02x}", s.sealed[index]),
        "after": format!("{:02x}", changed[index]),
        "value": start_of(&value),
        "sealed": sealed_verdict,
        "statements": statements,
        "signed": signed,
        "plain": plain,
    }))
}

/// What a server would do with a value: accept it (and believe the JSON) or refuse it, and why.
fn verdict(checked: Result<Value, &'static str>) -> Value {
    match checked {
        Ok(v) => json!({ "accepted": true, "user_id": v.get("user_id") }),
        Err(why) => json!({ "accepted": false, "why": why }),
    }
}

async fn render(
    page: &Page<'_>,
    index: Option<&str>,
    error: Option<String>,
) -> Result<(Status, Html), AppError> {
    let s = subject(page).await?;
    let cookies = page.jar.config();
    let kind = page.session.layer().cookie_kind();
    let json = Value::Object(s.map.clone()).to_string();
    let pretty = serde_json::to_string_pretty(&s.map).unwrap_or_default();
    let len = s.sealed.len();
    let (mut status, mut error) = (Status::Ok, error);
    let mut result = Value::Null;
    if let Some(text) = index {
        match parse_index(text, len) {
            Ok(i) => result = flipped(page, &s, json.as_bytes(), i).await?,
            Err(why) => (status, error) = (Status::UnprocessableEntity, Some(why)),
        }
    }
    if error.is_some() && status == Status::Ok {
        status = Status::UnprocessableEntity;
    }
    let signer = Signer::new(cookies.keys.derive(SIGNING_PURPOSE));
    let signed = signer.sign(json.as_bytes());
    let plain = encodings::plain(json.as_bytes());
    let forged_id = forged_user_id(&s.map);
    let mut forged_map = s.map.clone();
    forged_map.insert("user_id".into(), json!(forged_id));
    let forged_json = Value::Object(forged_map).to_string();
    let forged_signed = Signer::with_payload(&signed, forged_json.as_bytes());
    let forged_plain = encodings::plain(forged_json.as_bytes());
    let body = page
        .render(
            "labs_tamper",
            json!({
                "real": s.real,
                "map_pretty": pretty,
                "json_bytes": json.len(),
                "error": error,
                "flip": result,
                "typed": index.unwrap_or(""),
                "forged_user_id": forged_id,
                "sealed": {
                    "value": s.value,
                    // Value only, like the other two columns: the name is not part of any of them.
                    "bytes": s.value.len(),
                    "decoded_bytes": len,
                    "last_index": len.saturating_sub(1),
                    "nonce": NONCE_LEN,
                    "tag": TAG_LEN,
                    "ciphertext": len.saturating_sub(NONCE_LEN + TAG_LEN),
                    // Inside all three: the JSON is usually the shortest, and the first flip
                    // should change every column.
                    "default_index": len.min(json.len()) / 2,
                    // The same JSON as the other columns, sealed: the like-for-like price.
                    "same_json_bytes": cookies.seal(kind, &json).len(),
                },
                "signed": {
                    "value": signed,
                    "bytes": signed.len(),
                    "payload": signed.split('.').next().unwrap_or_default(),
                    "verdict": verdict(signer.verify(&signed).map_err(|e| e.as_str())),
                    "forged": forged_signed,
                    "forged_verdict": verdict(signer.verify(&forged_signed).map_err(|e| e.as_str())),
                },
                "plain": {
                    "value": plain,
                    "bytes": plain.len(),
                    "forged": forged_plain,
                    "forged_verdict": verdict(encodings::read_plain(&forged_plain)),
                },
            }),
        )
        .await?;
    Ok((status, body))
}

#[get("/labs/tamper?<flip>")]
async fn tamper_page(page: Page<'_>, flip: Option<&str>) -> Result<(Status, Html), AppError> {
    render(&page, flip, None).await
}

#[derive(FromForm)]
struct FlipForm {
    /// Text, not a number, so a wrong entry is this page's 422 with the reason, not a bare error.
    index: String,
}

/// Checks the index against this browser's value and shows the result: a 303 to the page, which
/// computes it (changing a byte sends nothing and changes nothing, so the page can redo it).
#[post("/labs/tamper/flip", data = "<form>")]
async fn flip_byte(
    page: Page<'_>,
    form: CheckedForm<FlipForm>,
) -> Result<Result<Redirect, (Status, Html)>, AppError> {
    let s = subject(&page).await?;
    match parse_index(&form.0.index, s.sealed.len()) {
        Ok(i) => {
            page.session
                .note(format!(
                    "Flipped byte {i} of copies of the value, in the server's memory only: \
                     nothing was sent to your browser and your session is as it was. The table \
                     shows what each kind of cookie makes of its changed copy."
                ))
                .await;
            Ok(Ok(Redirect::to(format!("/labs/tamper?flip={i}"))))
        }
        Err(why) => Ok(Err(render(&page, None, Some(why)).await?)),
    }
}

pub fn routes() -> Vec<rocket::Route> {
    rocket::routes![tamper_page, flip_byte]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indexes_are_numbers_inside_the_value() {
        assert_eq!(parse_index(" 3 ", 10), Ok(3));
        assert!(parse_index("10", 10).unwrap_err().contains("past the end"));
        assert!(parse_index("-1", 10)
            .unwrap_err()
            .contains("not a byte index"));
    }
}
