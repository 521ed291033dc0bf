//! The PostgreSQL pool, the database's creation and migrations, and the start-up rules for when
//! PostgreSQL cannot be reached.
//!
//! Why not `rocket_db_pools`: version 0.2 connects eagerly at ignite, so the app could not start
//! with the database down — but SPEC asks cookie mode to start anyway and recover by itself. A
//! lazily connecting sqlx pool, configured from the same `databases.session_lab` keys, does both.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgPool};
use tokio::sync::OnceCell;

use crate::settings::DatabaseSettings;

/// Applied at start (server mode) or at the first page that needs them (cookie mode).
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!();

/// The shared pool plus whether the schema is known to be in place.
pub struct Db {
    pool: PgPool,
    url: String,
    ready: OnceCell<()>,
}

/// Why the database could not be used.
#[derive(Debug)]
pub enum DbError {
    /// PostgreSQL could not be reached, or the pool timed out waiting for a connection.
    Unavailable(String),
    /// The database answered, but with an error we did not expect.
    Query(sqlx::Error),
}

impl std::fmt::Display for DbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DbError::Unavailable(why) => write!(f, "database unavailable: {why}"),
            DbError::Query(e) => write!(f, "database error: {e}"),
        }
    }
}

impl std::error::Error for DbError {}

impl From<sqlx::Error> for DbError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            // A broken or refused connection, whichever layer noticed it first.
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => DbError::Unavailable(e.to_string()),
            // The server said it cannot serve now: connection exceptions (08…), shutting down
            // (57P01–57P03), too many connections (53300).
            sqlx::Error::Database(ref db)
                if db.code().is_some_and(|c| {
                    c.starts_with("08") || c.starts_with("57P") || c == "53300"
                }) =>
            {
                DbError::Unavailable(e.to_string())
            }
            other => DbError::Query(other),
        }
    }
}

impl From<sqlx::migrate::MigrateError> for DbError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        match e {
            sqlx::migrate::MigrateError::Execute(inner) => inner.into(),
            other => DbError::Query(sqlx::Error::Migrate(Box::new(other))),
        }
    }
}

impl Db {
    /// A pool that connects on first use, so building it never fails for a down database.
    ///
    /// # Errors
    /// An unparsable database URL.
    pub fn connect_lazy(settings: &DatabaseSettings) -> Result<Db, String> {
        let options = PgConnectOptions::from_str(&settings.url)
            .map_err(|e| format!("databases.session_lab.url {:?}: {e}", settings.url))?
            .disable_statement_logging();
        let pool = PgPoolOptions::new()
            .max_connections(settings.max_connections)
            .acquire_timeout(Duration::from_secs(settings.connect_timeout))
            .connect_lazy_with(options);
        Ok(Db {
            pool,
            url: settings.url.clone(),
            ready: OnceCell::new(),
        })
    }

    /// The pool, once the database exists and is migrated. The first call creates and migrates
    /// it; later calls cost nothing. A failure is not remembered, so the app recovers by itself
    /// when PostgreSQL comes back.
    ///
    /// # Errors
    /// [`DbError::Unavailable`] when PostgreSQL cannot be reached.
    pub async fn ready(&self) -> Result<&PgPool, DbError> {
        self.ready
            .get_or_try_init(|| async {
                create_database_if_missing(&self.url).await?;
                MIGRATOR.run(&self.pool).await?;
                Ok::<(), DbError>(())
            })
            .await?;
        Ok(&self.pool)
    }

    /// The pool without the schema check: for the session store in server mode (migrated at
    /// start) and the health check.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub fn url(&self) -> &str {
        &self.url
    }
}

/// Connects to the server's `postgres` database and creates ours if it is not there.
async fn create_database_if_missing(url: &str) -> Result<(), DbError> {
    let options = PgConnectOptions::from_str(url)?;
    let name = options.get_database().unwrap_or("postgres").to_string();
    let mut conn = options.clone().database("postgres").connect().await?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(&name)
            .fetch_one(&mut conn)
            .await?;
    if !exists {
        let quoted = format!("\"{}\"", name.replace('"', "\"\""));
        match sqlx::query(&format!("CREATE DATABASE {quoted}"))
            .execute(&mut conn)
            .await
        {
            Ok(_) => {}
            // Another process created it between our check and our CREATE: fine.
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42P04") => {}
            Err(e) => return Err(e.into()),
        }
    }
    conn.close().await.ok();
    Ok(())
}

/// The paragraph server mode prints before exiting when the database cannot be used.
pub fn unreachable_message(url: &str, error: &DbError) -> String {
    if let DbError::Query(e) = error {
        // Reached, but refused: say so rather than suggest starting a server that runs.
        return format!(
            "session-lab: PostgreSQL at {url} answered, but the database could not be prepared: \
             {e}. If a migration was changed after it was applied, drop the development database \
             (`dropdb -h 127.0.0.1 -U postgres <name>`) and start again; the app recreates it."
        );
    }
    format!(
        "session-lab: cannot reach PostgreSQL at {url} ({error}). Server mode keeps every session \
         in the `sessions` table, so it cannot start without the database. Start PostgreSQL (on \
         Debian: `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`), or \
         point DATABASE_URL / databases.session_lab.url in Rocket.toml at a running server, or run \
         `session-lab --mode cookie`, which starts without a database."
    )
}
