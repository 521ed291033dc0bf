//! What each session mode can and cannot do, named for the reason the behaviour differs, so a
//! test body reads `if can_revoke_one_session(mode)` rather than `if mode == Mode::Server`.
//!
//! Each predicate matches every mode explicitly: a new mode must decide, not inherit a default.

use session_lab::settings::Mode;

/// The session lives in a `sessions` row: there is a row to count, to show in the inspector and
/// to delete when the id changes. Cookie mode keeps nothing on the server.
pub fn stores_rows(mode: Mode) -> bool {
    match mode {
        Mode::Server => true,
        Mode::Cookie | Mode::Redis => false,
    }
}

/// Loading and saving a session are database statements (one per read, one more per write), so
/// `Session-Trace` and the proxy count queries. Cookie mode opens and seals the cookie instead.
pub fn sessions_cost_queries(mode: Mode) -> bool {
    match mode {
        Mode::Server => true,
        Mode::Cookie | Mode::Redis => false,
    }
}

/// The server can end one session on its own (a logout, an id change at login): it deletes the
/// row, and every copy of that cookie, on any instance, dies with it. A cookie session can only be
/// refused wholesale, by bumping the user's epoch; a copy of one outlives its logout.
pub fn can_revoke_one_session(mode: Mode) -> bool {
    match mode {
        Mode::Server | Mode::Redis => true,
        Mode::Cookie => false,
    }
}

/// Reading or writing a session needs PostgreSQL, so a database outage is a 503 on every page
/// that touches it. Cookie mode only needs the database for the users table.
pub fn needs_the_database_for_sessions(mode: Mode) -> bool {
    match mode {
        Mode::Server => true,
        Mode::Cookie | Mode::Redis => false,
    }
}

/// The whole session, data and deadlines, travels in the cookie: any change to it, even a sliding
/// refresh of the idle deadline, is a new cookie. A server-mode cookie is only the id.
pub fn the_cookie_is_the_session(mode: Mode) -> bool {
    match mode {
        Mode::Cookie => true,
        Mode::Server | Mode::Redis => false,
    }
}

/// The mode a test is not running, for its cookie names: a valid cookie of one mode must mean
/// nothing to the other.
pub fn other_mode(mode: Mode) -> Mode {
    match mode {
        Mode::Server | Mode::Redis => Mode::Cookie,
        Mode::Cookie => Mode::Server,
    }
}

/// The session's data lives on the server and the cookie only names it (a row, a Redis key): the
/// inspector shows what the store holds, and `session_max_bytes` is the limit.
pub fn holds_data_on_the_server(mode: Mode) -> bool {
    match mode {
        Mode::Server | Mode::Redis => true,
        Mode::Cookie => false,
    }
}

/// `Session-Trace`'s round-trip figures for `n` session round trips: SQL statements in server
/// mode, Redis commands in redis mode, none where the cookie is the session.
pub fn trips(mode: Mode, n: u32) -> String {
    match mode {
        Mode::Server => format!("queries={n}"),
        Mode::Cookie => "queries=0".to_string(),
        Mode::Redis if n == 0 => "queries=0".to_string(),
        Mode::Redis => format!("queries=0; redis={n}"),
    }
}

/// The store keeps an index of sessions (rows by user), so "sign out everywhere else" and "your
/// sessions" end them one by one. Redis mode files each session under its own key and keeps no
/// index: like cookie mode, it signs out everywhere by bumping the account's epoch.
pub fn ends_sessions_through_an_index(mode: Mode) -> bool {
    match mode {
        Mode::Server => true,
        Mode::Cookie | Mode::Redis => false,
    }
}
