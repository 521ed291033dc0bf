//! The app's own settings, read from the same figment as Rocket's (`Rocket.toml`, `ROCKET_*`).

use std::fmt;
use std::str::FromStr;

use rocket::figment::Figment;
use rocket::Config;
use serde::{Deserialize, Serialize};

/// Which session backend runs. Handlers never look at this; the session layer and the
/// inspector do.
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
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Mode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "server" => Ok(Mode::Server),
            "cookie" => Ok(Mode::Cookie),
            other => Err(format!(
                "unknown session mode {other:?}: use \"server\" or \"cookie\""
            )),
        }
    }
}

/// Everything SPEC.md's settings table names, with its defaults.
#[derive(Debug, Clone, Serialize)]
pub struct Settings {
    pub mode: Mode,
    pub idle_timeout: i64,
    pub absolute_timeout: i64,
    pub cookie_secure: bool,
    pub cleanup_interval: u64,
    pub trace: bool,
    /// Older secret keys, base64, still accepted when reading cookies.
    #[serde(skip)]
    pub secret_key_fallbacks: Vec<String>,
    /// A debug build running the debug profile: the inspector's clock fast-forward is offered
    /// (its route is not even compiled into release builds).
    pub fast_forward: bool,
    pub database: DatabaseSettings,
}

/// `databases.session_lab.*`, the same keys rocket_db_pools would read.
#[derive(Debug, Clone, Serialize)]
pub struct DatabaseSettings {
    pub url: String,
    pub max_connections: u32,
    /// Seconds to wait for a connection before answering 503.
    pub connect_timeout: u64,
}

pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/session_lab";

#[derive(Deserialize)]
struct Raw {
    session_mode: Option<String>,
    session_idle_timeout: Option<i64>,
    session_absolute_timeout: Option<i64>,
    session_cookie_secure: Option<bool>,
    session_cleanup_interval: Option<u64>,
    session_trace: Option<bool>,
    secret_key_fallbacks: Option<Vec<String>>,
}

#[derive(Deserialize, Default)]
struct RawDb {
    url: Option<String>,
    max_connections: Option<u32>,
    connect_timeout: Option<u64>,
}

impl Settings {
    /// Reads the settings from a figment, with SPEC's defaults.
    ///
    /// # Errors
    /// A setting of the wrong type or an unknown mode, as a message naming the key.
    pub fn from_figment(figment: &Figment) -> Result<Settings, String> {
        let raw: Raw = figment.extract().map_err(|e| e.to_string())?;
        let db: RawDb = match figment.find_value("databases.session_lab") {
            Ok(value) => value
                .deserialize()
                .map_err(|e| format!("databases.session_lab: {e}"))?,
            Err(_) => RawDb::default(),
        };
        let mode = match raw.session_mode {
            Some(m) => m.parse().map_err(|e| format!("session_mode: {e}"))?,
            None => Mode::Server,
        };
        let debug_profile = *figment.profile() == Config::DEBUG_PROFILE;
        // Ten years at most: past any sensible session, and far from where date arithmetic ends.
        const MAX_TIMEOUT: i64 = 10 * 366 * 24 * 3600;
        let positive = |name: &str, v: i64| {
            if (1..=MAX_TIMEOUT).contains(&v) {
                Ok(v)
            } else {
                Err(format!(
                    "{name} must be 1 to {MAX_TIMEOUT} seconds, not {v}"
                ))
            }
        };
        let idle_timeout = positive(
            "session_idle_timeout",
            raw.session_idle_timeout.unwrap_or(1800),
        )?;
        let absolute_timeout = positive(
            "session_absolute_timeout",
            raw.session_absolute_timeout.unwrap_or(1_209_600),
        )?;
        // `DATABASE_URL` is merged into this key by `crate::figment()`, so a test's own merge wins.
        let url = db.url.unwrap_or_else(|| DEFAULT_DATABASE_URL.to_string());
        Ok(Settings {
            mode,
            idle_timeout,
            absolute_timeout,
            cookie_secure: raw.session_cookie_secure.unwrap_or(!debug_profile),
            cleanup_interval: raw.session_cleanup_interval.unwrap_or(300).max(1),
            trace: raw.session_trace.unwrap_or(true),
            secret_key_fallbacks: raw.secret_key_fallbacks.unwrap_or_default(),
            fast_forward: debug_profile && cfg!(debug_assertions),
            database: DatabaseSettings {
                url,
                max_connections: db.max_connections.unwrap_or(10).max(1),
                // An hour at most: larger values overflow the pool's deadline arithmetic.
                connect_timeout: db.connect_timeout.unwrap_or(5).clamp(1, 3600),
            },
        })
    }
}
