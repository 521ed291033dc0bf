//! Cross-site request forgery defences for every POST: a token paired with an encrypted cookie
//! (so viewing a page never needs a session row), plus a same-origin check on `Origin` and
//! `Sec-Fetch-Site`.
//!
//! The pair is not bound to the session: a site that could set cookies for this host (a sibling
//! subdomain) could plant a pair of its own. The `Origin` / `Sec-Fetch-Site` check narrows that;
//! binding the token to the session would close it, at the cost of a session for every visitor.

use std::fmt;
use std::net::IpAddr;

use rocket::data::{self, Data, FromData, ToByteUnit};
use rocket::form::{Form, FromForm};
use rocket::http::{CookieJar, RawStr, Status};
use rocket::request::{self, FromRequest, Request};

use subtle::ConstantTimeEq;

use crate::cookies::CookieConfig;
use crate::crypto::random_token;
use crate::error::refuse;
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

/// The token in this request's CSRF cookie, if it decrypts.
fn cookie_token(req: &Request<'_>, config: &CookieConfig) -> Option<String> {
    let cookie = req.cookies().get(config.csrf)?;
    let opened = config.keys.open(config.csrf, cookie.value())?;
    (opened.plaintext.len() == 43).then_some(opened.plaintext)
}

/// Issues a new token and its cookie. Called at login and logout, so a token seen before either
/// no longer works (and by the guard, when there is none yet).
pub fn renew(jar: &CookieJar<'_>, config: &CookieConfig) -> String {
    let token = random_token(32);
    jar.add(config.sealed(config.csrf, &token));
    token
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for CsrfToken {
    type Error = &'static str;

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, Self::Error> {
        let Some(config) = req.rocket().state::<CookieConfig>() else {
            return request::Outcome::Error((
                Status::InternalServerError,
                "no cookie configuration",
            ));
        };
        if let Some(token) = slot_get(req) {
            return request::Outcome::Success(CsrfToken(token));
        }
        let token = match cookie_token(req, config) {
            Some(token) => {
                slot_set(req, &token);
                token
            }
            None => {
                let token = renew(req.cookies(), config);
                slot_set(req, &token);
                token
            }
        };
        request::Outcome::Success(CsrfToken(token))
    }
}

/// An origin as browsers send it in `Origin`: scheme, host and port, compared as a whole. Host
/// names are kept lower-case and the port explicit, so `HTTP://Lab.Example` and
/// `http://lab.example:80` are the same origin and `https://lab.example` another one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteOrigin {
    scheme: &'static str,
    host: String,
    port: u16,
}

impl SiteOrigin {
    /// Reads `scheme://host[:port]` (a trailing `/` allowed, nothing else after the port);
    /// `None` for anything else, `null` included.
    pub fn parse(origin: &str) -> Option<SiteOrigin> {
        let (scheme, rest) = origin.split_once("://")?;
        let (scheme, default_port) = match scheme.to_ascii_lowercase().as_str() {
            "http" => ("http", 80),
            "https" => ("https", 443),
            _ => return None,
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.is_empty() || rest.contains(['/', '?', '#', '@', ' ']) {
            return None;
        }
        // An IPv6 literal keeps its brackets: `[::1]:8000`.
        let (host, port) = match rest.strip_prefix('[') {
            Some(v6) => {
                let (addr, after) = v6.split_once(']')?;
                (format!("[{addr}]"), after)
            }
            None => match rest.split_once(':') {
                Some((host, _)) => (host.to_string(), &rest[host.len()..]),
                None => (rest.to_string(), ""),
            },
        };
        let port = match port {
            "" => default_port,
            p => p.strip_prefix(':')?.parse().ok()?,
        };
        if host.is_empty() || host == "[]" {
            return None;
        }
        Some(SiteOrigin {
            scheme,
            host: host.to_ascii_lowercase(),
            port,
        })
    }

    /// What the app itself serves when no `site_origin` is set: plain http on its address and
    /// port. A loopback or unspecified address is reached as `localhost` too (the same browser,
    /// the same machine); the README says to set `site_origin` behind a proxy or TLS.
    pub fn served(address: IpAddr, port: u16) -> Vec<SiteOrigin> {
        let at = |host: String| SiteOrigin {
            scheme: "http",
            host,
            port,
        };
        let literal = match address {
            IpAddr::V4(v4) => v4.to_string(),
            IpAddr::V6(v6) => format!("[{v6}]"),
        };
        if address.is_loopback() {
            vec![at(literal), at("localhost".into())]
        } else if address.is_unspecified() {
            vec![
                at("localhost".into()),
                at("127.0.0.1".into()),
                at("[::1]".into()),
            ]
        } else {
            vec![at(literal)]
        }
    }
}

impl fmt::Display for SiteOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let default_port = if self.scheme == "https" { 443 } else { 80 };
        write!(f, "{}://{}", self.scheme, self.host)?;
        if self.port != default_port {
            write!(f, ":{}", self.port)?;
        }
        Ok(())
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
        let expected = req
            .rocket()
            .state::<CookieConfig>()
            .and_then(|config| cookie_token(req, config));
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

#[cfg(test)]
mod tests {
    use super::SiteOrigin;

    fn parsed(s: &str) -> Option<String> {
        SiteOrigin::parse(s).map(|o| o.to_string())
    }

    #[test]
    fn origins_compare_scheme_host_and_port() {
        assert_eq!(
            parsed("http://127.0.0.1:8000").as_deref(),
            Some("http://127.0.0.1:8000")
        );
        assert_eq!(
            parsed("https://Lab.Example/").as_deref(),
            Some("https://lab.example")
        );
        assert_eq!(
            parsed("http://lab.example:80").as_deref(),
            Some("http://lab.example")
        );
        assert_eq!(
            parsed("http://[::1]:8000").as_deref(),
            Some("http://[::1]:8000")
        );
        assert_ne!(
            SiteOrigin::parse("https://127.0.0.1:8000"),
            SiteOrigin::parse("http://127.0.0.1:8000")
        );
        for bad in [
            "null",
            "",
            "ftp://lab.example",
            "http://",
            "http://lab.example/path",
            "http://user@lab.example",
            "http://lab.example:port",
            "http://lab.example:99999",
        ] {
            assert_eq!(parsed(bad), None, "{bad}");
        }
    }
}
