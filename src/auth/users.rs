//! The `users` table: the row, creating an account, looking one up, and the epoch that "sign out
//! everywhere" bumps.

use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;

use super::queue::{hash_admitted, hash_password, Admitted, HashError, HashQueue};
use crate::db::DbError;

/// A row of `users`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub password_hash: String,
    pub created_at: OffsetDateTime,
    pub session_epoch: i32,
    /// What a device cookie for this account must carry besides its id (see
    /// [`super::device`]); a reset or a password change replaces it.
    pub device_secret: String,
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
    create_account(pool, queue, username, password, false).await
}

/// As [`create_user`], hashing in the queue place `admitted` (the signup form takes its place
/// before its throttle, so a shed signup spends no token).
///
/// # Errors
/// As [`create_user`].
pub async fn create_user_admitted(
    pool: &PgPool,
    admitted: Admitted<'_>,
    username: &str,
    password: String,
) -> Result<UserRow, CreateError> {
    let hash = hash_admitted(admitted, password).await?;
    insert(pool, username, hash, false).await
}

/// As [`create_user`], hashing in a place of `queue`, and a teacher when `teacher` is set (only
/// the command line asks for one), in the same statement: no moment where the account exists
/// without its role.
///
/// # Errors
/// As [`create_user`].
pub async fn create_account(
    pool: &PgPool,
    queue: &HashQueue,
    username: &str,
    password: String,
    teacher: bool,
) -> Result<UserRow, CreateError> {
    let hash = hash_password(queue, password).await?;
    insert(pool, username, hash, teacher).await
}

async fn insert(
    pool: &PgPool,
    username: &str,
    hash: String,
    teacher: bool,
) -> Result<UserRow, CreateError> {
    // ON CONFLICT DO NOTHING: of two parallel signups of one name, one inserts and the other
    // gets no row back — a clean "taken", not a unique-violation error.
    let row: Option<UserRow> = sqlx::query_as(
        "INSERT INTO users (username, password_hash, is_teacher) VALUES ($1, $2, $3) \
         ON CONFLICT (username) DO NOTHING \
         RETURNING id, username, password_hash, created_at, session_epoch, device_secret",
    )
    .bind(username)
    .bind(hash)
    .bind(teacher)
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
        "SELECT id, username, password_hash, created_at, session_epoch, device_secret \
         FROM users WHERE username = $1",
    )
    .bind(username)
    .fetch_optional(conn)
    .await?)
}

/// # Errors
/// [`DbError`] when the database cannot be reached.
pub async fn find_by_id(conn: &mut PgConnection, id: i64) -> Result<Option<UserRow>, DbError> {
    Ok(sqlx::query_as(
        "SELECT id, username, password_hash, created_at, session_epoch, device_secret \
         FROM users WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await?)
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
