//! The session modes and cookie mode's revocation rule: the two settings that are a choice among
//! names rather than a number, with the cookie names each mode owns.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Which session backend runs. Handlers never look at this; the stage that builds the session
/// store does, once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// The cookie holds a random id; the data is a row in PostgreSQL.
    Server,
    /// The cookie holds the whole encrypted session; the server keeps nothing.
    Cookie,
    /// The cookie holds a random id; the data is one key in Redis, which expires it.
    Redis,
}

impl Mode {
    /// Every mode, for what is shown or counted per mode.
    pub const ALL: [Mode; 3] = [Mode::Server, Mode::Cookie, Mode::Redis];

    /// The mode a name (from a template, a row, a cookie) means, if any.
    pub fn named(name: &str) -> Option<Mode> {
        Mode::ALL.into_iter().find(|m| m.as_str() == name)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Server => "server",
            Mode::Cookie => "cookie",
            Mode::Redis => "redis",
        }
    }

    /// The session cookie's name. The modes use different names so both can run side by side on
    /// one host (cookies ignore ports).
    pub fn cookie_name(self) -> &'static str {
        match self {
            Mode::Server => "session_id",
            Mode::Cookie => "session_data",
            Mode::Redis => "session_key",
        }
    }

    /// The CSRF cookie's name: per mode too, so two apps side by side (each with its own key in
    /// the debug profile) do not overwrite each other's token.
    pub fn csrf_cookie_name(self) -> &'static str {
        match self {
            Mode::Server => "csrf_server",
            Mode::Cookie => "csrf_cookie",
            Mode::Redis => "csrf_redis",
        }
    }

    /// The one-time "what just happened" cookie's name, per mode like the others.
    pub fn report_cookie_name(self) -> &'static str {
        match self {
            Mode::Server => "report_server",
            Mode::Cookie => "report_cookie",
            Mode::Redis => "report_redis",
        }
    }

    /// The report cookie's name with Secure cookies (see [`Mode::host_cookie_name`]).
    pub fn host_report_cookie_name(self) -> &'static str {
        match self {
            Mode::Server => "__Host-report_server",
            Mode::Cookie => "__Host-report_cookie",
            Mode::Redis => "__Host-report_redis",
        }
    }

    /// The replay lab's cookie, which keeps a sealed copy of the session cookie: per mode, so
    /// both modes can keep a copy in one browser.
    pub fn replay_copy_cookie_name(self) -> &'static str {
        match self {
            Mode::Server => "replay_copy_server",
            Mode::Cookie => "replay_copy_cookie",
            Mode::Redis => "replay_copy_redis",
        }
    }

    /// The replay lab's cookie name with Secure cookies (see [`Mode::host_cookie_name`]).
    pub fn host_replay_copy_cookie_name(self) -> &'static str {
        match self {
            Mode::Server => "__Host-replay_copy_server",
            Mode::Cookie => "__Host-replay_copy_cookie",
            Mode::Redis => "__Host-replay_copy_redis",
        }
    }

    /// The session cookie's name with Secure cookies. Browsers accept a `__Host-` cookie only
    /// with Secure, Path=/ and no Domain, and never from another subdomain or over http, so a
    /// sibling site cannot plant or shadow it.
    pub fn host_cookie_name(self) -> &'static str {
        match self {
            Mode::Server => "__Host-session_id",
            Mode::Cookie => "__Host-session_data",
            Mode::Redis => "__Host-session_key",
        }
    }

    /// The CSRF cookie's name with Secure cookies (see [`Mode::host_cookie_name`]).
    pub fn host_csrf_cookie_name(self) -> &'static str {
        match self {
            Mode::Server => "__Host-csrf_server",
            Mode::Cookie => "__Host-csrf_cookie",
            Mode::Redis => "__Host-csrf_redis",
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

/// What server mode puts in front of the `sessions` table (`session_cache`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SessionCache {
    /// Nothing: every load reads the row.
    #[default]
    None,
    /// Redis, as Django's `cached_db`: reads try it first, writes go to both.
    Redis,
}

/// Where the state that must agree across instances lives (`shared_state`): the throttles, the
/// "what just happened" reports and the teacher's class switches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SharedState {
    /// This process's memory: each instance behind a proxy counts and shows on its own.
    #[default]
    Local,
    /// Redis, under `redis_prefix`: every instance on one prefix counts and shows as one.
    Redis,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secure_names_are_the_plain_ones_with_the_host_prefix() {
        for mode in [Mode::Server, Mode::Cookie, Mode::Redis] {
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
