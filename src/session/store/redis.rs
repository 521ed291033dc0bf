//! Redis mode's store: the key is a random id, the data one Redis key that Redis expires itself.
//!
//! Each session is one string key holding the record as JSON (the map under `data`, readable
//! like the `sessions` row), filed under the SHA-256 of the id, so a copy of Redis opens no
//! session. Its TTL is the session's deadline (`EXAT`, the earlier of the idle and the absolute
//! one), moved whenever the layer refreshes it: Redis does the cleanup, and a store that expires
//! its own keys has no sweep. Writes are `SET … XX` (only over a key that is still there), so a
//! request that ran while the session was logged out reports it gone instead of bringing it back.
//!
//! A cache is not permanent storage: a key can vanish before its deadline (evicted under
//! `maxmemory`, flushed, lost in a restart). The cookie carries the session's creation time beside
//! the id, so a missing key can be told apart: gone before the idle deadline could possibly have
//! passed is `evicted`; ended by the app (logout, login, which leave a short-lived marker) or
//! possibly expired is `unknown`.
//!
//! The connection is made on first use, not at start (like the PostgreSQL pool in `src/db/`), so
//! the app starts, and says 503 `store=unavailable`, while Redis is down; redis-rs' connection
//! manager reconnects by itself afterwards.

use std::borrow::Cow;
use std::time::Duration as StdDuration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use serde_json::{Map, Value};
use time::{Duration, OffsetDateTime};
use tokio::sync::OnceCell;

use super::{
    at_rest, Done, Loaded, Op, Record, Refusal, Saved, SessionStore, StoreError, Traits, Trips,
    Unavailable, Write,
};
use crate::crypto::random_token;

/// 32 bytes from the OS CSPRNG, as server mode's ids.
const ID_BYTES: usize = 32;

/// How long a connection attempt or a command may take before the page says 503.
const TIMEOUT: StdDuration = StdDuration::from_secs(2);

pub struct RedisStore {
    client: redis::Client,
    connection: OnceCell<ConnectionManager>,
    /// What every key starts with (`redis_prefix`).
    prefix: String,
    /// The idle timeout: how long after its creation a session must at least live.
    idle: Duration,
}

impl RedisStore {
    /// A store for the server at `url`; nothing is connected yet.
    ///
    /// # Errors
    /// A URL redis-rs cannot read.
    pub fn new(url: &str, prefix: &str, idle: Duration) -> Result<RedisStore, redis::RedisError> {
        Ok(RedisStore {
            client: redis::Client::open(url)?,
            connection: OnceCell::new(),
            prefix: prefix.to_string(),
            idle,
        })
    }

    /// The Redis key a session's id is filed under: its SHA-256, never the id itself.
    pub fn session_key(&self, id: &str) -> String {
        self.key_at_rest(&at_rest(id))
    }

    /// The Redis key of a session whose id hashes to `hash` ([`at_rest`]).
    pub(super) fn key_at_rest(&self, hash: &str) -> String {
        format!("{}session:{hash}", self.prefix)
    }

    /// The marker a session the app ended leaves behind for one idle window, so a copy of its
    /// cookie is told `unknown`, not `evicted`; `hash` is the id's [`at_rest`], as for its key.
    fn ended_key(&self, hash: &str) -> String {
        format!("{}ended:{hash}", self.prefix)
    }

    /// The shared connection, made on first use; a failed attempt is tried again next time.
    pub(super) async fn connection(&self) -> Result<ConnectionManager, StoreError> {
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(TIMEOUT))
            .set_response_timeout(Some(TIMEOUT))
            .set_number_of_retries(1)
            .set_min_delay(StdDuration::from_millis(50));
        self.connection
            .get_or_try_init(|| self.client.get_connection_manager_with_config(config))
            .await
            .cloned()
            .map_err(failed)
    }

    /// Runs `query` on the shared connection.
    async fn run<T: redis::FromRedisValue>(
        &self,
        query: impl FnOnce(ConnectionManager) -> Query<T>,
    ) -> Result<T, StoreError> {
        let connection = self.connection().await?;
        query(connection).await.map_err(failed)
    }

    /// The JSON the key holds for `record`.
    pub(super) fn encode(
        record: &Record,
        deadlines: super::Deadlines,
    ) -> Result<String, StoreError> {
        Ok(serde_json::to_string(&Stored {
            data: Cow::Borrowed(&record.data),
            user_id: record.user_id,
            created_at: record.created_at,
            updated_at: record.last_seen,
            expires_at: deadlines.expires_at(),
            absolute_expires_at: deadlines.absolute,
            remember: record.remember,
            user_agent: record.user_agent.as_deref().map(Cow::Borrowed),
        })?)
    }
}

type Query<T> = std::pin::Pin<Box<dyn std::future::Future<Output = redis::RedisResult<T>> + Send>>;

/// What one key holds: the record, and the deadlines Redis was given, as the `sessions` row has
/// them.
#[derive(serde::Serialize, serde::Deserialize)]
struct Stored<'a> {
    data: Cow<'a, Map<String, Value>>,
    user_id: Option<i64>,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    updated_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    expires_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    absolute_expires_at: OffsetDateTime,
    remember: bool,
    user_agent: Option<Cow<'a, str>>,
}

/// What the JSON a key holds opens to at `now`, for the session `id`.
pub(super) fn opened(id: &str, json: &str, now: OffsetDateTime) -> Loaded {
    let Ok(s) = serde_json::from_str::<Stored<'_>>(json) else {
        return Loaded::Refused(Refusal::Malformed);
    };
    // The key's own deadlines decide, as the row's do in server mode: Redis's clock is not this
    // browser's (the inspector's fast-forward moves only the latter).
    if now >= s.absolute_expires_at {
        Loaded::Refused(Refusal::ExpiredAbsolute)
    } else if now >= s.expires_at {
        Loaded::Refused(Refusal::ExpiredIdle)
    } else {
        Loaded::Found(Record {
            id: Some(id.to_string()),
            data: s.data.into_owned(),
            user_id: s.user_id,
            created_at: s.created_at,
            last_seen: s.updated_at,
            remember: s.remember,
            user_agent: s.user_agent.map(Cow::into_owned),
        })
    }
}

/// The cookie's key, `<id>.<created, unix seconds>`, split; `None` for anything else.
fn parse_key(key: &str) -> Option<(&str, OffsetDateTime)> {
    let (id, created) = key.split_once('.')?;
    let is_id = id.len() == 43
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    let created = OffsetDateTime::from_unix_timestamp(created.parse().ok()?).ok()?;
    is_id.then_some((id, created))
}

/// `EXAT` wants a positive Unix time; one already past makes Redis drop the key at once.
fn expire_at(deadlines: super::Deadlines) -> i64 {
    deadlines.expires_at().unix_timestamp().max(1)
}

/// Redis unreachable (refused, timed out, dropped, or not letting us in) is 503; an error reply
/// to a command we wrote is a bug.
pub(super) fn failed(e: redis::RedisError) -> StoreError {
    use redis::ErrorKind;
    let unreachable = e.is_io_error()
        || e.is_timeout()
        || e.is_connection_refusal()
        || e.is_connection_dropped()
        || matches!(
            e.kind(),
            ErrorKind::Io | ErrorKind::AuthenticationFailed | ErrorKind::InvalidClientConfig
        );
    if unreachable {
        StoreError::Unavailable(Unavailable::Redis(e))
    } else {
        rocket::error!("session store: Redis answered: {e}");
        StoreError::Invalid("Redis answered an error")
    }
}

fn done<T>(value: T, commands: u32) -> Done<T> {
    Done {
        value,
        trips: Trips {
            redis: commands,
            ..Trips::default()
        },
    }
}

#[rocket::async_trait]
impl SessionStore for RedisStore {
    fn traits(&self) -> Traits {
        // Deleting the key ends every copy of the cookie; Redis keeps no index to list them by.
        Traits {
            keeps_sessions: false,
            holds_data: true,
            ends_copies: true,
            revocation: None,
        }
    }

    /// `<id>.<created>`: a new random id for a new session or a login, else the one it has. The
    /// creation time never changes for a session, so neither does its cookie.
    fn key(&self, record: &mut Record, renew: bool) -> Result<String, StoreError> {
        if renew || record.id.is_none() {
            record.id = Some(random_token(ID_BYTES));
        }
        let id = record
            .id
            .as_deref()
            .ok_or(StoreError::Invalid("a Redis session without an id"))?;
        Ok(format!("{id}.{}", record.created_at.unix_timestamp()))
    }

    fn filed_under(&self, record: &Record) -> Option<String> {
        record.id.as_deref().map(|id| self.session_key(id))
    }

    fn reaches_backend(&self, op: Op<'_>) -> bool {
        match op {
            Op::Load(key) => parse_key(key).is_some(),
            _ => true,
        }
    }

    async fn load(&self, key: &str, now: OffsetDateTime) -> Result<Done<Loaded>, StoreError> {
        let Some((id, created)) = parse_key(key) else {
            return Ok(Done::local(Loaded::Refused(Refusal::Malformed)));
        };
        let (value, ended): (Option<String>, Option<String>) = self
            .run(|mut c| {
                // The id hashed once for both keys: SHA-256 is most of what building them costs.
                let hash = at_rest(id);
                let cmd = redis::cmd("MGET")
                    .arg(self.key_at_rest(&hash))
                    .arg(self.ended_key(&hash))
                    .to_owned();
                Box::pin(async move { cmd.query_async(&mut c).await })
            })
            .await?;
        // lesson: redis-missing
        let Some(json) = value else {
            let why = if ended.is_none() && now < created.saturating_add(self.idle) {
                Refusal::Evicted
            } else {
                Refusal::Unknown
            };
            return Ok(done(Loaded::Refused(why), 1));
        };
        // end lesson
        Ok(done(opened(id, &json, now), 1))
    }

    async fn save(&self, write: Write<'_>) -> Result<Done<Saved>, StoreError> {
        let idle_secs = self.idle.whole_seconds().max(1);
        match write {
            // NX: an id collision is an error, never a write over someone else's session.
            Write::Create {
                record, deadlines, ..
            } => {
                let (key, json) = (self.filed(record)?, Self::encode(record, deadlines)?);
                let set: Option<String> = self
                    .run(|mut c| {
                        let cmd = set_cmd(key, json, deadlines, "NX");
                        Box::pin(async move { cmd.query_async(&mut c).await })
                    })
                    .await?;
                match set {
                    Some(_) => Ok(done(Saved::Saved, 1)),
                    None => Err(StoreError::Invalid("a new session's id is taken")),
                }
            }
            // Only over a key still there: a session logged out meanwhile stays logged out.
            Write::Update {
                record, deadlines, ..
            }
            | Write::Touch {
                record, deadlines, ..
            } => {
                let (key, json) = (self.filed(record)?, Self::encode(record, deadlines)?);
                let set: Option<String> = self
                    .run(|mut c| {
                        let cmd = set_cmd(key, json, deadlines, "XX");
                        Box::pin(async move { cmd.query_async(&mut c).await })
                    })
                    .await?;
                Ok(done(set.map_or(Saved::Gone, |_| Saved::Saved), 1))
            }
            Write::Delete { record, .. } => {
                let id = record_id(record)?;
                let mut pipe = redis::pipe();
                pipe.atomic();
                self.end(&mut pipe, id, idle_secs);
                let () = self
                    .run(|mut c| Box::pin(async move { pipe.query_async(&mut c).await }))
                    .await?;
                Ok(done(Saved::Saved, 2))
            }
            // One transaction, so the old key cannot outlive the new one, or vice versa.
            Write::Renew {
                old,
                record,
                deadlines,
                ..
            } => {
                let (old_id, key) = (record_id(old)?, self.filed(record)?);
                let json = Self::encode(record, deadlines)?;
                let mut pipe = redis::pipe();
                pipe.atomic();
                self.end(&mut pipe, old_id, idle_secs);
                pipe.add_command(set_cmd(key, json, deadlines, "NX"));
                let (set,): (Option<String>,) = self
                    .run(|mut c| Box::pin(async move { pipe.query_async(&mut c).await }))
                    .await?;
                match set {
                    Some(_) => Ok(done(Saved::Saved, 3)),
                    None => Err(StoreError::Invalid("a new session's id is taken")),
                }
            }
        }
    }
}

impl RedisStore {
    /// The Redis key `record` is filed under.
    fn filed(&self, record: &Record) -> Result<String, StoreError> {
        Ok(self.session_key(record_id(record)?))
    }

    /// Deletes the session under `id` and leaves its marker for an idle window (after which a
    /// missing key could have expired anyway, and is `unknown` without it).
    fn end(&self, pipe: &mut redis::Pipeline, id: &str, idle_secs: i64) {
        let hash = at_rest(id);
        pipe.add_command(redis::cmd("DEL").arg(self.key_at_rest(&hash)).to_owned())
            .ignore();
        pipe.add_command(
            redis::cmd("SET")
                .arg(self.ended_key(&hash))
                .arg(1)
                .arg("EX")
                .arg(idle_secs)
                .to_owned(),
        )
        .ignore();
    }
}

fn record_id(record: &Record) -> Result<&str, StoreError> {
    record
        .id
        .as_deref()
        .ok_or(StoreError::Invalid("a Redis session without an id"))
}

/// `SET key json NX|XX EXAT deadline`: one command writes the data and its expiry.
pub(super) fn set_cmd(
    key: String,
    json: String,
    deadlines: super::Deadlines,
    only: &str,
) -> redis::Cmd {
    redis::cmd("SET")
        .arg(key)
        .arg(json)
        .arg(only)
        .arg("EXAT")
        .arg(expire_at(deadlines))
        .to_owned()
}
