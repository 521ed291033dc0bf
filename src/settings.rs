//! The app's own settings, read once from the same figment as Rocket's (`Rocket.toml`,
//! `ROCKET_*`), with one place for each default.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};

use rocket::fairing::AdHoc;
use rocket::figment::Figment;
use rocket::Config;
use serde::{Deserialize, Serialize};

use crate::origin::SiteOrigin;

/// Which session backend runs. Handlers never look at this; the stage that builds the session
/// store does, once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// The cookie holds a random id; the data is a row in PostgreSQL.
    Server,
    /// The cookie holds the whole encrypted session; the server keeps nothing.
    Cookie,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Server => "server",
            Mode::Cookie => "cookie",
        }
    }

    /// The session cookie's name. The modes use different names so both can run side by side on
    /// one host (cookies ignore ports).
    pub fn cookie_name(self) -> &'static str {
        match self {
            Mode::Server => "session_id",
            Mode::Cookie => "session_data",
        }
    }

    /// The CSRF cookie's name: per mode too, so two apps side by side (each with its own key in
    /// the debug profile) do not overwrite each other's token.
    pub fn csrf_cookie_name(self) -> &'static str {
        match self {
            Mode::Server => "csrf_server",
            Mode::Cookie => "csrf_cookie",
        }
    }

    /// The one-time "what just happened" cookie's name, per mode like the others.
    pub fn report_cookie_name(self) -> &'static str {
        match self {
            Mode::Server => "report_server",
            Mode::Cookie => "report_cookie",
        }
    }

    /// The report cookie's name with Secure cookies (see [`Mode::host_cookie_name`]).
    pub fn host_report_cookie_name(self) -> &'static str {
        match self {
            Mode::Server => "__Host-report_server",
            Mode::Cookie => "__Host-report_cookie",
        }
    }

    /// The replay lab's cookie, which keeps a sealed copy of the session cookie: per mode, so
    /// both modes can keep a copy in one browser.
    pub fn replay_copy_cookie_name(self) -> &'static str {
        match self {
            Mode::Server => "replay_copy_server",
            Mode::Cookie => "replay_copy_cookie",
        }
    }

    /// The replay lab's cookie name with Secure cookies (see [`Mode::host_cookie_name`]).
    pub fn host_replay_copy_cookie_name(self) -> &'static str {
        match self {
            Mode::Server => "__Host-replay_copy_server",
            Mode::Cookie => "__Host-replay_copy_cookie",
        }
    }

    /// The session cookie's name with Secure cookies. Browsers accept a `__Host-` cookie only
    /// with Secure, Path=/ and no Domain, and never from another subdomain or over http, so a
    /// sibling site cannot plant or shadow it.
    pub fn host_cookie_name(self) -> &'static str {
        match self {
            Mode::Server => "__Host-session_id",
            Mode::Cookie => "__Host-session_data",
        }
    }

    /// The CSRF cookie's name with Secure cookies (see [`Mode::host_cookie_name`]).
    pub fn host_csrf_cookie_name(self) -> &'static str {
        match self {
            Mode::Server => "__Host-csrf_server",
            Mode::Cookie => "__Host-csrf_cookie",
        }
    }

    /// Server mode keeps every session in PostgreSQL, so it refuses to start without it; cookie
    /// mode serves what it can and waits for the database.
    pub fn needs_database_to_start(self) -> bool {
        self == Mode::Server
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How cookie mode can end a session before its deadlines (`cookie_revocation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Revocation {
    /// Not at all: a copy of a cookie works until its deadlines pass, logout or not.
    None,
    /// A per-user counter checked where the account is loaded ("sign out everywhere else").
    Epoch,
    /// Each session carries a random id; logout records it, and every read checks the list.
    Denylist,
}

impl Revocation {
    pub fn as_str(self) -> &'static str {
        match self {
            Revocation::None => "none",
            Revocation::Epoch => "epoch",
            Revocation::Denylist => "denylist",
        }
    }
}

/// Ten years at most: past any sensible session, and far from where date arithmetic ends.
const MAX_TIMEOUT: i64 = 10 * 366 * 24 * 3600;

/// Everything docs/SPEC.md's settings table names. Each field's default is in `Default` below.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    #[serde(rename = "session_mode")]
    pub mode: Mode,
    #[serde(rename = "session_idle_timeout")]
    pub idle_timeout: i64,
    #[serde(rename = "session_absolute_timeout")]
    pub absolute_timeout: i64,
    /// `None` until resolved: `Secure` everywhere but the debug profile.
    #[serde(rename = "session_cookie_secure")]
    pub cookie_secure: Option<bool>,
    #[serde(rename = "session_cleanup_interval")]
    pub cleanup_interval: u64,
    #[serde(rename = "session_trace")]
    pub trace: bool,
    /// The most data one session may hold (its map as JSON), in bytes: server mode's row would
    /// otherwise grow without end. Cookie mode meets the 4096-byte cookie limit first.
    #[serde(rename = "session_max_bytes")]
    pub max_bytes: usize,
    /// Cookie mode: how a session can be ended before its deadlines.
    pub cookie_revocation: Revocation,
    /// Log each request's decoded session map at the debug level. Off unless asked for: the map
    /// is what a user stored, and debug logs travel further than the database does.
    #[serde(rename = "session_log_map")]
    pub log_map: bool,
    /// The origin browsers reach the site at (`https://lab.example`), which a POST's `Origin`
    /// must match. `None` until resolved: what the app itself serves (see [`Settings::origins`]).
    pub site_origin: Option<String>,
    /// The origins a form may come from, resolved from `site_origin` or the address and port.
    #[serde(skip)]
    pub origins: Vec<SiteOrigin>,
    /// Older secret keys, base64, still accepted when reading cookies.
    #[serde(skip_serializing)]
    pub secret_key_fallbacks: Vec<String>,
    /// Login attempts one account name may make at once (whether or not the account exists)...
    pub login_name_burst: u32,
    /// ...and the seconds after which one more is allowed.
    pub login_name_interval: u64,
    /// Login attempts one client address may make at once, and the seconds per further one.
    pub login_address_burst: u32,
    pub login_address_interval: u64,
    /// Milliseconds an attempt waits once half of a login burst is used, doubling with each
    /// further attempt (at most [`MAX_LOGIN_DELAY_MS`]); 0 turns the delay off.
    pub login_delay_ms: u64,
    /// Accounts one client address may create at once, and the seconds per further one.
    pub signup_address_burst: u32,
    pub signup_address_interval: u64,
    /// Sessions one client address may create by cookie-less POSTs at once, and the seconds per
    /// further one.
    pub new_session_address_burst: u32,
    pub new_session_address_interval: u64,
    /// Server mode: form writes (a color, a note) one session may make at once, and the seconds
    /// per further one. Each write rewrites the session's whole row (and its TOASTed data), so
    /// without a rate one client posting as fast as it can leaves dead row versions faster than
    /// autovacuum reclaims them.
    pub session_write_burst: u32,
    pub session_write_interval: u64,
    /// Password hashes (logins, signups) that may wait for a free core; past that a request is
    /// answered 503 at once instead of queueing.
    pub hash_queue: usize,
    /// Places in the hash queue kept for logins that carry a trusted device cookie: a flood of
    /// anonymous attempts cannot fill them.
    pub hash_queue_devices: usize,
    /// Wrong passwords one device cookie may send for its name before it is no longer trusted
    /// (its attempts are then judged like anyone's)...
    pub login_device_burst: u32,
    /// ...and the seconds after which one more is allowed.
    pub login_device_interval: u64,
    /// Seconds a device cookie lasts (it is renewed by each login that gets a new one).
    pub login_device_lifetime: i64,
    /// Cookie mode with `cookie_revocation = "denylist"`: deny-list entries one client address
    /// may add at once (each logout of a logged-in session adds one), and the seconds per
    /// further one; past it a logout or a new login is answered 429.
    pub denylist_address_burst: u32,
    pub denylist_address_interval: u64,
    /// The least zxcvbn score (0–4) a new password needs.
    pub password_min_score: u8,
    /// The name this process gives itself in every page's footer and in the `Served-By` header,
    /// so that behind a load balancer a student can tell which instance answered. `None` until
    /// resolved: this machine's hostname and the port (`lab-1:8000`).
    pub instance: Option<String>,
    /// Seconds a "what just happened" report waits in memory for the page a redirect lands on.
    pub report_keep_seconds: u64,
    /// The most reports kept at once (per app); past it the oldest is dropped.
    pub report_max_kept: usize,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            mode: Mode::Server,
            idle_timeout: 1800,
            absolute_timeout: 14 * 24 * 3600,
            cookie_secure: None,
            cleanup_interval: 300,
            trace: true,
            max_bytes: 64 * 1024,
            cookie_revocation: Revocation::Epoch,
            log_map: false,
            site_origin: None,
            origins: Vec::new(),
            secret_key_fallbacks: Vec::new(),
            // Ten guesses at one name, then one every 30 s: a 1000-guess run is stopped at its
            // eleventh attempt and would need over eight hours.
            login_name_burst: 10,
            login_name_interval: 30,
            // An address may try more names than one name may be tried (a shared NAT), but not
            // many more: 30, then ten a minute.
            login_address_burst: 30,
            login_address_interval: 6,
            login_delay_ms: 250,
            signup_address_burst: 10,
            signup_address_interval: 60,
            // Generous for people (a classroom behind one address), but a script creating rows
            // as fast as it can gets one a second instead of thousands.
            new_session_address_burst: 100,
            new_session_address_interval: 1,
            // A person adds a few notes a minute; a script gets one a second after the first 20.
            session_write_burst: 20,
            session_write_interval: 1,
            // With one hash per core running, eight more waiting: on two cores at ~30 ms a hash,
            // about 150 ms of waiting; measured under a flood of 800 on a machine loaded by other
            // builds, 32 let a real login wait 3.9 s, 8 kept every answer under 0.1 s.
            hash_queue: 8,
            // Four more for devices that logged in before: a real user's login waits behind at
            // most the running hashes and these.
            hash_queue_devices: 4,
            // OWASP's device cookies: five wrong passwords from one device, then one a minute
            // while it stays trusted; a device past that is judged like any other attempt.
            login_device_burst: 5,
            login_device_interval: 60,
            login_device_lifetime: 365 * 24 * 3600,
            // A person logs out a few times a day; a script adding rows gets one a minute.
            denylist_address_burst: 30,
            denylist_address_interval: 60,
            password_min_score: 3,
            instance: None,
            // A redirect is followed within milliseconds; a minute leaves room for a slow link
            // without keeping reports nobody will read.
            report_keep_seconds: 60,
            // About 2 KB each: at most ~20 MB, however many POSTs never follow their redirect.
            report_max_kept: 10_000,
        }
    }
}

/// The longest a login attempt is delayed before it is refused outright.
pub const MAX_LOGIN_DELAY_MS: u64 = 4000;

/// The longest `instance` name: it is shown in every footer and sent in every response.
pub const MAX_INSTANCE_CHARS: usize = 64;
/// The `Rocket.toml` profile that serves a class from one machine (README, "Teaching a class").
pub const CLASSROOM_PROFILE: &str = "classroom";

/// The database URL when neither `DATABASE_URL` nor `Rocket.toml` names one.
pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/session_lab";

impl Settings {
    /// Reads the settings from a figment and checks their bounds.
    ///
    /// # Errors
    /// A setting of the wrong type, out of bounds, or an unknown mode, as a message naming the key.
    pub fn from_figment(figment: &Figment) -> Result<Settings, String> {
        let mut s: Settings = figment.extract().map_err(|e| e.to_string())?;
        let debug_profile = *figment.profile() == Config::DEBUG_PROFILE;
        // Profile names are case-insensitive (`UncasedStr`).
        if figment.profile().as_str() == CLASSROOM_PROFILE {
            classroom_needs(figment, &s)?;
        }
        for (name, value) in [
            ("session_idle_timeout", s.idle_timeout),
            ("session_absolute_timeout", s.absolute_timeout),
            ("login_device_lifetime", s.login_device_lifetime),
        ] {
            if !(1..=MAX_TIMEOUT).contains(&value) {
                return Err(format!(
                    "{name} must be 1 to {MAX_TIMEOUT} seconds, not {value}"
                ));
            }
        }
        for (name, value) in [
            ("login_name_burst", s.login_name_burst),
            ("login_address_burst", s.login_address_burst),
            ("signup_address_burst", s.signup_address_burst),
            ("new_session_address_burst", s.new_session_address_burst),
            ("login_device_burst", s.login_device_burst),
            ("denylist_address_burst", s.denylist_address_burst),
            ("session_write_burst", s.session_write_burst),
        ] {
            if value == 0 {
                return Err(format!("{name} must be at least 1"));
            }
        }
        for (name, value) in [
            ("login_name_interval", s.login_name_interval),
            ("login_address_interval", s.login_address_interval),
            ("signup_address_interval", s.signup_address_interval),
            (
                "new_session_address_interval",
                s.new_session_address_interval,
            ),
            ("login_device_interval", s.login_device_interval),
            ("denylist_address_interval", s.denylist_address_interval),
            ("session_write_interval", s.session_write_interval),
        ] {
            if !(1..=MAX_TIMEOUT as u64).contains(&value) {
                return Err(format!(
                    "{name} must be 1 to {MAX_TIMEOUT} seconds, not {value}"
                ));
            }
        }
        if s.password_min_score > 4 {
            return Err(format!(
                "password_min_score must be 0 to 4, not {}",
                s.password_min_score
            ));
        }
        if !(1..=3600).contains(&s.report_keep_seconds) {
            return Err(format!(
                "report_keep_seconds must be 1 to 3600, not {}",
                s.report_keep_seconds
            ));
        }
        s.cookie_secure = Some(s.cookie_secure.unwrap_or(!debug_profile));
        s.cleanup_interval = s.cleanup_interval.max(1);
        if !(16..=16 * 1024 * 1024).contains(&s.max_bytes) {
            return Err(format!(
                "session_max_bytes must be 16 to 16777216, not {}",
                s.max_bytes
            ));
        }
        s.origins = match &s.site_origin {
            Some(origin) => vec![SiteOrigin::parse(origin).ok_or_else(|| {
                format!(
                    "site_origin must be scheme://host[:port] with http or https and nothing \
                     after the port, not {origin:?}"
                )
            })?],
            None => {
                let address: IpAddr = figment
                    .extract_inner("address")
                    .unwrap_or(Ipv4Addr::LOCALHOST.into());
                let port: u16 = figment.extract_inner("port").unwrap_or(8000);
                SiteOrigin::served(address, port)
            }
        };
        let port: u16 = figment.extract_inner("port").unwrap_or(8000);
        let instance = match s.instance.take() {
            Some(name) => name,
            None => format!("{}:{port}", hostname()),
        };
        // It goes into a response header as is: no control characters, nothing a header could
        // not carry, and short enough to read in a footer.
        if instance.is_empty()
            || instance.chars().count() > MAX_INSTANCE_CHARS
            || !instance.chars().all(|c| c.is_ascii_graphic() || c == ' ')
        {
            return Err(format!(
                "instance must be 1 to {MAX_INSTANCE_CHARS} printable ASCII characters, not \
                 {instance:?}"
            ));
        }
        s.instance = Some(instance);
        Ok(s)
    }

    /// The name of this instance (see [`Settings::instance`]), resolved by [`Settings::from_figment`].
    pub fn instance_name(&self) -> &str {
        self.instance.as_deref().unwrap_or("session-lab")
    }

    /// Whether cookies carry `Secure`.
    pub fn secure(&self) -> bool {
        self.cookie_secure.unwrap_or(true)
    }

    /// Reads the settings into managed state, or stops the launch with a message naming the key.
    pub fn stage() -> AdHoc {
        AdHoc::try_on_ignite("Settings", |rocket| async {
            match Settings::from_figment(rocket.figment()) {
                Ok(settings) => Ok(rocket.manage(settings)),
                Err(e) => {
                    eprintln!("session-lab: bad setting: {e}");
                    Err(rocket)
                }
            }
        })
    }
}

/// This machine's name, as the kernel has it (Linux); `localhost` where it cannot be read. Only
/// the default of `instance`, so a plain file read is enough: no crate, no system call.
fn hostname() -> String {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .filter_map(|path| std::fs::read_to_string(path).ok())
        .map(|name| name.trim().to_string())
        .find(|name| !name.is_empty() && name.chars().all(|c| c.is_ascii_graphic()))
        .unwrap_or_else(|| "localhost".to_string())
}

/// What a class server cannot guess, checked before anything starts: the origin the students'
/// browsers use (a POST from any other is refused, and the app listens on every address, so it
/// cannot tell which one the room reaches it at) and a key that outlives a restart (a random one
/// would log the whole class out each time).
fn classroom_needs(figment: &Figment, s: &Settings) -> Result<(), String> {
    if s.site_origin.is_none() {
        return Err(format!(
            "the {CLASSROOM_PROFILE} profile needs site_origin, the address the students' browsers \
             open: set ROCKET_SITE_ORIGIN=http://<this machine's LAN address>:<port> (find the \
             address with `hostname -I` or `ip -4 addr`; e.g. http://192.168.1.20:8000)"
        ));
    }
    let key_missing = figment.find_value("secret_key").is_err()
        || figment
            .extract_inner::<rocket::config::SecretKey>("secret_key")
            .is_ok_and(|k| k.is_zero());
    if key_missing {
        return Err(format!(
            "the {CLASSROOM_PROFILE} profile needs a secret_key that survives a restart, or every \
             restart logs the class out: make one with `head -c64 /dev/urandom | base64 -w0` and \
             set ROCKET_SECRET_KEY to it"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_bounds() {
        let s = Settings::from_figment(&Figment::new()).unwrap();
        assert_eq!(
            (s.mode, s.idle_timeout, s.trace),
            (Mode::Server, 1800, true)
        );
        let bad = Figment::new().merge(("session_mode", "both-ways"));
        assert!(Settings::from_figment(&bad)
            .unwrap_err()
            .contains("session_mode"));
        let bad = Figment::new().merge(("session_idle_timeout", 0));
        assert!(Settings::from_figment(&bad)
            .unwrap_err()
            .contains("session_idle_timeout"));
        let bad = Figment::new().merge(("site_origin", "https://lab.example/path"));
        assert!(Settings::from_figment(&bad)
            .unwrap_err()
            .contains("site_origin"));
    }

    #[test]
    fn the_origin_defaults_to_what_the_app_serves() {
        let names = |f: Figment| -> Vec<String> {
            let s = Settings::from_figment(&f).unwrap();
            s.origins.iter().map(|o| o.to_string()).collect()
        };
        assert_eq!(
            names(Figment::new()),
            ["http://127.0.0.1:8000", "http://localhost:8000"]
        );
        assert_eq!(
            names(
                Figment::new()
                    .merge(("address", "10.0.0.5"))
                    .merge(("port", 80))
            ),
            ["http://10.0.0.5"]
        );
        assert_eq!(
            names(Figment::new().merge(("site_origin", "HTTPS://Lab.Example:443/"))),
            ["https://lab.example"]
        );
    }

    #[test]
    fn the_instance_defaults_to_the_hostname_and_port_and_refuses_what_a_header_cannot_carry() {
        let s = Settings::from_figment(&Figment::new().merge(("port", 8123))).unwrap();
        assert_eq!(s.instance_name(), format!("{}:8123", hostname()));
        let s = Settings::from_figment(&Figment::new().merge(("instance", "lab-a"))).unwrap();
        assert_eq!(s.instance_name(), "lab-a");
        for bad in [
            "",
            "a\r\nSet-Cookie: x=1",
            "é",
            &"x".repeat(MAX_INSTANCE_CHARS + 1),
        ] {
            let err = Settings::from_figment(&Figment::new().merge(("instance", bad))).unwrap_err();
            assert!(err.contains("instance"), "{bad:?}: {err}");
        }
    }

    #[test]
    fn the_classroom_profile_needs_an_origin_and_a_key() {
        let class = |f: Figment| Settings::from_figment(&f.select(CLASSROOM_PROFILE));
        let key = ("secret_key", vec![7u8; 64]);
        let origin = ("site_origin", "http://192.168.1.20:8000");
        assert!(class(Figment::new().merge(key.clone()))
            .unwrap_err()
            .contains("needs site_origin"));
        assert!(class(Figment::new().merge(origin))
            .unwrap_err()
            .contains("needs a secret_key"));
        assert!(class(
            Figment::new()
                .merge(origin)
                .merge(("secret_key", vec![0u8; 64]))
        )
        .unwrap_err()
        .contains("needs a secret_key"));
        assert!(class(Figment::new().merge(origin).merge(key)).is_ok());
    }

    #[test]
    fn secure_names_are_the_plain_ones_with_the_host_prefix() {
        for mode in [Mode::Server, Mode::Cookie] {
            assert_eq!(
                mode.host_cookie_name(),
                format!("__Host-{}", mode.cookie_name())
            );
            assert_eq!(
                mode.host_csrf_cookie_name(),
                format!("__Host-{}", mode.csrf_cookie_name())
            );
        }
    }
}
