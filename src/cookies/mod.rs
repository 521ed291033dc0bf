//! The cookie controller: every cookie the app sets or removes goes through here. One place
//! names them and gives them their attributes ([`CookieConfig`], [`Kind`]), one typed API reads
//! and queues them during a request ([`Jar`], [`CookieValue`]), and one writer sends them at the
//! end of the response ([`writer`]), which also tells what crossed the wire ([`wire`]) — so a
//! page's "On the wire" is computed from exactly the lines that left.
//!
//! As tower-sessions' `CookieController` and actix-session's `set_session_cookie`: nothing else
//! writes a `Set-Cookie` header, and nothing uses Rocket's own jar to write (it percent-encodes
//! base64's `+`, `/` and `=`, so a value's size would not be what the pages say; and a cookie it
//! is given after the handler never reaches the browser).

mod jar;
pub mod wire;
pub mod writer;

use rocket::http::{Cookie, SameSite};
use time::OffsetDateTime;

use crate::crypto::Keys;
use crate::settings::{Mode, Settings};

pub use jar::{from_json, to_json, CookieValue, Jar, Outbox};
pub use wire::Exchange;

/// What a cookie of this app is for. A mode's own cookies carry the mode in their names, so two
/// apps side by side on one host (`--mode both`; cookies ignore ports) never overwrite each
/// other's; the learner, lab and plain exercise cookies follow the browser from one to the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// The session cookie: the store's key for the session, sealed.
    Session(Mode),
    /// The CSRF cookie: the token every form must carry, sealed.
    Csrf(Mode),
    /// The token naming a "what just happened" report kept for the page after a redirect.
    Report(Mode),
    /// The replay lab's sealed copy of the session cookie.
    ReplayCopy(Mode),
    /// A login's device cookie (OWASP's "device cookies").
    Device(Mode),
    /// The exercises' learner: progress follows the browser, not the session.
    Learner,
    /// This browser's lab switches (its clock offset, its outage).
    Lab,
    /// The plain, forgeable cookie of the `forge-plain` exercise.
    ExercisePlain,
}

impl Kind {
    /// The name with the `__Host-` prefix; [`CookieConfig::name`] drops it without Secure.
    fn host_name(self) -> &'static str {
        match self {
            Kind::Session(Mode::Server) => "__Host-session_id",
            Kind::Session(Mode::Cookie) => "__Host-session_data",
            Kind::Session(Mode::Redis) => "__Host-session_key",
            Kind::Csrf(Mode::Server) => "__Host-csrf_server",
            Kind::Csrf(Mode::Cookie) => "__Host-csrf_cookie",
            Kind::Csrf(Mode::Redis) => "__Host-csrf_redis",
            Kind::Report(Mode::Server) => "__Host-report_server",
            Kind::Report(Mode::Cookie) => "__Host-report_cookie",
            Kind::Report(Mode::Redis) => "__Host-report_redis",
            Kind::ReplayCopy(Mode::Server) => "__Host-replay_copy_server",
            Kind::ReplayCopy(Mode::Cookie) => "__Host-replay_copy_cookie",
            Kind::ReplayCopy(Mode::Redis) => "__Host-replay_copy_redis",
            Kind::Device(Mode::Server) => "__Host-device_server",
            Kind::Device(Mode::Cookie) => "__Host-device_cookie",
            Kind::Device(Mode::Redis) => "__Host-device_redis",
            Kind::Learner => "__Host-learner",
            Kind::Lab => "__Host-lab",
            Kind::ExercisePlain => "__Host-exercise_plain",
        }
    }

    /// Whether the cookie describes the request's session state: when the session's change is
    /// not kept (the store failed, or the session ended meanwhile), such a cookie must not go out
    /// either. Progress and lab switches are the browser's own and go out regardless.
    pub fn follows_session(self) -> bool {
        matches!(
            self,
            Kind::Session(_) | Kind::Csrf(_) | Kind::Device(_) | Kind::ReplayCopy(_)
        )
    }

    /// What the cookie is for, in a few words, for the pages that list cookies.
    pub fn purpose(self) -> &'static str {
        match self {
            Kind::Session(_) => "session cookie",
            Kind::Csrf(_) => "CSRF token",
            Kind::Report(_) => "report token",
            Kind::ReplayCopy(_) => "replay lab's copy",
            Kind::Device(_) => "device cookie",
            Kind::Learner => "exercise progress",
            Kind::Lab => "lab switches",
            Kind::ExercisePlain => "plain exercise cookie",
        }
    }

    /// Every kind of cookie, for finding one by its name.
    const ALL: [Kind; 18] = [
        Kind::Session(Mode::Server),
        Kind::Session(Mode::Cookie),
        Kind::Session(Mode::Redis),
        Kind::Csrf(Mode::Server),
        Kind::Csrf(Mode::Cookie),
        Kind::Csrf(Mode::Redis),
        Kind::Report(Mode::Server),
        Kind::Report(Mode::Cookie),
        Kind::Report(Mode::Redis),
        Kind::ReplayCopy(Mode::Server),
        Kind::ReplayCopy(Mode::Cookie),
        Kind::ReplayCopy(Mode::Redis),
        Kind::Device(Mode::Server),
        Kind::Device(Mode::Cookie),
        Kind::Device(Mode::Redis),
        Kind::Learner,
        Kind::Lab,
        Kind::ExercisePlain,
    ];
}

/// How long the browser keeps a cookie.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifetime {
    /// Until the browser closes (no `Expires`).
    Browser,
    /// Until this moment (`Expires`).
    Until(OffsetDateTime),
    /// For this many seconds from now (`Max-Age`).
    Seconds(i64),
}

/// Managed state: what every cookie of this app looks like — its name, its attributes, the keys
/// that seal it. The one place that adds `__Host-` and the attributes.
pub struct CookieConfig {
    /// The app's own session mode: the mode a [`Jar`] reads and writes by default.
    pub mode: Mode,
    pub secure: bool,
    pub keys: Keys,
}

impl CookieConfig {
    pub fn new(settings: &Settings, keys: Keys) -> CookieConfig {
        CookieConfig {
            mode: settings.mode,
            secure: settings.secure(),
            keys,
        }
    }

    /// The cookie's name. With Secure cookies every name takes the `__Host-` prefix, which
    /// browsers accept only on a Secure, Path=/ cookie without Domain: no other subdomain, and no
    /// plain-http page, can then set or overwrite it. Without Secure (the debug profile on
    /// http://127.0.0.1) a browser would refuse a prefixed cookie, so the plain names stay.
    pub fn name(&self, kind: Kind) -> &'static str {
        let name = kind.host_name();
        if self.secure {
            name
        } else {
            &name[HOST_PREFIX.len()..]
        }
    }

    /// The kind of cookie a name names, if it is one of this app's.
    pub fn kind_of(&self, name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| self.name(*k) == name)
    }

    /// A cookie with the attributes docs/SPEC.md names ("Cookies"): HttpOnly, SameSite=Lax, Path=/,
    /// Secure by setting, and the lifetime asked for.
    pub fn build(&self, kind: Kind, value: String, lifetime: Lifetime) -> Cookie<'static> {
        let mut cookie = Cookie::build((self.name(kind), value))
            .http_only(true)
            .same_site(SameSite::Lax)
            .path("/")
            .secure(self.secure)
            .build();
        match lifetime {
            Lifetime::Browser => cookie.set_expires(::cookie::Expiration::Session),
            Lifetime::Until(at) => cookie.set_expires(at),
            Lifetime::Seconds(s) => cookie.set_max_age(time::Duration::seconds(s)),
        }
        cookie
    }

    /// What removes the cookie: the same name, Path and attributes (else the browser keeps it),
    /// an empty value, and an expiry in the past.
    pub fn removal(&self, kind: Kind) -> Cookie<'static> {
        let mut c = self.build(kind, String::new(), Lifetime::Browser);
        c.make_removal();
        c
    }

    /// `plaintext` sealed for a cookie of `kind` (AES-256-GCM, the name as associated data): the
    /// value as it will be sent.
    pub fn seal(&self, kind: Kind, plaintext: &str) -> String {
        self.keys.seal(self.name(kind), plaintext)
    }

    /// Opens a value sealed for a cookie of `kind`: `None` for anything this app did not seal.
    pub fn open(&self, kind: Kind, value: &str) -> Option<crate::crypto::Opened> {
        self.keys.open(self.name(kind), value)
    }

    /// The size of a cookie of `kind` holding `value`, as a browser counts it.
    pub fn size(&self, kind: Kind, value: &str) -> usize {
        browser_size(self.name(kind), value)
    }
}

const HOST_PREFIX: &str = "__Host-";

/// Browsers keep at most 4096 bytes of name + value per cookie (RFC 6265 §6.1's minimum, which
/// Chrome, Firefox and Safari enforce, and what Chrome's devtools show as its size); past it they
/// drop the cookie silently.
pub const COOKIE_LIMIT: usize = 4096;

/// A cookie's size as the browser counts it: name + value, as written in `Set-Cookie` (the
/// writer sends base64 values without percent-encoding), without the `=`.
pub fn browser_size(name: &str, value: &str) -> usize {
    name.len() + value.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(secure: bool) -> CookieConfig {
        let keys = Keys::from_figment(&rocket::figment::Figment::new(), &[]).expect("a key");
        CookieConfig {
            mode: Mode::Server,
            secure,
            keys,
        }
    }

    #[test]
    fn every_name_takes_the_host_prefix_only_with_secure_and_names_one_kind() {
        let (plain, secure) = (config(false), config(true));
        for kind in Kind::ALL {
            assert_eq!(
                secure.name(kind),
                format!("__Host-{}", plain.name(kind)),
                "{kind:?}"
            );
            assert_eq!(plain.kind_of(plain.name(kind)), Some(kind));
            assert_eq!(secure.kind_of(secure.name(kind)), Some(kind));
        }
        assert_eq!(plain.name(Kind::Session(Mode::Server)), "session_id");
        assert_eq!(plain.name(Kind::Session(Mode::Cookie)), "session_data");
        assert_eq!(plain.kind_of("unrelated"), None);
    }

    #[test]
    fn a_cookie_carries_the_attributes_spec_names() {
        let c = config(true).build(Kind::Learner, "v".into(), Lifetime::Seconds(60));
        let line = c.to_string();
        for part in [
            "__Host-learner=v",
            "HttpOnly",
            "SameSite=Lax",
            "Path=/",
            "Secure",
            "Max-Age=60",
        ] {
            assert!(line.contains(part), "{line} lacks {part}");
        }
        let removal = config(false).removal(Kind::Lab).to_string();
        assert!(
            removal.starts_with("lab=;") && removal.contains("Max-Age=0"),
            "{removal}"
        );
    }
}
