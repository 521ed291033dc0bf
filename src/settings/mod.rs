//! The app's own settings, read once from the same figment as Rocket's (`Rocket.toml`,
//! `ROCKET_*`), with one place for each default.

mod bounds;
pub mod key_file;
mod mode;
mod source;
mod startup;

use std::net::{IpAddr, Ipv4Addr};

use rocket::fairing::Fairing;
use rocket::figment::Figment;
use rocket::Config;
use serde::{Deserialize, Serialize};

use crate::origin::SiteOrigin;

pub use bounds::MAX_INSTANCE_CHARS;
pub use mode::{Mode, Revocation, SessionCache, SharedState};
pub use source::rocket_figment;

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
    /// Server mode: Redis in front of the `sessions` table (`"redis"`), or nothing (`"none"`).
    pub session_cache: SessionCache,
    /// `--mode redis` and `session_cache = "redis"`: the Redis server, `REDIS_URL` taking its place when set (see
    /// [`crate::figment`]). Not serialized: a URL may carry a password.
    #[serde(skip_serializing)]
    pub redis_url: String,
    /// `--mode redis`: what every key the app files in Redis starts with, so several apps (or
    /// tests) can share one server without touching each other's keys.
    pub redis_prefix: String,
    /// The throttles, the reports and the class switches in this process (`"local"`) or in Redis
    /// under `redis_prefix` (`"redis"`), so a fleet behind one proxy counts and shows as one.
    pub shared_state: SharedState,
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
    /// Accounts one browser holding a device cookie may create at once, and the seconds per
    /// further one: such a signup spends this browser's bucket instead of its address's.
    pub signup_device_burst: u32,
    pub signup_device_interval: u64,
    /// Sessions one client address may create by cookie-less POSTs at once, and the seconds per
    /// further one.
    pub new_session_address_burst: u32,
    pub new_session_address_interval: u64,
    /// Learners (the exercises' progress rows, each listed on the teacher's board) one client
    /// address may create at once, and the seconds per further one.
    pub learner_address_burst: u32,
    pub learner_address_interval: u64,
    /// The most live sessions one account may hold where the store keeps them (server mode): a
    /// login past it ends the account's oldest first, as Spring Security's `maximumSessions`.
    pub max_sessions_per_account: u32,
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
    /// Login attempts (right or wrong) one device cookie may send for its account; the wrong one
    /// that uses the last of them puts the device on the lockout list for an interval...
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
    /// The most bytes the kept reports may hold together (each one's estimated heap size plus
    /// its share of the shelf's indexes); past it, as past `report_max_kept`.
    pub report_max_bytes: usize,
    /// The most reports one browser (its CSRF cookie; without one, its address) keeps: it reads
    /// only the newest, after its redirect. Past it, its own oldest goes.
    pub report_max_per_browser: usize,
    /// The most reports kept for one client address, all its browsers together: a client that
    /// takes a new CSRF cookie for every POST counts as many browsers, but only up to this.
    /// Past it, the browser at that address holding the most loses its oldest.
    pub report_max_per_address: usize,
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
            session_cache: SessionCache::None,
            redis_url: DEFAULT_REDIS_URL.to_string(),
            redis_prefix: "session-lab:".to_string(),
            shared_state: SharedState::Local,
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
            // A person makes a second account for a lesson, perhaps a third; a script keeping its
            // cookies gets one a minute after that, and no share of its classmates'.
            signup_device_burst: 3,
            signup_device_interval: 60,
            // Generous for people (a classroom behind one address), but a script creating rows
            // as fast as it can gets one a second instead of thousands.
            new_session_address_burst: 100,
            new_session_address_interval: 1,
            // A browser becomes a learner once; a household or an office has a few dozen. A
            // script making a learner per request gets one every ten seconds after the first 30.
            learner_address_burst: 30,
            learner_address_interval: 10,
            // Enough for the exercises that need two or three browsers logged in as one account,
            // and one on each device a student owns; a script logging in again and again replaces
            // its own oldest rows instead of adding (one account made 168 rows in 10 s).
            max_sessions_per_account: 5,
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
            // OWASP's device cookies: five attempts from one device, then one a minute; the wrong
            // password that uses the fifth puts the device on the lockout list for a minute.
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
            // Four MiB: ~1,500 reports of ~2.7 KB, far more than are ever in flight (a redirect
            // is followed within milliseconds), yet a flood from many addresses stays well
            // inside the 40 MiB the whole process is held to (issue 21).
            report_max_bytes: 4 * 1024 * 1024,
            // One to read, and room for a second tab's POST landing first.
            report_max_per_browser: 3,
            // A household or an office behind one NAT; the classroom profile raises it.
            report_max_per_address: 64,
        }
    }
}

/// The longest a login attempt is delayed before it is refused outright.
pub const MAX_LOGIN_DELAY_MS: u64 = 4000;

/// The `Rocket.toml` profile that serves a class from one machine (README, "Teaching a class").
pub const CLASSROOM_PROFILE: &str = "classroom";

/// The Redis server when neither `REDIS_URL` nor `redis_url` names one: database 0 on this
/// machine.
pub const DEFAULT_REDIS_URL: &str = "redis://127.0.0.1:6379/0";

/// The database URL when neither `DATABASE_URL` nor `Rocket.toml` names one.
pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/session_lab";

impl Settings {
    /// Reads the settings from a figment, checks their bounds and that they agree with each other
    /// (the start-up checks, [`startup`]).
    ///
    /// # Errors
    /// A setting of the wrong type, out of bounds, or an unknown mode, as a message naming the key;
    /// settings that contradict each other, as a message naming them and the fix.
    pub fn from_figment(figment: &Figment) -> Result<Settings, String> {
        let mut s: Settings = figment.extract().map_err(|e| e.to_string())?;
        let debug_profile = *figment.profile() == Config::DEBUG_PROFILE;
        bounds::check(&s)?;
        s.cookie_secure = Some(s.cookie_secure.unwrap_or(!debug_profile));
        s.cleanup_interval = s.cleanup_interval.max(1);
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
        let instance = bounds::instance(s.instance.take(), port)?;
        s.instance = Some(instance);
        startup::check(figment, &s)?;
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

    /// Reads the settings into managed state, or stops the launch with a message naming the key
    /// (or the settings that contradict each other); in the classroom profile it also says at
    /// start the URL the students type.
    pub fn stage() -> impl Fairing {
        startup::Stage
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
