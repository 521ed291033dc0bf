//! Server mode's store: the cookie carries a random id, the data is a row of `sessions`.
//!
//! Every statement touches one row by its primary key, so each costs one index lookup. Writes
//! update rows in place (`UPDATE … WHERE id`), never upsert: a logout that deleted the row while
//! another request was still running must not be undone by that request's write.

use serde_json::{Map, Value};
use sqlx::types::Json;
use sqlx::PgPool;
use time::OffsetDateTime;

use super::store::{Change, Deadlines, Record, SessionError, SessionStore};
use crate::crypto::random_token;

/// 32 bytes from the OS CSPRNG: 256 bits, far past the 128 OWASP asks for.
const ID_BYTES: usize = 32;

pub struct ServerStore {
    pool: PgPool,
}

impl ServerStore {
    pub fn new(pool: PgPool) -> ServerStore {
        ServerStore { pool }
    }
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    id: String,
    data: Json<Map<String, Value>>,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
    remember: bool,
    user_agent: Option<String>,
}

/// Ids are base64url: anything else cannot be one, and is refused without a query.
fn looks_like_id(id: &str) -> bool {
    id.len() == 43
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[rocket::async_trait]
impl SessionStore for ServerStore {
    fn new_id(&self) -> Option<String> {
        Some(random_token(ID_BYTES))
    }

    fn cookie_plaintext(&self, record: &Record) -> Result<String, SessionError> {
        record
            .id
            .clone()
            .ok_or_else(|| SessionError::Internal("server session without an id".into()))
    }

    async fn load(
        &self,
        plaintext: &str,
        now: OffsetDateTime,
        queries: &mut u32,
    ) -> Result<Option<Record>, SessionError> {
        if !looks_like_id(plaintext) {
            return Ok(None);
        }
        *queries += 1;
        // The deadline is checked here, in SQL, so an expired row is never adopted even before
        // the cleanup task has removed it. `now` comes from the injectable clock, not `now()`.
        let row: Option<SessionRow> = sqlx::query_as(
            "SELECT id, data, created_at, updated_at, remember, user_agent \
             FROM sessions WHERE id = $1 AND expires_at > $2",
        )
        .bind(plaintext)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| Record {
            id: Some(r.id),
            data: r.data.0,
            created_at: r.created_at,
            last_seen: r.updated_at,
            remember: r.remember,
            user_agent: r.user_agent,
        }))
    }

    async fn commit(
        &self,
        change: Change<'_>,
        deadlines: Deadlines,
        queries: &mut u32,
    ) -> Result<(), SessionError> {
        *queries += 1;
        match change {
            Change::Insert(r) => {
                // A plain INSERT: an id collision is an error, never a merge into someone else's row.
                insert(r, deadlines, None).execute(&self.pool).await?;
            }
            Change::Replace { old, new } => {
                // One statement, so the old id cannot outlive the new one, or vice versa.
                insert(new, deadlines, Some(old))
                    .execute(&self.pool)
                    .await?;
            }
            Change::Update(r) => {
                sqlx::query(
                    "UPDATE sessions SET data = $2, user_id = $3, updated_at = $4, expires_at = $5, \
                     remember = $6 WHERE id = $1",
                )
                .bind(&r.id)
                .bind(Json(&r.data))
                .bind(r.user_id())
                .bind(r.last_seen)
                .bind(deadlines.expires_at())
                .bind(r.remember)
                .execute(&self.pool)
                .await?;
            }
            Change::Touch(r) => {
                sqlx::query("UPDATE sessions SET updated_at = $2, expires_at = $3 WHERE id = $1")
                    .bind(&r.id)
                    .bind(r.last_seen)
                    .bind(deadlines.expires_at())
                    .execute(&self.pool)
                    .await?;
            }
            Change::Delete(id) => {
                sqlx::query("DELETE FROM sessions WHERE id = $1")
                    .bind(id)
                    .execute(&self.pool)
                    .await?;
            }
        }
        Ok(())
    }
}

type PgQuery<'q> = sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>;

fn insert<'q>(r: &'q Record, deadlines: Deadlines, replacing: Option<&'q str>) -> PgQuery<'q> {
    // The same INSERT; the login's form also deletes the old row, in the same statement.
    const INSERT: &str = "INSERT INTO sessions (id, data, user_id, created_at, updated_at, \
         expires_at, absolute_expires_at, remember, user_agent) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
    const REPLACE: &str = "WITH gone AS (DELETE FROM sessions WHERE id = $10) \
         INSERT INTO sessions (id, data, user_id, created_at, updated_at, \
         expires_at, absolute_expires_at, remember, user_agent) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
    let sql = if replacing.is_some() { REPLACE } else { INSERT };
    let query = sqlx::query(sql)
        .bind(&r.id)
        .bind(Json(&r.data))
        .bind(r.user_id())
        .bind(r.created_at)
        .bind(r.last_seen)
        .bind(deadlines.expires_at())
        .bind(deadlines.absolute)
        .bind(r.remember)
        .bind(&r.user_agent);
    match replacing {
        Some(old) => query.bind(old),
        None => query,
    }
}

/// Deletes expired rows, `batch` per statement so no statement holds its locks for long, and
/// returns how many went. `SKIP LOCKED` lets two instances clean at once without waiting on
/// each other.
///
/// # Errors
/// The database's error; rows already deleted stay deleted.
pub async fn delete_expired(
    pool: &PgPool,
    now: OffsetDateTime,
    batch: i64,
) -> Result<u64, sqlx::Error> {
    let mut total = 0;
    loop {
        let deleted = sqlx::query(
            "DELETE FROM sessions WHERE id IN \
             (SELECT id FROM sessions WHERE expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)",
        )
        .bind(now)
        .bind(batch)
        .execute(pool)
        .await?
        .rows_affected();
        total += deleted;
        if deleted < batch as u64 {
            return Ok(total);
        }
    }
}

/// Rows per cleanup statement.
pub const CLEANUP_BATCH: i64 = 1000;

/// A user's live session, as "your sessions" lists it.
#[derive(Debug, sqlx::FromRow, serde::Serialize)]
pub struct SessionSummary {
    pub handle: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    pub user_agent: Option<String>,
    pub current: bool,
}

/// The user's sessions that have not expired, most recently used first.
///
/// # Errors
/// The database's error.
pub async fn list_for_user(
    pool: &PgPool,
    user_id: i64,
    current_id: &str,
    now: OffsetDateTime,
) -> Result<Vec<SessionSummary>, sqlx::Error> {
    sqlx::query_as(
        "SELECT handle, created_at, updated_at, user_agent, id = $2 AS current FROM sessions \
         WHERE user_id = $1 AND expires_at > $3 ORDER BY updated_at DESC",
    )
    .bind(user_id)
    .bind(current_id)
    .bind(now)
    .fetch_all(pool)
    .await
}

/// Ends one of the user's sessions by its handle, returning the id it had; a handle of someone
/// else's session does nothing.
///
/// # Errors
/// The database's error.
pub async fn delete_by_handle(
    pool: &PgPool,
    user_id: i64,
    handle: i64,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("DELETE FROM sessions WHERE user_id = $1 AND handle = $2 RETURNING id")
        .bind(user_id)
        .bind(handle)
        .fetch_optional(pool)
        .await
}

/// Ends every session of the user except `keep`.
///
/// # Errors
/// The database's error.
pub async fn delete_others(pool: &PgPool, user_id: i64, keep: &str) -> Result<u64, sqlx::Error> {
    Ok(
        sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id <> $2")
            .bind(user_id)
            .bind(keep)
            .execute(pool)
            .await?
            .rows_affected(),
    )
}
