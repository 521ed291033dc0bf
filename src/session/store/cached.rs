//! `session_cache = "redis"`: server mode with Redis in front of the `sessions` table, as Django's
//! `cached_db` backend (and tower-sessions' `CachingSessionStore`) do.
//!
//! PostgreSQL stays the store of record: every write goes to it first and then to Redis
//! (write-through); a load asks Redis first (`cache=hit`, no SQL), and on a miss reads the row and
//! puts it in Redis (`cache=miss`). When Redis cannot be reached the table alone answers
//! (`cache=unavailable`): slower, nothing lost. Entries are filed under the id's SHA-256, as the
//! rows are, and expire at the session's deadline as the Redis store's keys do.
//!
//! What a cache costs: a session ended while Redis could not be told (it was down at that moment)
//! stays in the cache until its TTL, the idle deadline, so its cookie would still open it from
//! there. Django's `cached_db` has the same gap; a cache is fast because it is not asked to agree.

use redis::aio::ConnectionManager;
use sqlx::PgPool;
use time::{Duration, OffsetDateTime};

use super::redis::{failed, opened, RedisStore};
use super::server::ServerStore;
use super::{
    at_rest, Cache, Deadlines, Done, KeptSession, Loaded, Op, Record, Saved, SessionStore,
    SessionSummary, StoreError, Traits, Trips, Write,
};

pub struct Cached {
    db: ServerStore,
    pool: PgPool,
    cache: RedisStore,
    idle: Duration,
    absolute: Duration,
}

impl Cached {
    /// Server mode's store on `pool`, with `cache` in front; `idle` and `absolute` give a row read
    /// on a miss its deadlines, as the layer computes them.
    pub fn new(pool: PgPool, cache: RedisStore, idle: Duration, absolute: Duration) -> Cached {
        Cached {
            db: ServerStore::new(pool.clone()),
            pool,
            cache,
            idle,
            absolute,
        }
    }

    async fn run<T: redis::FromRedisValue>(
        &self,
        build: impl FnOnce(&mut redis::Pipeline),
    ) -> Result<T, StoreError> {
        let mut connection: ConnectionManager = self.cache.connection().await?;
        let mut pipe = redis::pipe();
        build(&mut pipe);
        pipe.query_async(&mut connection).await.map_err(failed)
    }

    /// Puts `record` in the cache under its id's hash, until its deadline.
    fn put(&self, pipe: &mut redis::Pipeline, record: &Record, deadlines: Deadlines) {
        let (Some(id), Ok(json)) = (record.id.as_deref(), RedisStore::encode(record, deadlines))
        else {
            return;
        };
        pipe.cmd("SET")
            .arg(self.cache.session_key(id))
            .arg(json)
            .arg("EXAT")
            .arg(deadlines.expires_at().unix_timestamp().max(1))
            .ignore();
    }

    /// Tells the cache; a cache that cannot be told is reported, never an error: the table has
    /// the write.
    async fn tell(&self, commands: u32, build: impl FnOnce(&mut redis::Pipeline)) -> Trips {
        match self.run::<()>(build).await {
            Ok(()) => Trips {
                redis: commands,
                ..Trips::default()
            },
            Err(e) => {
                rocket::warn!("session cache: not updated: {e}");
                Trips {
                    cache: Some(Cache::Unavailable),
                    ..Trips::default()
                }
            }
        }
    }

    /// Forgets the sessions filed under `hashes` (the rows' keys), then reports what it ran.
    async fn forget(&self, hashes: &[String]) -> Trips {
        if hashes.is_empty() {
            return Trips::default();
        }
        let keys: Vec<String> = hashes.iter().map(|h| self.cache.key_at_rest(h)).collect();
        self.tell(1, |pipe| {
            pipe.cmd("DEL").arg(keys).ignore();
        })
        .await
    }

    /// Deletes rows by `sql` (returning their keys) and forgets them in the cache.
    async fn end_rows(
        &self,
        sql: &'static str,
        user_id: Option<i64>,
        keep: Option<&str>,
    ) -> Result<Done<u64>, StoreError> {
        let query = sqlx::query_scalar(sql);
        let query = match user_id {
            Some(user_id) => query.bind(user_id),
            None => query,
        };
        let ended: Vec<String> = query.bind(keep.map(at_rest)).fetch_all(&self.pool).await?;
        let mut trips = Trips {
            sql: 1,
            ..Trips::default()
        };
        trips += self.forget(&ended).await;
        Ok(Done {
            value: ended.len() as u64,
            trips,
        })
    }
}

#[rocket::async_trait]
impl SessionStore for Cached {
    fn traits(&self) -> Traits {
        self.db.traits()
    }

    fn key(&self, record: &mut Record, renew: bool) -> Result<String, StoreError> {
        self.db.key(record, renew)
    }

    fn filed_under(&self, record: &Record) -> Option<String> {
        self.db.filed_under(record)
    }

    fn reaches_backend(&self, op: Op<'_>) -> bool {
        self.db.reaches_backend(op)
    }

    async fn load(&self, key: &str, now: OffsetDateTime) -> Result<Done<Loaded>, StoreError> {
        if !self.db.reaches_backend(Op::Load(key)) {
            return self.db.load(key, now).await;
        }
        let cached: Result<(Option<String>,), StoreError> = self
            .run(|pipe| {
                pipe.cmd("GET").arg(self.cache.session_key(key));
            })
            .await;
        let outcome = match cached {
            Ok((Some(json),)) => {
                return Ok(Done {
                    value: opened(key, &json, now),
                    trips: Trips {
                        redis: 1,
                        cache: Some(Cache::Hit),
                        ..Trips::default()
                    },
                })
            }
            Ok((None,)) => Cache::Miss,
            Err(e) => {
                rocket::warn!("session cache: reading the table alone: {e}");
                Cache::Unavailable
            }
        };
        let mut done = self.db.load(key, now).await?;
        done.trips.cache = Some(outcome);
        if outcome == Cache::Miss {
            done.trips.redis += 1;
            if let Loaded::Found(record) = &done.value {
                let deadlines = Deadlines {
                    idle: record.last_seen.saturating_add(self.idle),
                    absolute: record.created_at.saturating_add(self.absolute),
                };
                let refilled = self.tell(1, |pipe| self.put(pipe, record, deadlines)).await;
                done.trips += refilled;
            }
        }
        Ok(done)
    }

    /// The table first, then the cache; a write the table did not keep (the session was ended
    /// meanwhile) is forgotten in the cache too.
    async fn save(&self, write: Write<'_>) -> Result<Done<Saved>, StoreError> {
        let mut done = self.db.save(write).await?;
        let told = match (done.value, write) {
            (Saved::Gone, _) | (_, Write::Delete { .. }) => {
                let record = match write {
                    Write::Create { record, .. }
                    | Write::Update { record, .. }
                    | Write::Touch { record, .. }
                    | Write::Delete { record, .. }
                    | Write::Renew { record, .. } => record,
                };
                self.forget(
                    &record
                        .id
                        .as_deref()
                        .map(at_rest)
                        .into_iter()
                        .collect::<Vec<_>>(),
                )
                .await
            }
            (
                Saved::Saved,
                Write::Create {
                    record, deadlines, ..
                }
                | Write::Update {
                    record, deadlines, ..
                }
                | Write::Touch {
                    record, deadlines, ..
                },
            ) => self.tell(1, |pipe| self.put(pipe, record, deadlines)).await,
            (
                Saved::Saved,
                Write::Renew {
                    old,
                    record,
                    deadlines,
                    ..
                },
            ) => {
                let old_key = old.id.as_deref().map(|id| self.cache.session_key(id));
                self.tell(2, |pipe| {
                    if let Some(old_key) = old_key {
                        pipe.cmd("DEL").arg(old_key).ignore();
                    }
                    self.put(pipe, record, deadlines);
                })
                .await
            }
        };
        done.trips += told;
        Ok(done)
    }

    async fn list_user(
        &self,
        user_id: i64,
        current: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<Done<Vec<SessionSummary>>, StoreError> {
        self.db.list_user(user_id, current, now).await
    }

    async fn end_user_session(
        &self,
        user_id: i64,
        handle: i64,
    ) -> Result<Done<Option<String>>, StoreError> {
        let mut done = self.db.end_user_session(user_id, handle).await?;
        let ended: Vec<String> = done.value.iter().cloned().collect();
        done.trips += self.forget(&ended).await;
        Ok(done)
    }

    async fn end_user_others(
        &self,
        user_id: i64,
        keep: Option<&str>,
    ) -> Result<Done<u64>, StoreError> {
        self.end_rows(
            "DELETE FROM sessions WHERE user_id = $1 AND id IS DISTINCT FROM $2 RETURNING id",
            Some(user_id),
            keep,
        )
        .await
    }

    async fn list_all(&self, current: Option<&str>) -> Result<Done<Vec<KeptSession>>, StoreError> {
        self.db.list_all(current).await
    }

    async fn end_all(&self, keep: Option<&str>) -> Result<Done<u64>, StoreError> {
        self.end_rows(
            "DELETE FROM sessions WHERE id IS DISTINCT FROM $1 RETURNING id",
            None,
            keep,
        )
        .await
    }

    /// Expired rows go as in server mode; their cache entries have expired by themselves.
    fn sweeps(&self) -> bool {
        true
    }

    async fn sweep(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        self.db.sweep(now).await
    }
}
