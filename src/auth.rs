//! Accounts: the `users` table, argon2id password hashing, the rules for names and passwords,
//! and the `User` a logged-in session belongs to.

use std::sync::OnceLock;

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use rocket::request::{FromRequest, Outcome, Request};
use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;

use crate::db::{DbConnection, DbError};
use crate::error::AppError;
use crate::session::store::Statements;
use crate::session::{Refusal, Session, SessionError};
use crate::settings::Revocation;

/// The keys accounts keep in the session map, beside the login the session layer itself holds.
pub mod keys {
    /// The account's name, for the header on every page (no query needed to show it).
    pub const USERNAME: &str = "username";
    /// The account's `session_epoch` at login: "sign out everywhere" bumps it (cookie mode).
    pub const SESSION_EPOCH: &str = "session_epoch";
}

pub const PASSWORD_MIN_CHARS: usize = 8;
/// Long enough for any passphrase, short enough that hashing it is no denial of service.
pub const PASSWORD_MAX_CHARS: usize = 1024;

/// A row of `users`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub password_hash: String,
    pub created_at: OffsetDateTime,
    pub session_epoch: i32,
}

/// The user a request's session is logged in as, checked against `users`. As a request guard
/// (take `Result<User, AppError>` and `?` it) it answers an anonymous visitor with a 303 to the
/// login page, and ends a session whose account is gone or whose epoch is out of date.
#[derive(Debug, Clone)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub created_at: OffsetDateTime,
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for User {
    type Error = AppError;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, AppError> {
        // Cached: every guard and handler of one request shares one load of the user.
        match req.local_cache_async(load_user(req)).await {
            Ok(user) => Outcome::Success(user.clone()),
            Err(e) => Outcome::Error((e.status(), e.clone())),
        }
    }
}

/// The one place a cookie-mode request reads the database for its session: the price of being
/// able to revoke it ("sign out everywhere" bumps the epoch the cookie must match).
async fn load_user(req: &Request<'_>) -> Result<User, AppError> {
    // After logging in, come back here — unless this was a form post, which cannot be replayed.
    let next = match req.method() {
        rocket::http::Method::Get => req.uri().to_string(),
        _ => "/account".to_string(),
    };
    let session = match req.guard::<Session<'_>>().await {
        Outcome::Success(s) => s,
        _ => {
            return Err(AppError::Internal(
                "the session layer is not attached".into(),
            ))
        }
    };
    let Some(id) = session.user_id().await? else {
        return Err(AppError::LoginRequired { next });
    };
    let mut conn = match req.guard::<DbConnection>().await {
        Outcome::Success(conn) => conn,
        _ => return Err(AppError::Unavailable),
    };
    let epoch: i32 = session.get(keys::SESSION_EPOCH).await?.unwrap_or(0);
    // `cookie_revocation = "none"`: the cookie alone is trusted, epoch or not.
    let check_epoch = session.layer().revocation() != Some(Revocation::None);
    let mut statements = Statements::default();
    let checked = check_login(&mut conn, id, epoch, check_epoch, &mut statements).await;
    session.count_statements(statements.count).await;
    if let Some(check) = statements.checked {
        session.passed_check(check).await;
    }
    match checked? {
        Some(user) => Ok(user),
        None => {
            rocket::info!(
                "session: user {id} was signed out everywhere or deleted; ending this session"
            );
            session.refuse(Refusal::OldEpoch).await?;
            Err(AppError::LoginRequired { next })
        }
    }
}

/// Whether a session's login still stands where the account is loaded: the `users` row exists
/// and its `session_epoch` is the one the session was stamped with at login ("sign out
/// everywhere" bumps it) — unless `check_epoch` is off (`cookie_revocation = "none"`). `None` means the session must be refused as [`Refusal::OldEpoch`].
/// One indexed read, added to `statements` once it ran. The `User` guard and the replay lab both
/// call it, so the lab shows exactly what the guard would decide.
///
/// # Errors
/// [`DbError`] when the database cannot be reached.
pub async fn check_login(
    conn: &mut PgConnection,
    user_id: i64,
    epoch: i32,
    check_epoch: bool,
    statements: &mut Statements,
) -> Result<Option<User>, DbError> {
    let row = find_by_id(conn, user_id).await?;
    statements.add(1);
    if check_epoch && row.is_some() {
        statements.checked = Some("epoch");
    }
    Ok(row
        .filter(|row| !check_epoch || row.session_epoch == epoch)
        .map(|row| User {
            id: row.id,
            username: row.username,
            created_at: row.created_at,
        }))
}

/// Usernames are compared without regard to case, so they are stored lower-case.
/// Returns the normalised name, or what is wrong with it.
pub fn normalise_username(input: &str) -> Result<String, &'static str> {
    let name = input.trim().to_lowercase();
    let len = name.chars().count();
    if !(3..=32).contains(&len) {
        return Err("A username is 3 to 32 characters long.");
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_.-".contains(&b))
    {
        return Err("A username uses only letters a–z, digits, and _ . -");
    }
    Ok(name)
}

/// Passwords are taken exactly as typed: never trimmed or truncated.
pub fn check_password(password: &str) -> Result<(), String> {
    let len = password.chars().count();
    if len < PASSWORD_MIN_CHARS {
        return Err(format!(
            "A password has at least {PASSWORD_MIN_CHARS} characters."
        ));
    }
    if len > PASSWORD_MAX_CHARS {
        return Err(format!(
            "A password has at most {PASSWORD_MAX_CHARS} characters."
        ));
    }
    Ok(())
}

/// Argon2id at the crate's defaults (m=19456 KiB, t=2, p=1: OWASP's minimum), as a PHC string.
/// Blocking (~25 ms optimised): call it from `spawn_blocking`.
/// The salt is 16 random bytes the hasher draws from the operating system itself.
fn hash_blocking(password: &str) -> Result<String, String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

fn verify_blocking(password: &str, phc: &str) -> bool {
    Argon2::default()
        .verify_password(password.as_bytes(), phc)
        .is_ok()
}

/// A hash of nothing anyone knows, verified against when the user does not exist, so a wrong
/// name takes as long as a wrong password and timing does not tell who has an account.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_blocking(&crate::crypto::random_token(24)).unwrap_or_default())
}

/// Computes the dummy hash once, at start, so the first unknown-user login does not pay for it
/// (which would make that one miss slower than a wrong password).
pub async fn warm_up() {
    let _ = tokio::task::spawn_blocking(dummy_hash).await;
}

/// Password hashes asked for and finished since start. They let a test see that hashing runs off
/// the async workers: a page can be answered between a hash's start and its end.
pub mod hash_counts {
    use std::sync::atomic::{AtomicUsize, Ordering};

    pub static STARTED: AtomicUsize = AtomicUsize::new(0);
    pub static FINISHED: AtomicUsize = AtomicUsize::new(0);

    pub fn started() -> usize {
        STARTED.load(Ordering::SeqCst)
    }

    pub fn finished() -> usize {
        FINISHED.load(Ordering::SeqCst)
    }

    /// Runs `work`, counting it.
    pub(crate) fn count<T>(work: impl FnOnce() -> T) -> T {
        let out = work();
        FINISHED.fetch_add(1, Ordering::SeqCst);
        out
    }

    pub(crate) fn start() {
        STARTED.fetch_add(1, Ordering::SeqCst);
    }
}

/// Runs one argon2 computation on the blocking pool, so Rocket's async workers keep serving
/// other requests — but no more at once than there are cores. Each computation holds 19 MiB:
/// unbounded, 32 concurrent logins held gigabytes, and beyond one per core they only queue for
/// the CPU anyway.
async fn hash_off_the_workers<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Option<T> {
    static SLOTS: OnceLock<tokio::sync::Semaphore> = OnceLock::new();
    hash_counts::start();
    let slots = SLOTS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        tokio::sync::Semaphore::new(cores)
    });
    let _slot = slots.acquire().await.ok()?;
    tokio::task::spawn_blocking(move || hash_counts::count(work))
        .await
        .ok()
}

/// Hashes a new password.
///
/// # Errors
/// The hasher's error (it has none for valid input) as text.
pub async fn hash_password(password: String) -> Result<String, String> {
    hash_off_the_workers(move || hash_blocking(&password))
        .await
        .unwrap_or_else(|| Err("the hashing task failed".into()))
}

/// Checks `password` against `phc`, or against the dummy hash when there is no user.
pub async fn verify_password(password: String, phc: Option<String>) -> bool {
    hash_off_the_workers(move || {
        let found = phc.is_some();
        let ok = verify_blocking(&password, phc.as_deref().unwrap_or_else(|| dummy_hash()));
        found && ok
    })
    .await
    .unwrap_or(false)
}

/// Why an account could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    #[error("the name is taken")]
    Taken,
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("could not hash the password: {0}")]
    Hash(String),
}

impl From<sqlx::Error> for CreateError {
    fn from(e: sqlx::Error) -> Self {
        CreateError::Db(e.into())
    }
}

/// Creates a user. The name must already be normalised and the password checked.
///
/// # Errors
/// [`CreateError::Taken`] when the name exists (also when a parallel signup won the race).
pub async fn create_user(
    pool: &PgPool,
    username: &str,
    password: String,
) -> Result<UserRow, CreateError> {
    let hash = hash_password(password).await.map_err(CreateError::Hash)?;
    // ON CONFLICT DO NOTHING: of two parallel signups of one name, one inserts and the other
    // gets no row back — a clean "taken", not a unique-violation error.
    let row: Option<UserRow> = sqlx::query_as(
        "INSERT INTO users (username, password_hash) VALUES ($1, $2) \
         ON CONFLICT (username) DO NOTHING \
         RETURNING id, username, password_hash, created_at, session_epoch",
    )
    .bind(username)
    .bind(hash)
    .fetch_optional(pool)
    .await?;
    row.ok_or(CreateError::Taken)
}

/// # Errors
/// [`DbError`] when the database cannot be reached.
pub async fn find_by_name(
    conn: &mut PgConnection,
    username: &str,
) -> Result<Option<UserRow>, DbError> {
    Ok(sqlx::query_as(
        "SELECT id, username, password_hash, created_at, session_epoch FROM users WHERE username = $1",
    )
    .bind(username)
    .fetch_optional(conn)
    .await?)
}

/// # Errors
/// [`DbError`] when the database cannot be reached.
pub async fn find_by_id(conn: &mut PgConnection, id: i64) -> Result<Option<UserRow>, DbError> {
    Ok(sqlx::query_as(
        "SELECT id, username, password_hash, created_at, session_epoch FROM users WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await?)
}

/// Logs `user` in on this session (a new session id; another user's data is not inherited) and
/// notes the name and epoch the pages and the `User` guard read back.
///
/// # Errors
/// As the session's writes.
pub async fn log_in(
    session: &Session<'_>,
    user: &UserRow,
    remember: bool,
) -> Result<(), SessionError> {
    session.log_in(user.id, remember).await?;
    session.insert(keys::USERNAME, &user.username).await?;
    session
        .insert(keys::SESSION_EPOCH, user.session_epoch)
        .await
}

/// "Sign out everywhere" for cookie sessions: a new epoch makes every cookie sealed with an older
/// one refused where the user is loaded. Returns the new epoch, for the session that asked.
///
/// # Errors
/// [`DbError`] when the database cannot be reached.
pub async fn bump_epoch(conn: &mut PgConnection, user_id: i64) -> Result<i32, DbError> {
    Ok(sqlx::query_scalar(
        "UPDATE users SET session_epoch = session_epoch + 1 WHERE id = $1 RETURNING session_epoch",
    )
    .bind(user_id)
    .fetch_one(conn)
    .await?)
}

/// The accounts subsystem's start-up work: the dummy hash, so the first unknown-user login does
/// not pay for it.
pub fn stage() -> rocket::fairing::AdHoc {
    rocket::fairing::AdHoc::on_ignite("Accounts", |rocket| async {
        warm_up().await;
        rocket
    })
}
