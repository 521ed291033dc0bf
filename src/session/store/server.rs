//! Server mode's store: the key is a random id, the data a row of `sessions` in PostgreSQL.
//!
//! The row is filed under the SHA-256 of the id ([`at_rest`]), never the id: the table holds no
//! credential, so a dump of it opens no session. Each statement hashes the key it is given.
//!
//! Every statement touches one row by its primary key, so each costs one index lookup. Writes
//! update rows in place (`UPDATE … WHERE id`), never upsert: a logout that deleted the row while
//! another request was still running must not be undone by that request's write — and such a
//! write reports the session gone instead of saved.

use serde_json::{Map, Value};
use sqlx::types::Json;
use sqlx::PgPool;
use time::OffsetDateTime;

use super::{
    at_rest, Done, KeptSession, Loaded, Op, Record, Refusal, Saved, SessionStore, SessionSummary,
    StoreError, Traits, Write,
};
use crate::crypto::random_token;

/// 32 bytes from the OS CSPRNG: 256 bits, far past the 128 OWASP asks for.
const ID_BYTES: usize = 32;

/// Rows per statement when sweeping, so no statement holds its locks for long.
const SWEEP_BATCH: i64 = 1000;

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
    fn traits(&self) -> Traits {
        // The row is the session: deleting it ends every copy of the cookie at once.
        Traits {
            keeps_sessions: true,
            holds_data: true,
            ends_copies: true,
            revocation: None,
        }
    }

    /// The row's id: a new random one for a new session or a login, else the one it has.
    fn key(&self, record: &mut Record, renew: bool) -> Result<String, StoreError> {
        if renew || record.id.is_none() {
            record.id = Some(random_token(ID_BYTES));
        }
        record
            .id
            .clone()
            .ok_or(StoreError::Invalid("a server session without an id"))
    }

    fn filed_under(&self, record: &Record) -> Option<String> {
        record.id.as_deref().map(at_rest)
    }

    fn reaches_backend(&self, op: Op<'_>) -> bool {
        match op {
            Op::Load(key) => looks_like_id(key),
            _ => true,
        }
    }

    async fn load(&self, key: &str, now: OffsetDateTime) -> Result<Done<Loaded>, StoreError> {
        if !looks_like_id(key) {
            return Ok(Done::local(Loaded::Refused(Refusal::Malformed)));
        }
        // Boxed: sqlx's future is large, and each layer that awaits it would otherwise copy it.
        let row: Option<SessionRow> = Box::pin(
            sqlx::query_as(
                "SELECT data, user_id, created_at, updated_at, expires_at, absolute_expires_at, \
                 remember, user_agent FROM sessions WHERE id = $1",
            )
            .bind(at_rest(key))
            .fetch_optional(&self.pool),
        )
        .await?;
        let Some(r) = row else {
            return Ok(Done::sql(Loaded::Refused(Refusal::Unknown)));
        };
        // The row's own deadlines decide, so an expired row is never adopted even before the
        // cleanup task has removed it.
        let loaded = if now >= r.absolute_expires_at {
            Loaded::Refused(Refusal::ExpiredAbsolute)
        } else if now >= r.expires_at {
            Loaded::Refused(Refusal::ExpiredIdle)
        } else {
            Loaded::Found(Record {
                id: Some(key.to_string()),
                data: r.data.0,
                user_id: r.user_id,
                created_at: r.created_at,
                last_seen: r.updated_at,
                remember: r.remember,
                user_agent: r.user_agent,
            })
        };
        Ok(Done::sql(loaded))
    }

    async fn save(&self, write: Write<'_>) -> Result<Done<Saved>, StoreError> {
        let changed = match write {
            // A plain INSERT: an id collision is an error, never a merge into someone else's row.
            Write::Create {
                key,
                record,
                deadlines,
            } => {
                insert(key, record, deadlines, None)
                    .execute(&self.pool)
                    .await?
            }
            // One statement, so the old id cannot outlive the new one, or vice versa. Should the
            // old row be gone already, the login still stands: it starts a new session.
            Write::Renew {
                old_key,
                key,
                record,
                deadlines,
                ..
            } => {
                insert(key, record, deadlines, Some(old_key))
                    .execute(&self.pool)
                    .await?
            }
            // A row already gone is as deleted as it gets.
            Write::Delete { key, .. } => {
                sqlx::query("DELETE FROM sessions WHERE id = $1")
                    .bind(at_rest(key))
                    .execute(&self.pool)
                    .await?;
                return Ok(Done::sql(Saved::Saved));
            }
            Write::Update {
                key,
                record: r,
                deadlines,
            } => {
                sqlx::query(
                    "UPDATE sessions SET data = $2, user_id = $3, updated_at = $4, \
                     expires_at = $5, remember = $6 WHERE id = $1",
                )
                .bind(at_rest(key))
                .bind(Json(&r.data))
                .bind(r.user_id)
                .bind(r.last_seen)
                .bind(deadlines.expires_at())
                .bind(r.remember)
                .execute(&self.pool)
                .await?
            }
            Write::Touch {
                key,
                record: r,
                deadlines,
            } => {
                sqlx::query("UPDATE sessions SET updated_at = $2, expires_at = $3 WHERE id = $1")
                    .bind(at_rest(key))
                    .bind(r.last_seen)
                    .bind(deadlines.expires_at())
                    .execute(&self.pool)
                    .await?
            }
        };
        // An UPDATE that found no row: the session was deleted while this request ran.
        Ok(Done::sql(if changed.rows_affected() == 0 {
            Saved::Gone
        } else {
            Saved::Saved
        }))
    }

    async fn list_user(
        &self,
        user_id: i64,
        current: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<Done<Vec<SessionSummary>>, StoreError> {
        Ok(Done::sql(
            sqlx::query_as(
                "SELECT handle, created_at, updated_at, user_agent, id = $2 IS TRUE AS current \
                 FROM sessions WHERE user_id = $1 AND expires_at > $3 ORDER BY updated_at DESC",
            )
            .bind(user_id)
            .bind(current.map(at_rest))
            .bind(now)
            .fetch_all(&self.pool)
            .await?,
        ))
    }

    async fn end_user_session(
        &self,
        user_id: i64,
        handle: i64,
    ) -> Result<Done<Option<String>>, StoreError> {
        Ok(Done::sql(
            sqlx::query_scalar(
                "DELETE FROM sessions WHERE user_id = $1 AND handle = $2 RETURNING id",
            )
            .bind(user_id)
            .bind(handle)
            .fetch_optional(&self.pool)
            .await?,
        ))
    }

    async fn end_user_others(
        &self,
        user_id: i64,
        keep: Option<&str>,
    ) -> Result<Done<u64>, StoreError> {
        let ended =
            sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id IS DISTINCT FROM $2")
                .bind(user_id)
                .bind(keep.map(at_rest))
                .execute(&self.pool)
                .await?;
        Ok(Done::sql(ended.rows_affected()))
    }

    async fn list_all(&self, current: Option<&str>) -> Result<Done<Vec<KeptSession>>, StoreError> {
        Ok(Done::sql(
            sqlx::query_as(
                "SELECT handle, user_id, pg_column_size(data) AS bytes, created_at, updated_at, \
                        expires_at, absolute_expires_at, id = $1 IS TRUE AS current \
                 FROM sessions ORDER BY updated_at DESC, handle",
            )
            .bind(current.map(at_rest))
            .fetch_all(&self.pool)
            .await?,
        ))
    }

    async fn end_all(&self, keep: Option<&str>) -> Result<Done<u64>, StoreError> {
        let ended = sqlx::query("DELETE FROM sessions WHERE id IS DISTINCT FROM $1")
            .bind(keep.map(at_rest))
            .execute(&self.pool)
            .await?;
        Ok(Done::sql(ended.rows_affected()))
    }

    fn sweeps(&self) -> bool {
        true
    }

    /// `SKIP LOCKED` lets two instances sweep at once without waiting on each other.
    async fn sweep(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        sweep_table(
            &self.pool,
            "DELETE FROM sessions WHERE id IN (SELECT id FROM sessions \
             WHERE expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)",
            now,
        )
        .await
    }
}

/// Runs a batched `DELETE` (`$1` the time, `$2` the batch) until a batch comes back short,
/// returning how many rows went. Rows already deleted stay deleted if a later batch fails.
///
/// # Errors
/// The database's.
pub(super) async fn sweep_table(
    pool: &PgPool,
    sql: &'static str,
    now: OffsetDateTime,
) -> Result<u64, StoreError> {
    let mut total = 0;
    loop {
        let deleted = sqlx::query(sql)
            .bind(now)
            .bind(SWEEP_BATCH)
            .execute(pool)
            .await?
            .rows_affected();
        total += deleted;
        if deleted < SWEEP_BATCH.unsigned_abs() {
            return Ok(total);
        }
    }
}

type PgQuery<'q> = sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>;

fn insert<'q>(
    key: &'q str,
    r: &'q Record,
    deadlines: super::Deadlines,
    replacing: Option<&'q str>,
) -> PgQuery<'q> {
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
        .bind(at_rest(key))
        .bind(Json(&r.data))
        .bind(r.user_id)
        .bind(r.created_at)
        .bind(r.last_seen)
        .bind(deadlines.expires_at())
        .bind(deadlines.absolute)
        .bind(r.remember)
        .bind(&r.user_agent);
    match replacing {
        Some(old) => query.bind(at_rest(old)),
        None => query,
    }
}
