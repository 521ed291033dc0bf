//! Which failures mean "not now" (a 503) rather than "not like that" (a bug, 500): the one
//! classification of database errors, and why a store or the database is unavailable. A leaf: it
//! imports nothing of the app, so the stores, the pool, the pages and the handlers all share it.

/// Why a store or the database cannot be used now (a 503, never a 500).
#[derive(Debug, thiserror::Error)]
pub enum Unavailable {
    /// PostgreSQL refused, timed out, or is gone.
    #[error(transparent)]
    Database(sqlx::Error),
    /// Redis refused, timed out, or is gone (`--mode redis`).
    #[error(transparent)]
    Redis(redis::RedisError),
    /// This browser's (or its class's) outage lab has cut the backend off: nothing was asked.
    #[error("an outage lab (this browser's or the class's) cut the database off")]
    Cut,
}

/// Whether a database error means PostgreSQL cannot serve now (answer 503), rather than a query
/// that went wrong (a bug: 500).
pub fn is_unavailable(e: &sqlx::Error) -> bool {
    match e {
        // A broken or refused connection, whichever layer noticed it first.
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|c| unavailable_state(&c)),
        _ => false,
    }
}

/// The SQLSTATEs that say "not now" rather than "not like that".
fn unavailable_state(code: &str) -> bool {
    // Connection exceptions (08…), shutting down or terminated by an administrator (57P01–57P05,
    // which `DROP DATABASE … WITH (FORCE)` sends to the sessions it ends), too many connections
    // (53300), and a database that does not exist (3D000: dropped while the app runs; new
    // connections are refused with it until it is back).
    code.starts_with("08") || code.starts_with("57P") || code == "53300" || code == "3D000"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_database_and_an_ended_connection_are_unavailable_but_a_bad_query_is_not() {
        assert!(unavailable_state("3D000"));
        assert!(unavailable_state("57P01"));
        assert!(unavailable_state("08006"));
        assert!(unavailable_state("53300"));
        assert!(!unavailable_state("42P01"));
        assert!(!unavailable_state("23505"));
        assert!(is_unavailable(&sqlx::Error::PoolTimedOut));
        assert!(!is_unavailable(&sqlx::Error::RowNotFound));
    }
}
