//! Server mode's store: the cookie carries a random id, the data is a row of `sessions`.
//!
//! Every statement touches one row by its primary key, so each costs one index lookup. Writes
//! update rows in place (`UPDATE … WHERE id`), never upsert: a logout that deleted the row while
//! another request was still running must not be undone by that request's write — and such a
//! write reports the session gone instead of saved.

use serde_json::{Map, Value};
use sqlx::types::Json;
use sqlx::PgPool;
use time::OffsetDateTime;

use super::store::{
    Change, Committed, Deadlines, Loaded, Record, Refusal, SessionStore, SessionSummary,
    Statements, StoreError, UserSessions,
};
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

/// What a load reads: the row less its id (the cookie gave it) and the handle.
#[derive(sqlx::FromRow)]
struct SessionRow {
    data: Json<Map<String, Value>>,
    user_id: Option<i64>,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
    expires_at: OffsetDateTime,
    absolute_expires_at: OffsetDateTime,
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

    fn cookie_plaintext(&self, record: &Record) -> Result<String, StoreError> {
        id_of(record).map(str::to_string)
    }

    /// The cookie carries only the id: data, login and deadlines live in the row.
    fn cookie_changes(&self, before: &Record, after: &Record) -> bool {
        before.id != after.id
    }

    async fn load(
        &self,
        plaintext: &str,
        now: OffsetDateTime,
        statements: &mut Statements,
    ) -> Result<Loaded, StoreError> {
        if !looks_like_id(plaintext) {
            return Ok(Loaded::Refused(Refusal::Malformed));
        }
        statements.begin()?;
        let row: Option<SessionRow> = sqlx::query_as(
            "SELECT data, user_id, created_at, updated_at, expires_at, absolute_expires_at, \
             remember, user_agent FROM sessions WHERE id = $1",
        )
        .bind(plaintext)
        .fetch_optional(&self.pool)
        .await?;
        let Some(r) = row else {
            return Ok(Loaded::Refused(Refusal::Unknown));
        };
        // The row's own deadlines decide, so an expired row is never adopted even before the
        // cleanup task has removed it. `now` comes from the injectable clock, not `now()`.
        if now >= r.absolute_expires_at {
            return Ok(Loaded::Refused(Refusal::ExpiredAbsolute));
        }
        if now >= r.expires_at {
            return Ok(Loaded::Refused(Refusal::ExpiredIdle));
        }
        Ok(Loaded::Found(Record {
            id: Some(plaintext.to_string()),
            data: r.data.0,
            user_id: r.user_id,
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
        statements: &mut Statements,
    ) -> Result<Committed, StoreError> {
        statements.begin()?;
        let changed = match change {
            // A plain INSERT: an id collision is an error, never a merge into someone else's row.
            Change::Insert(r) => insert(r, deadlines, None).execute(&self.pool).await?,
            // One statement, so the old id cannot outlive the new one, or vice versa. Should the
            // old row be gone already, the login still stands: it starts a new session.
            Change::Replace { old, new } => {
                insert(new, deadlines, Some(id_of(old)?))
                    .execute(&self.pool)
                    .await?
            }
            // A row already gone is as deleted as it gets.
            Change::Delete(old) => {
                sqlx::query("DELETE FROM sessions WHERE id = $1")
                    .bind(id_of(old)?)
                    .execute(&self.pool)
                    .await?;
                return Ok(Committed::Saved);
            }
            Change::Update(r) => {
                sqlx::query(
                    "UPDATE sessions SET data = $2, user_id = $3, updated_at = $4, \
                     expires_at = $5, remember = $6 WHERE id = $1",
                )
                .bind(&r.id)
                .bind(Json(&r.data))
                .bind(r.user_id)
                .bind(r.last_seen)
                .bind(deadlines.expires_at())
                .bind(r.remember)
                .execute(&self.pool)
                .await?
            }
            Change::Touch(r) => {
                sqlx::query("UPDATE sessions SET updated_at = $2, expires_at = $3 WHERE id = $1")
                    .bind(&r.id)
                    .bind(r.last_seen)
                    .bind(deadlines.expires_at())
                    .execute(&self.pool)
                    .await?
            }
        };
        // An UPDATE that found no row: the session was deleted while this request ran.
        Ok(if changed.rows_affected() == 0 {
            Committed::Gone
        } else {
            Committed::Saved
        })
    }

    fn user_sessions(&self) -> Option<&dyn UserSessions> {
        Some(self)
    }

    /// The row is the session: deleting it ends every copy of the cookie at once.
    fn ends_copies(&self) -> bool {
        true
    }
}

fn id_of(record: &Record) -> Result<&str, StoreError> {
    record
        .id
        .as_deref()
        .ok_or(StoreError::Invalid("a server session without an id"))
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
        .bind(r.user_id)
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

#[rocket::async_trait]
impl UserSessions for ServerStore {
    async fn list(
        &self,
        user_id: i64,
        current_id: Option<&str>,
        now: OffsetDateTime,
        statements: &mut Statements,
    ) -> Result<Vec<SessionSummary>, StoreError> {
        statements.begin()?;
        Ok(sqlx::query_as(
            "SELECT handle, created_at, updated_at, user_agent, id = $2 IS TRUE AS current \
             FROM sessions WHERE user_id = $1 AND expires_at > $3 ORDER BY updated_at DESC",
        )
        .bind(user_id)
        .bind(current_id)
        .bind(now)
        .fetch_all(&self.pool)
        .await?)
    }

    async fn end_one(
        &self,
        user_id: i64,
        handle: i64,
        statements: &mut Statements,
    ) -> Result<Option<String>, StoreError> {
        statements.begin()?;
        Ok(sqlx::query_scalar(
            "DELETE FROM sessions WHERE user_id = $1 AND handle = $2 RETURNING id",
        )
        .bind(user_id)
        .bind(handle)
        .fetch_optional(&self.pool)
        .await?)
    }

    async fn end_others(
        &self,
        user_id: i64,
        keep: Option<&str>,
        statements: &mut Statements,
    ) -> Result<u64, StoreError> {
        statements.begin()?;
        Ok(
            sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id IS DISTINCT FROM $2")
                .bind(user_id)
                .bind(keep)
                .execute(&self.pool)
                .await?
                .rows_affected(),
        )
    }
}
