//! Cross-site request forgery defences for every POST: a token paired with an encrypted cookie
//! (so viewing a page never needs a session row), plus a same-origin check on `Origin` and
//! `Sec-Fetch-Site`.
//!
//! The pair is not bound to the session: a site that could set cookies for this host (a sibling
//! subdomain) could plant a pair of its own. The `Origin` / `Sec-Fetch-Site` check narrows that;
//! binding the token to the session would close it, at the cost of a session for every visitor.

use rocket::data::{self, Data, FromData, ToByteUnit};
use rocket::form::{Form, FromForm};
use rocket::http::{RawStr, Status};
use rocket::request::{self, FromRequest, Request};

use subtle::ConstantTimeEq;

use crate::cookies::{CookieValue, Jar, Kind};
use crate::crypto::random_token;
use crate::error::page::refuse;
use crate::origin::SiteOrigin;
use crate::settings::Mode;
use crate::settings::Settings;

/// The token this browser's forms must carry. Issued (with its cookie) on first use.
#[derive(Debug, Clone)]
pub struct CsrfToken(pub String);

/// One token per request, even when several guards ask for it.
#[derive(Default)]
struct Slot(std::sync::Mutex<Option<String>>);

fn slot_get(req: &Request<'_>) -> Option<String> {
    req.local_cache(Slot::default)
        .0
        .lock()
        .ok()
        .and_then(|s| s.clone())
}

fn slot_set(req: &Request<'_>, token: &str) {
    if let Ok(mut s) = req.local_cache(Slot::default).0.lock() {
        *s = Some(token.to_string());
    }
}

/// What the CSRF cookie seals: the token (256 bits, base64url).
struct CsrfCookie(String);

impl CookieValue for CsrfCookie {
    fn kind(mode: Mode) -> Kind {
        Kind::Csrf(mode)
    }
    fn encode(&self) -> Option<String> {
        Some(self.0.clone())
    }
    fn decode(plaintext: &str) -> Option<Self> {
        (plaintext.len() == 43).then(|| CsrfCookie(plaintext.to_string()))
    }
}

/// The token in this request's CSRF cookie as it came (never one this response renews), if it
/// opens. Only this server can seal one, so it also names the browser where a client must not pose
/// as many (the report shelf). Opened once per request: a POST's form check and its report both
/// ask, and each opening is an AES-GCM decryption (about 3,300 instructions).
pub fn cookie_token(req: &Request<'_>, jar: Jar<'_>) -> Option<String> {
    req.local_cache(|| CameWith(jar.get::<CsrfCookie>().map(|c| c.0)))
        .0
        .clone()
}

/// The CSRF cookie's token as the request brought it.
struct CameWith(Option<String>);

/// Issues a new token and its cookie. Called at login and logout, so a token seen before either
/// no longer works (and by the guard, when there is none yet).
pub fn renew(jar: Jar<'_>) -> String {
    let token = random_token(32);
    jar.set(&CsrfCookie(token.clone()));
    token
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for CsrfToken {
    type Error = &'static str;

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, Self::Error> {
        let Some(jar) = Jar::of(req) else {
            return request::Outcome::Error((
                Status::InternalServerError,
                "no cookie configuration",
            ));
        };
        if let Some(token) = slot_get(req) {
            return request::Outcome::Success(CsrfToken(token));
        }
        let token = cookie_token(req, jar).unwrap_or_else(|| renew(jar));
        slot_set(req, &token);
        request::Outcome::Success(CsrfToken(token))
    }
}

/// Refuses requests a browser marks as coming from another site: `Sec-Fetch-Site: cross-site`,
/// or an `Origin` that is not one of the site's configured origins. The `Host` header is not
/// consulted: whoever sends the request chooses it, while `site_origin` is the operator's word.
fn check_same_origin(req: &Request<'_>) -> Result<(), String> {
    if req.headers().get_one("Sec-Fetch-Site") == Some("cross-site") {
        return Err(
            "the browser says this form came from another site (Sec-Fetch-Site: cross-site)".into(),
        );
    }
    if let Some(origin) = req.headers().get_one("Origin") {
        let allowed: &[SiteOrigin] = req
            .rocket()
            .state::<Settings>()
            .map(|s| s.origins.as_slice())
            .unwrap_or_default();
        if !SiteOrigin::parse(origin).is_some_and(|o| allowed.contains(&o)) {
            let site = allowed
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(" or ");
            return Err(format!(
                "the form came from {origin}, not from this site ({site})"
            ));
        }
    }
    Ok(())
}

/// A form that carries only its CSRF token (logout, clear): the token was checked already.
#[derive(Debug, FromForm)]
pub struct NoFields {
    pub csrf_token: Option<String>,
}

/// A form whose request passed the CSRF checks. Use it as the data guard of every POST; `T` holds
/// the form's other fields (the token is read separately, so `T` does not name it).
#[derive(Debug)]
pub struct CheckedForm<T>(pub T);

#[rocket::async_trait]
impl<'r, T: for<'a> FromForm<'a> + Send + 'static> FromData<'r> for CheckedForm<T> {
    type Error = String;

    async fn from_data(req: &'r Request<'_>, data: Data<'r>) -> data::Outcome<'r, Self> {
        let fail = |status: Status, why: String| {
            refuse(req, why.clone());
            data::Outcome::Error((status, why))
        };
        if let Err(why) = check_same_origin(req) {
            return fail(Status::Forbidden, why);
        }
        // The token can only come in a form body: anything else carries none.
        if !req.content_type().is_some_and(|ct| ct.is_form()) {
            return fail(
                Status::Forbidden,
                "the request is not an HTML form, so it has no CSRF token".into(),
            );
        }
        let limit = req.limits().get("form").unwrap_or_else(|| 32.kibibytes());
        let body = match data.open(limit).into_string().await {
            Ok(body) if body.is_complete() => body.into_inner(),
            Ok(_) => {
                return fail(
                    Status::PayloadTooLarge,
                    format!("the form is larger than {limit}"),
                )
            }
            Err(e) => return fail(Status::BadRequest, format!("could not read the form: {e}")),
        };
        let raw = RawStr::new(&body);
        let sent = Form::<NoFields>::parse_encoded(raw)
            .ok()
            .and_then(|t| t.csrf_token);
        let expected = Jar::of(req).and_then(|jar| cookie_token(req, jar));
        match (sent, expected) {
            (Some(sent), Some(expected))
                if bool::from(sent.as_bytes().ct_eq(expected.as_bytes())) => {}
            (None, _) => return fail(Status::Forbidden, "the form has no CSRF token".into()),
            (Some(_), None) => {
                return fail(
                    Status::Forbidden,
                    "this browser has no CSRF cookie (were cookies deleted?)".into(),
                )
            }
            (Some(_), Some(_)) => {
                return fail(
                    Status::Forbidden,
                    "the form's CSRF token is not the one issued to this browser".into(),
                )
            }
        }
        match Form::<T>::parse_encoded(raw) {
            Ok(value) => data::Outcome::Success(CheckedForm(value)),
            Err(errors) => {
                let fields: Vec<String> = errors
                    .iter()
                    .map(|e| match e.name.as_ref() {
                        Some(name) => format!("{name}: {}", e.kind),
                        None => e.kind.to_string(),
                    })
                    .collect();
                fail(Status::UnprocessableEntity, fields.join("; "))
            }
        }
    }
}
