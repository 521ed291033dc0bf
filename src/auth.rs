//! Accounts: the `users` table, argon2id password hashing, the rules for names and passwords,
//! and the `User` a logged-in session belongs to.

use std::sync::OnceLock;

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use rocket::request::{FromRequest, Outcome, Request};
use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;

use crate::cookies::CookieConfig;
use crate::crypto::Keys;
use crate::db::{DbConnection, DbError};
use crate::error::AppError;
use crate::session::store::Statements;
use crate::session::{Refusal, Session, SessionError};

/// The keys accounts keep in the session map, beside the login the session layer itself holds.
pub mod keys {
    /// The account's name, for the header on every page (no query needed to show it).
    pub const USERNAME: &str = "username";
    /// The account's `session_epoch` at login: "sign out everywhere" bumps it (cookie mode).
    pub const SESSION_EPOCH: &str = "session_epoch";
    /// A keyed hash of the account's password hash at login (Django's `session_auth_hash`): a
    /// changed password, or another `users` row under the same id, no longer matches it.
    pub const AUTH_HASH: &str = "auth_hash";
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
    let stamp = LoginStamp {
        user_id: id,
        epoch: session.get(keys::SESSION_EPOCH).await?.unwrap_or(0),
        bound: session.get(keys::AUTH_HASH).await?,
    };
    let Some(cookies) = req.rocket().state::<CookieConfig>() else {
        return Err(AppError::Internal("no cookie configuration".into()));
    };
    let check_epoch = session.layer().checks_epoch();
    let mut statements = Statements::default();
    let checked = check_login(
        &mut conn,
        &cookies.keys,
        &stamp,
        check_epoch,
        &mut statements,
    )
    .await;
    session.count_statements(statements.count).await;
    if let Some(check) = statements.checked {
        session.passed_check(check).await;
    }
    match checked? {
        Ok(user) => Ok(user),
        Err(refusal) => {
            rocket::info!(
                "session: user {id} was signed out everywhere, deleted or changed ({}); ending \
                 this session",
                refusal.as_str()
            );
            session.refuse(refusal).await?;
            Err(AppError::LoginRequired { next })
        }
    }
}

/// What a session says about its login: the account, the epoch and the account's keyed hash as
/// they were at login.
#[derive(Debug, Clone)]
pub struct LoginStamp {
    pub user_id: i64,
    pub epoch: i32,
    /// [`session_auth_hash`] at login; `None` for a session older than the binding.
    pub bound: Option<String>,
}

/// What [`keys::AUTH_HASH`] holds: HMAC-SHA256 of the password's PHC string under a key derived
/// from `secret_key`, cut to 128 bits (ample against forgery; the cookie stays small), base64url.
/// Keyed, so the cookie's holder learns nothing about the hash and a copied database cannot
/// produce it; over the whole PHC string, so a new salt (any password change) changes it.
pub fn session_auth_hash(keys: &Keys, password_hash: &str) -> String {
    keys.derive_all(AUTH_HASH_PURPOSE)
        .first()
        .map(|key| auth_hash_with(key, password_hash))
        .unwrap_or_default()
}

const AUTH_HASH_PURPOSE: &str = "session auth hash";

fn auth_hash_with(key: &[u8; 32], password_hash: &str) -> String {
    use base64::Engine;
    use hmac::{Hmac, Mac};
    let Ok(mut mac) = Hmac::<sha2::Sha256>::new_from_slice(key) else {
        return String::new();
    };
    mac.update(password_hash.as_bytes());
    let tag = mac.finalize().into_bytes();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&tag[..16])
}

/// Whether `bound` was made from `password_hash` with the current key or a fallback (so a key
/// rotation does not log everyone out), compared in constant time.
fn auth_hash_matches(keys: &Keys, password_hash: &str, bound: &str) -> bool {
    use subtle::ConstantTimeEq;
    keys.derive_all(AUTH_HASH_PURPOSE).iter().any(|key| {
        let expected = auth_hash_with(key, password_hash);
        !expected.is_empty() && bool::from(expected.as_bytes().ct_eq(bound.as_bytes()))
    })
}

/// Whether a session's login still stands where the account is loaded: the `users` row exists,
/// it is the account that logged in (its password hash still gives the session's keyed hash, so a
/// changed password or a restored or other table ends the login), and its `session_epoch` is the
/// one the session was stamped with ("sign out everywhere" bumps it) — the epoch unless
/// `check_epoch` is off (`cookie_revocation = "none"`). One indexed read, added to `statements`
/// once it ran. The `User` guard and the replay lab both call it, so the lab shows exactly what
/// the guard would decide.
///
/// # Errors
/// [`DbError`] when the database cannot be reached.
pub async fn check_login(
    conn: &mut PgConnection,
    keys: &Keys,
    stamp: &LoginStamp,
    check_epoch: bool,
    statements: &mut Statements,
) -> Result<Result<User, Refusal>, DbError> {
    let row = find_by_id(conn, stamp.user_id).await?;
    statements.add(1);
    let Some(row) = row else {
        // The account is gone (deleted, or missing from a restored table): not the one that
        // logged in.
        return Ok(Err(Refusal::AccountChanged));
    };
    if check_epoch && row.session_epoch != stamp.epoch {
        return Ok(Err(Refusal::OldEpoch));
    }
    let same_account = stamp
        .bound
        .as_deref()
        .is_some_and(|b| auth_hash_matches(keys, &row.password_hash, b));
    if !same_account {
        // The id exists but is not the account that logged in (or the session predates the
        // binding): the same id in a restored or another table must not inherit the login.
        return Ok(Err(Refusal::AccountChanged));
    }
    if check_epoch {
        statements.checked = Some("epoch");
    }
    Ok(Ok(User {
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

/// zxcvbn looks at no more than this many characters: its matching grows faster than linearly
/// with length, and a password this long that is weak in its first part is rejected anyway.
const STRENGTH_CHARS: usize = 128;

/// Passwords are taken exactly as typed: never trimmed or truncated. Besides the length, a new
/// password must not contain the username and must reach `min_score` (0–4) on zxcvbn, which
/// knows common passwords, names, words, keyboard walks, repeats and dates.
///
/// # Errors
/// What is wrong, in a sentence for the form; never the password itself.
pub fn check_password(password: &str, username: &str, min_score: u8) -> Result<(), String> {
    check_length(password)?;
    let name = username.trim().to_lowercase();
    if name.chars().count() >= 3 && password.to_lowercase().contains(&name) {
        return Err("A password must not contain the username.".into());
    }
    let head: String = password.chars().take(STRENGTH_CHARS).collect();
    let estimate = zxcvbn::zxcvbn(&head, &[&name, "session", "lab", "sessionlab"]);
    if u8::from(estimate.score()) >= min_score {
        return Ok(());
    }
    let mut why = String::from("This password is too easy to guess.");
    if let Some(feedback) = estimate.feedback() {
        if let Some(warning) = feedback.warning() {
            why.push_str(&format!(" {warning}."));
        }
        for tip in feedback.suggestions() {
            why.push_str(&format!(" {tip}."));
        }
    }
    Err(why.replace("..", "."))
}

fn check_length(password: &str) -> Result<(), String> {
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

fn cores() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// How many password hashes may wait for a core (managed state, from `hash_queue`). Past it a
/// request is turned away at once: hashes are served first come, first served, so a queue
/// without a bound lets a flood of bad logins make every real one wait for all of them
/// (800 of them made a real login wait 14 s). Shedding keeps the wait of whoever gets in short.
pub struct HashQueue {
    /// One permit per core (running) plus one per allowed waiter; `try_acquire` never waits.
    admitted: tokio::sync::Semaphore,
}

impl HashQueue {
    pub fn new(waiting: usize) -> HashQueue {
        let permits = cores()
            .saturating_add(waiting)
            .min(tokio::sync::Semaphore::MAX_PERMITS);
        HashQueue {
            admitted: tokio::sync::Semaphore::new(permits),
        }
    }

    /// For the command line, which hashes one password and has no one to turn away.
    pub fn unbounded() -> HashQueue {
        HashQueue::new(usize::MAX)
    }

    /// A place in the queue, or [`HashError::Busy`] at once. A login takes it before it looks
    /// the user up, so a shed request costs no query either (a flood's lookups would otherwise
    /// queue for the pool's connections in front of the real login's).
    ///
    /// # Errors
    /// [`HashError::Busy`] when `hash_queue` requests already wait.
    pub fn admit(&self) -> Result<Admitted<'_>, HashError> {
        self.admitted
            .try_acquire()
            .map(Admitted)
            .map_err(|_| HashError::Busy)
    }
}

/// A place in the [`HashQueue`], given back when its hash is done (the permit is held, not read).
pub struct Admitted<'q>(#[allow(dead_code)] tokio::sync::SemaphorePermit<'q>);

/// Why a password could not be hashed or checked.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    /// The queue is full: answer 503 with `Retry-After` rather than wait.
    #[error("too many passwords are being checked; try again shortly")]
    Busy,
    #[error("the hashing task failed: {0}")]
    Failed(String),
}

/// Runs one argon2 computation on the blocking pool, so Rocket's async workers keep serving
/// other requests — but no more at once than there are cores. Each computation holds 19 MiB:
/// unbounded, 32 concurrent logins held gigabytes, and beyond one per core they only queue for
/// the CPU anyway. The core slots are the process's (two apps in one process share the CPU);
/// admission is the app's.
async fn hash_off_the_workers<T: Send + 'static>(
    _admitted: Admitted<'_>,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, HashError> {
    static SLOTS: OnceLock<tokio::sync::Semaphore> = OnceLock::new();
    hash_counts::start();
    let slots = SLOTS.get_or_init(|| tokio::sync::Semaphore::new(cores()));
    let _slot = slots
        .acquire()
        .await
        .map_err(|e| HashError::Failed(e.to_string()))?;
    tokio::task::spawn_blocking(move || hash_counts::count(work))
        .await
        .map_err(|e| HashError::Failed(e.to_string()))
}

/// Hashes a new password.
///
/// # Errors
/// [`HashError::Busy`] when the queue is full; the hasher's error (it has none for valid
/// input) as [`HashError::Failed`].
pub async fn hash_password(queue: &HashQueue, password: String) -> Result<String, HashError> {
    hash_off_the_workers(queue.admit()?, move || hash_blocking(&password))
        .await?
        .map_err(HashError::Failed)
}

/// Checks `password` against `phc`, or against the dummy hash when there is no user, in the
/// place `admitted` holds in the queue ([`HashQueue::admit`]).
pub async fn verify_password(
    admitted: Admitted<'_>,
    password: String,
    phc: Option<String>,
) -> bool {
    let checked = hash_off_the_workers(admitted, move || {
        let found = phc.is_some();
        let ok = verify_blocking(&password, phc.as_deref().unwrap_or_else(|| dummy_hash()));
        found && ok
    })
    .await;
    checked.unwrap_or_else(|why| {
        rocket::error!("password check failed: {why}");
        false
    })
}

/// Why an account could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    #[error("the name is taken")]
    Taken,
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("could not hash the password: {0}")]
    Hash(#[from] HashError),
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
    queue: &HashQueue,
    username: &str,
    password: String,
) -> Result<UserRow, CreateError> {
    let hash = hash_password(queue, password).await?;
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
/// notes the name, epoch and bound password hash the pages and the `User` guard read back.
///
/// # Errors
/// As the session's writes.
pub async fn log_in(
    session: &Session<'_>,
    secrets: &Keys,
    user: &UserRow,
    remember: bool,
) -> Result<(), SessionError> {
    let stamp = vec![
        (keys::USERNAME, serde_json::json!(user.username)),
        (keys::SESSION_EPOCH, serde_json::json!(user.session_epoch)),
        (
            keys::AUTH_HASH,
            serde_json::json!(session_auth_hash(secrets, &user.password_hash)),
        ),
    ];
    session.log_in(user.id, remember, stamp).await
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
/// not pay for it, and the bounded hash queue.
pub fn stage() -> rocket::fairing::AdHoc {
    rocket::fairing::AdHoc::on_ignite("Accounts", |rocket| async {
        warm_up().await;
        let waiting = rocket
            .state::<crate::settings::Settings>()
            .map_or(crate::settings::Settings::default().hash_queue, |s| {
                s.hash_queue
            });
        rocket.manage(HashQueue::new(waiting))
    })
}

/// What a login needs besides its form: the database, the throttles, the hash queue and the
/// client's address, gathered by one request guard.
#[derive(Clone, Copy)]
pub struct LoginGate<'r> {
    pub db: &'r crate::db::Db,
    pub throttles: &'r crate::throttle::Throttles,
    pub queue: &'r HashQueue,
    pub addr: crate::throttle::ClientAddr,
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for LoginGate<'r> {
    type Error = &'static str;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let rocket = req.rocket();
        let addr = rocket::outcome::try_outcome!(req
            .guard::<crate::throttle::ClientAddr>()
            .await
            .map_error(|(s, _)| (s, "no client address")));
        match (
            <crate::db::Db as rocket_db_pools::Database>::fetch(rocket),
            rocket.state::<crate::throttle::Throttles>(),
            rocket.state::<HashQueue>(),
        ) {
            (Some(db), Some(throttles), Some(queue)) => Outcome::Success(LoginGate {
                db,
                throttles,
                queue,
                addr,
            }),
            _ => Outcome::Error((
                rocket::http::Status::InternalServerError,
                "the accounts subsystem is not attached",
            )),
        }
    }
}

/// What a login attempt came to.
pub enum Attempt {
    /// The right password: the account, to log in.
    Accepted(UserRow),
    /// A wrong name or password — one answer for both, so the page cannot tell which.
    Refused,
    /// Too many attempts for this name or from this address (429): nothing was looked up.
    Throttled(crate::throttle::TooMany),
    /// The hash queue is full (503): nothing was looked up.
    Busy,
}

/// The steps every login takes, in this order, wherever its form is (`/login`, `/compare/login`):
/// the throttle (before any work, keyed on the name as typed, so a 429 does not tell whether the
/// account exists), a place in the hash queue (before the lookup, so a shed attempt costs no
/// query), the lookup (counted in the session's statements), and the verify — against a dummy
/// hash when there is no such user, so every miss costs the same.
///
/// # Errors
/// [`AppError::Unavailable`] when the database cannot be reached.
pub async fn authenticate(
    session: &Session<'_>,
    gate: &LoginGate<'_>,
    username: &str,
    password: String,
) -> Result<Attempt, AppError> {
    let LoginGate {
        db,
        throttles,
        queue,
        addr,
    } = *gate;
    // The empty name stands in for any impossible one: the CHECK constraint keeps it out of
    // `users`, and unlike the raw input it is always valid text for PostgreSQL (a NUL is not).
    let name = normalise_username(username).unwrap_or_default();
    if let Err(too_many) = throttles.login(&name, addr).await {
        return Ok(Attempt::Throttled(too_many));
    }
    let Ok(admitted) = queue.admit() else {
        return Ok(Attempt::Busy);
    };
    let mut conn = db.ready().await?.acquire().await.map_err(DbError::from)?;
    let user = find_by_name(&mut conn, &name).await?;
    session.count_statements(1).await;
    // The connection goes back before the hash, which can wait for a free core.
    drop(conn);
    let phc = user.as_ref().map(|u| u.password_hash.clone());
    let ok = verify_password(admitted, password, phc).await;
    Ok(match user.filter(|_| ok) {
        Some(user) => Attempt::Accepted(user),
        None => Attempt::Refused,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_guessable_and_name_bearing_passwords_are_refused() {
        for weak in [
            "password",
            "12345678",
            "        ",
            "password123",
            "qwertyuiop",
            "iloveyou1",
            "aaaaaaaaaaaa",
            "alice2024!",
        ] {
            assert!(check_password(weak, "bob", 3).is_err(), "{weak:?}");
        }
        let why = check_password("xX_alice_Xx-9f!", "alice", 3).unwrap_err();
        assert!(why.contains("username"), "{why}");
        let why = check_password("password", "bob", 3).unwrap_err();
        assert!(why.contains("too easy to guess"), "{why}");
        assert!(!why.contains("password\""), "never echoed: {why}");
    }

    #[test]
    fn the_suites_passphrases_pass() {
        for (pw, name) in [
            ("correct horse battery", "alice"),
            ("another password", "alice"),
            ("a password with spaces ", "carol"),
            ("correct horse", "alice"),
            ("whatever the weather 12", "carol"),
            (
                &(0..25u32)
                    .map(|i| format!("ñ{}🔑 ", char::from_u32(0x5bc6 + i).unwrap_or('密')))
                    .collect::<String>(),
                "alice",
            ),
        ] {
            let score = u8::from(zxcvbn::zxcvbn(pw, &[name]).score());
            assert!(check_password(pw, name, 3).is_ok(), "{pw:?}: score {score}");
        }
    }

    #[test]
    fn the_auth_hash_depends_on_the_hash_and_the_key_and_survives_rotation() {
        use rocket::figment::Figment;
        let keys = |k: u8, fallbacks: &[String]| {
            Keys::from_figment(
                &Figment::new().merge(("secret_key", vec![k; 64])),
                fallbacks,
            )
            .unwrap()
        };
        let (a, b) = (keys(1, &[]), keys(2, &[]));
        let h = session_auth_hash(&a, "$argon2id$v=19$one");
        assert_eq!(h.len(), 22, "{h}");
        assert!(auth_hash_matches(&a, "$argon2id$v=19$one", &h));
        assert!(!auth_hash_matches(&a, "$argon2id$v=19$two", &h));
        assert!(!auth_hash_matches(&b, "$argon2id$v=19$one", &h));
        use base64::Engine;
        let old = base64::engine::general_purpose::STANDARD.encode([1u8; 64]);
        assert!(auth_hash_matches(
            &keys(2, &[old]),
            "$argon2id$v=19$one",
            &h
        ));
    }
}
