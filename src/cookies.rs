//! The app's cookies in one place: their names, the attributes every one of them carries, and the
//! keys that seal them. The session layer, CSRF and the error pages read this small configuration
//! instead of each other.

use rocket::http::{Cookie, SameSite};

use crate::crypto::Keys;
use crate::settings::{Mode, Settings};

/// Managed state: what every cookie of this app looks like.
pub struct CookieConfig {
    /// Said on every page (the header's badge), error pages included.
    pub mode: Mode,
    /// The session cookie's name.
    pub session: &'static str,
    /// The CSRF cookie's name.
    pub csrf: &'static str,
    /// The cookie that hands "what just happened" to the page after a redirect.
    pub report: &'static str,
    /// The replay lab's sealed copy of the session cookie.
    pub replay_copy: &'static str,
    /// The login device cookie (OWASP's "device cookies"): the names this browser logged in as.
    pub device: &'static str,
    /// The exercises' learner cookie: one name for both modes, so `--mode both` shares it.
    pub learner: &'static str,
    /// The plain, forgeable cookie the `forge-plain` exercise hands out (one name for both modes).
    pub exercise_plain: &'static str,
    /// The labs' per-browser state ([`crate::lab`]): one name for both modes, so that with
    /// `--mode both` the clock and the switch follow the browser from one app to the other.
    pub lab: &'static str,
    pub secure: bool,
    pub keys: Keys,
}

impl CookieConfig {
    /// With Secure cookies every name takes the `__Host-` prefix, which browsers accept only on
    /// a Secure, Path=/ cookie without Domain: no other subdomain, and no plain-http page, can
    /// then set or overwrite it. Without Secure (the debug profile on http://127.0.0.1) a browser
    /// would refuse a prefixed cookie, so the plain names stay.
    pub fn new(settings: &Settings, keys: Keys) -> CookieConfig {
        let mode = settings.mode;
        let secure = settings.secure();
        CookieConfig {
            mode,
            session: if secure {
                mode.host_cookie_name()
            } else {
                mode.cookie_name()
            },
            csrf: if secure {
                mode.host_csrf_cookie_name()
            } else {
                mode.csrf_cookie_name()
            },
            report: if secure {
                mode.host_report_cookie_name()
            } else {
                mode.report_cookie_name()
            },
            replay_copy: if secure {
                mode.host_replay_copy_cookie_name()
            } else {
                mode.replay_copy_cookie_name()
            },
            device: match (mode, secure) {
                (Mode::Server, false) => "device_server",
                (Mode::Server, true) => "__Host-device_server",
                (Mode::Cookie, false) => "device_cookie",
                (Mode::Cookie, true) => "__Host-device_cookie",
            },
            learner: if secure { "__Host-learner" } else { "learner" },
            exercise_plain: if secure {
                "__Host-exercise_plain"
            } else {
                "exercise_plain"
            },
            lab: if secure { "__Host-lab" } else { "lab" },
            secure,
            keys,
        }
    }

    /// A cookie with the attributes docs/SPEC.md names ("Cookies"): HttpOnly, SameSite=Lax, Path=/,
    /// Secure by setting, and no Expires (it ends with the browser) unless one is set after.
    pub fn build(&self, name: &'static str, value: String) -> Cookie<'static> {
        Cookie::build((name, value))
            .http_only(true)
            .same_site(SameSite::Lax)
            .path("/")
            .secure(self.secure)
            .expires(::cookie::Expiration::Session)
            .build()
    }

    /// What removes the cookie called `name`: the same name, Path and attributes (else the
    /// browser keeps it), an empty value, and an expiry in the past.
    pub fn removal(&self, name: &'static str) -> Cookie<'static> {
        let mut c = self.build(name, String::new());
        c.make_removal();
        c
    }

    /// Seals `plaintext` into a cookie called `name`.
    pub fn sealed(&self, name: &'static str, plaintext: &str) -> Cookie<'static> {
        self.build(name, self.keys.seal(name, plaintext))
    }
}

/// Browsers keep at most 4096 bytes of name + value per cookie (RFC 6265 §6.1's minimum, which
/// Chrome, Firefox and Safari enforce, and what Chrome's devtools show as its size); past it they
/// drop the cookie silently.
pub const COOKIE_LIMIT: usize = 4096;

/// A cookie's size as the browser counts it: name + value, as written in `Set-Cookie` (the
/// session layer writes its base64 values without percent-encoding), without the `=`.
pub fn browser_size(name: &str, value: &str) -> usize {
    name.len() + value.len()
}
