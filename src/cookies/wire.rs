//! What crossed the wire for one request, as devtools' Network tab shows it: the cookies of the
//! request's `Cookie` header (names and sizes, never values) and every `Set-Cookie` line of the
//! response, each named by what it is for. Read from the response after the writer ran, so it is
//! what left, not what some part of the app meant to send.

use serde::Serialize;

use super::{browser_size, CookieConfig, Kind};

/// Where a page (an error page too) shows its own exchange: known only once the response is
/// complete, so it is written in after the cookie writer ran (`Outbox::show_exchange`).
pub const EXCHANGE_MARKER: &str = "<!--session-lab:this-exchange-->";

/// How many characters of a cookie's value a line shows: enough to see it change.
const VALUE_SHOWN: usize = 24;

/// One request's cookies, both ways.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Exchange {
    /// The response's status.
    pub status: u16,
    /// Its reason phrase (`See Other`).
    pub reason: &'static str,
    /// Each cookie of the request's `Cookie` header.
    pub sent: Vec<SentCookie>,
    /// Each `Set-Cookie` line of the response, session cookies first, the others in the order
    /// they were sent.
    pub answered: Vec<SetCookieLine>,
}

/// A cookie the browser sent.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SentCookie {
    pub name: String,
    /// Name + value, as the browser counts it.
    pub bytes: usize,
    /// A session cookie (of this app's mode, or the sibling's under `--mode both`).
    pub session: bool,
    /// What it is for, when it is one of the app's.
    pub purpose: Option<&'static str>,
}

/// One `Set-Cookie` line.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SetCookieLine {
    pub name: String,
    /// Name + value, as the browser counts it.
    pub bytes: usize,
    /// The whole line, its value cut past a few characters.
    pub line: String,
    /// It tells the browser to delete the cookie.
    pub removes: bool,
    pub session: bool,
    pub purpose: Option<&'static str>,
}

impl Exchange {
    /// The exchange of a request with these `Cookie` headers and a response with this status and
    /// these `Set-Cookie` lines; `config` names the app's cookies.
    pub fn read<'a>(
        config: &CookieConfig,
        status: u16,
        cookie_headers: impl Iterator<Item = &'a str>,
        set_cookies: impl Iterator<Item = &'a str>,
    ) -> Exchange {
        let kind = |name: &str| config.kind_of(name);
        let is_session = |k: Option<Kind>| matches!(k, Some(Kind::Session(_)));
        let sent = cookie_headers
            .flat_map(|h| h.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .map(|(name, value)| {
                let k = kind(name);
                SentCookie {
                    name: name.to_string(),
                    bytes: browser_size(name, value),
                    session: is_session(k),
                    purpose: k.map(Kind::purpose),
                }
            })
            .collect();
        let mut answered: Vec<SetCookieLine> = set_cookies
            .map(|line| {
                let (pair, attributes) = line.split_once(';').unwrap_or((line, ""));
                let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
                let shown = match value.char_indices().nth(VALUE_SHOWN) {
                    Some((cut, _)) => format!("{}…", &value[..cut]),
                    None => value.to_string(),
                };
                let attributes = if attributes.is_empty() {
                    String::new()
                } else {
                    format!(";{attributes}")
                };
                let k = kind(name);
                SetCookieLine {
                    name: name.to_string(),
                    bytes: browser_size(name, value),
                    line: format!("{name}={shown}{attributes}"),
                    removes: attributes.contains("Max-Age=0"),
                    session: is_session(k),
                    purpose: k.map(Kind::purpose),
                }
            })
            .collect();
        // The session cookie first: it is what the lesson is about. A stable sort keeps the
        // others in the order they were sent.
        answered.sort_by_key(|l| !l.session);
        Exchange {
            status,
            reason: rocket::http::Status::from_code(status).map_or("", |s| s.reason_lossy()),
            sent,
            answered,
        }
    }

    /// The session cookies the request carried.
    pub fn sent_sessions(&self) -> impl Iterator<Item = &SentCookie> {
        self.sent.iter().filter(|c| c.session)
    }

    /// The other cookies the request carried.
    pub fn sent_others(&self) -> impl Iterator<Item = &SentCookie> {
        self.sent.iter().filter(|c| !c.session)
    }

    /// An estimate of the memory this exchange holds, for a store that bounds it in bytes.
    pub fn heap_bytes(&self) -> usize {
        self.sent.iter().map(|c| c.name.len() + 48).sum::<usize>()
            + self
                .answered
                .iter()
                .map(|l| l.name.len() + l.line.len() + 64)
                .sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::Mode;

    #[test]
    fn the_exchange_cuts_values_names_each_cookie_and_puts_the_session_first() {
        let keys =
            crate::crypto::Keys::from_figment(&rocket::figment::Figment::new(), &[]).expect("key");
        let config = CookieConfig {
            mode: Mode::Server,
            secure: false,
            keys,
        };
        let value = "A".repeat(100);
        let line = format!("session_id={value}; HttpOnly; SameSite=Lax; Path=/");
        let x = Exchange::read(
            &config,
            303,
            ["session_id=abc; csrf_server=xyz; other=1"].into_iter(),
            ["report_server=; Max-Age=0", line.as_str()].into_iter(),
        );
        assert_eq!(x.reason, "See Other");
        let sent: Vec<_> = x
            .sent
            .iter()
            .map(|c| (c.name.as_str(), c.bytes, c.session))
            .collect();
        assert_eq!(
            sent,
            [
                ("session_id", 13, true),
                ("csrf_server", 14, false),
                ("other", 6, false)
            ]
        );
        assert_eq!(x.sent[1].purpose, Some("CSRF token"));
        assert_eq!(x.sent[2].purpose, None);
        assert_eq!(x.answered[0].name, "session_id");
        assert_eq!(x.answered[0].bytes, 110);
        assert_eq!(
            x.answered[0].line,
            format!(
                "session_id={}…; HttpOnly; SameSite=Lax; Path=/",
                "A".repeat(24)
            )
        );
        assert!(x.answered[1].removes && !x.answered[0].removes);
        assert_eq!(x.answered[1].purpose, Some("report token"));
    }
}
