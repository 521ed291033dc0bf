//! The database subsystem: a lazily connecting PostgreSQL pool behind `rocket_db_pools`, the
//! database's creation and migrations, and the start-up rules for when PostgreSQL is down.
//!
//! Why a pool of our own: `rocket_db_pools` 0.2's built-in sqlx pool connects eagerly at ignite
//! (and pins sqlx 0.7), so the app could not start with the database down — but docs/SPEC.md asks
//! cookie mode to start anyway and recover by itself. [`LazyPool`] implements
//! `rocket_db_pools::Pool` with sqlx's `connect_lazy_with`, so `#[derive(Database)]`, its `Config`
//! for `databases.session_lab.*` and its `Connection` guard (503 when no connection can be had)
//! all work as documented, on a pool that connects on first use.

use std::sync::Arc;
use std::time::Duration;

use rocket::fairing::{self, AdHoc};
use rocket::figment::Figment;
use rocket::{Build, Rocket};
use rocket_db_pools::Database;
use sqlx::migrate::MigrateDatabase;
use sqlx::pool::PoolConnection;
use sqlx::postgres::PgPoolOptions;
use sqlx::{ConnectOptions, PgPool, Postgres};
use tokio::sync::OnceCell;

use crate::settings::Settings;

mod url;

use url::connect_options;
pub use url::redact;

/// Applied at start (server mode) or at the first page that needs them (cookie mode).
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!();

/// The app's database, `databases.session_lab` in `Rocket.toml`.
#[derive(Database)]
#[database("session_lab")]
pub struct Db(LazyPool);

/// A connection from [`Db`], as handlers take it: `Connection<Db>` answers 503 by itself when
/// PostgreSQL cannot be reached.
pub type DbConnection = rocket_db_pools::Connection<Db>;

/// sqlx's pool, connecting on first use, plus whether the schema is known to be in place.
///
/// Cheap to clone, and every clone is the same pool: `--mode both` gives one to each app, so both
/// share connections and the migration check.
#[derive(Clone)]
pub struct LazyPool {
    pool: PgPool,
    url: Arc<str>,
    ready: Arc<OnceCell<()>>,
    /// Seconds a request waits for a connection before giving up (`connect_timeout`).
    timeout: u64,
}

/// Why the database could not be used. The sqlx error is kept as the source.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// PostgreSQL could not be reached, the pool timed out waiting for a connection, or this
    /// browser's outage lab has cut it off.
    #[error("database unavailable")]
    Unavailable(#[source] crate::unavailable::Unavailable),
    /// The database answered, but with an error we did not expect.
    #[error("database error")]
    Query(#[source] sqlx::Error),
    /// The settings under `databases.session_lab` are unusable.
    #[error("databases.session_lab: {0}")]
    Config(String),
}

impl From<sqlx::Error> for DbError {
    fn from(e: sqlx::Error) -> Self {
        if crate::unavailable::is_unavailable(&e) {
            DbError::Unavailable(crate::unavailable::Unavailable::Database(e))
        } else {
            DbError::Query(e)
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

impl DbError {
    /// The full chain of causes, for logs and start-up messages (`Display` is only the top).
    pub fn chain(&self) -> String {
        crate::logging::chain(self)
    }
}

#[rocket::async_trait]
impl rocket_db_pools::Pool for LazyPool {
    type Connection = PoolConnection<Postgres>;
    type Error = DbError;

    /// Builds the pool from `databases.session_lab` without connecting, so it never fails for a
    /// database that is down.
    async fn init(figment: &Figment) -> Result<Self, DbError> {
        let config: rocket_db_pools::Config = figment
            .extract()
            .map_err(|e| DbError::Config(e.to_string()))?;
        LazyPool::new(&config)
    }

    /// A connection once the database exists and is migrated.
    async fn get(&self) -> Result<Self::Connection, DbError> {
        Ok(self.ready().await?.acquire().await?)
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}

impl LazyPool {
    /// # Errors
    /// An unparsable URL, as [`DbError::Config`].
    pub fn new(config: &rocket_db_pools::Config) -> Result<LazyPool, DbError> {
        let options = connect_options(&config.url)
            .map_err(|e| DbError::Config(format!("url {}: {e}", redact(&config.url))))?;
        // An hour at most: larger values overflow the pool's deadline arithmetic.
        let timeout = config.connect_timeout.clamp(1, 3600);
        let mut pool = PgPoolOptions::new()
            .max_connections(u32::try_from(config.max_connections.max(1)).unwrap_or(u32::MAX))
            .acquire_timeout(Duration::from_secs(timeout))
            // No ping before each acquire: sqlx already pings a connection when it comes back to
            // the pool, so a statement cost three round trips instead of two. A connection that
            // broke while idle then fails its next statement, which is answered with a 503.
            .test_before_acquire(false);
        if let Some(min) = config.min_connections {
            pool = pool.min_connections(min);
        }
        if let Some(idle) = config.idle_timeout {
            pool = pool.idle_timeout(Duration::from_secs(idle));
        }
        Ok(LazyPool {
            pool: pool.connect_lazy_with(options.disable_statement_logging()),
            url: config.url.as_str().into(),
            ready: Arc::new(OnceCell::new()),
            timeout,
        })
    }

    /// The pool `Db::init()` would make from the app's figment (same defaults: four connections
    /// per worker, a 5-second connect timeout), made before any app exists so that several apps
    /// can share it (`--mode both`).
    ///
    /// # Errors
    /// Unusable `databases.session_lab` settings.
    pub fn from_figment(figment: &Figment) -> Result<LazyPool, DbError> {
        let workers: usize = figment
            .extract_inner(rocket::Config::WORKERS)
            .unwrap_or_else(|_| rocket::Config::default().workers);
        let config: rocket_db_pools::Config = figment
            .focus("databases.session_lab")
            .join(("url", crate::settings::DEFAULT_DATABASE_URL))
            .join(("max_connections", workers * 4))
            .join(("connect_timeout", 5))
            .extract()
            .map_err(|e| DbError::Config(e.to_string()))?;
        LazyPool::new(&config)
    }

    /// Seconds a request waits for a connection before it is answered with 503.
    pub fn connect_timeout(&self) -> u64 {
        self.timeout
    }

    /// A pool for the command-line tools (`create-user`, `clear-sessions`), from the app's figment
    /// with the defaults `Db::init()` would apply.
    ///
    /// # Errors
    /// Unusable `databases.session_lab` settings.
    pub fn for_command(figment: &Figment) -> Result<LazyPool, DbError> {
        let config: rocket_db_pools::Config = figment
            .focus("databases.session_lab")
            .join(("url", crate::settings::DEFAULT_DATABASE_URL))
            .join(("max_connections", 2))
            .join(("connect_timeout", 5))
            .extract()
            .map_err(|e| DbError::Config(e.to_string()))?;
        LazyPool::new(&config)
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
                if !Postgres::database_exists(&self.url).await? {
                    match Postgres::create_database(&self.url).await {
                        Ok(()) => {}
                        // Another process created it between our check and our CREATE: fine.
                        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42P04") => {}
                        Err(e) => return Err(e.into()),
                    }
                }
                self.migrate().await?;
                Ok::<(), DbError>(())
            })
            .await?;
        Ok(&self.pool)
    }

    /// Applies pending migrations on a connection of its own that asks PostgreSQL for warnings
    /// and worse only: the migrator's `CREATE TABLE IF NOT EXISTS _sqlx_migrations` makes an
    /// already-migrated database send a NOTICE ("relation … already exists, skipping"), which
    /// sqlx logs and a newcomer reads as an error at every start.
    async fn migrate(&self) -> Result<(), DbError> {
        let options = (*self.pool.connect_options())
            .clone()
            .options([("client_min_messages", "warning")]);
        // A one-connection pool rather than a bare connection: the migrator takes a pool without
        // the "`Send` is not general enough" trouble of `&mut PgConnection`, and the pool's wait
        // bounds the connect (a host that never answers) as the app's pool does.
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(self.pool.options().get_acquire_timeout())
            .connect_with(options)
            .await?;
        let migrated = MIGRATOR.run(&pool).await;
        pool.close().await;
        Ok(migrated?)
    }

    /// The pool without the schema check: for the server store (migrated at start) and the
    /// cleanup task.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// The URL with any password replaced, fit for logs and messages.
    pub fn url(&self) -> String {
        redact(&self.url)
    }
}

/// The database subsystem: the pool (`Db::init()`), then the start-up rules — server mode needs
/// the database ready before it serves; cookie mode starts without it and says so.
pub fn stage() -> AdHoc {
    stage_with(None)
}

/// As [`stage`], on a pool made beforehand (`--mode both` shares one between two apps), or on a
/// new one when `shared` is `None`. A shared pool is managed as `Db` as it is, so `&Db` and the
/// `Connection<Db>` guard work as with `Db::init()`; it is not closed when one app shuts down,
/// since the other may still use it (it ends with the process).
pub fn stage_with(shared: Option<LazyPool>) -> AdHoc {
    AdHoc::on_ignite("Database", |rocket| async move {
        let rocket = match shared {
            Some(pool) => rocket.manage(Db::from(pool)),
            None => rocket.attach(Db::init()),
        };
        rocket.attach(AdHoc::try_on_ignite("Database check", check_at_start))
    })
}

async fn check_at_start(rocket: Rocket<Build>) -> fairing::Result {
    let (Some(db), Some(settings)) = (Db::fetch(&rocket), rocket.state::<Settings>()) else {
        return Err(rocket);
    };
    let needs_db = settings.mode.needs_database_to_start();
    match db.ready().await {
        Ok(_) => {}
        Err(e) if needs_db => {
            eprintln!("{}", unreachable_message(&db.url(), &e));
            return Err(rocket);
        }
        Err(e @ DbError::Unavailable(_)) => rocket::warn!(
            "PostgreSQL is not reachable ({}); cookie mode serves the pages that need no \
             database and answers the others with 503 until it comes back.",
            e.chain()
        ),
        Err(e) => rocket::error!(
            "{} Cookie mode serves the pages that need no database meanwhile.",
            unreachable_message(&db.url(), &e)
        ),
    }
    Ok(rocket)
}

/// The paragraph server mode prints before exiting when the database cannot be used.
pub fn unreachable_message(url: &str, error: &DbError) -> String {
    if let DbError::Query(_) | DbError::Config(_) = error {
        // Reached, but refused: say so rather than suggest starting a server that runs.
        return format!(
            "session-lab: PostgreSQL at {url} answered, but the database could not be prepared: \
             {}. If a migration was changed after it was applied, drop the development database \
             (`dropdb -h 127.0.0.1 -U postgres <name>`) and start again; the app recreates it.",
            error.chain()
        );
    }
    format!(
        "session-lab: cannot reach PostgreSQL at {url} ({}). Server mode keeps every session \
         in the `sessions` table, so it cannot start without the database. Start PostgreSQL (on \
         Debian: `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`), or \
         point DATABASE_URL / databases.session_lab.url in Rocket.toml at a running server, or run \
         `session-lab --mode cookie`, which starts without a database.",
        error.chain()
    )
}
