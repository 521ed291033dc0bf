//! `shared_state = "redis"`: the state several instances behind one proxy must agree on — the
//! throttles' buckets and lockouts here, the reports ([`crate::report`]) and the class switches
//! ([`crate::class`]) beside — kept in Redis under the app's `redis_prefix`, so that N instances
//! count and show as one.
//!
//! A bucket is GCRA, as `governor`'s local ones: one key per bucket holding its theoretical
//! arrival time in milliseconds of the app's clock, expiring (`PX`) when the bucket is full again,
//! so an idle name or address costs nothing. A check is one Lua script, run atomically by Redis:
//! one round trip however many buckets it reads (a login's address and name, a device's lockout
//! and bucket). Times come from the app's clock, not Redis's, so the tests' manual clock refills
//! a shared bucket exactly as it refills a local one. Its wall time, not its monotonic reading:
//! instances must agree on the time (NTP), and a clock stepped back makes a bucket wait longer,
//! never refill early.
//!
//! Redis unreachable is an answer, never a panic: the caller gets [`Down`] and refuses (fails
//! closed) with a 503 that says so and has spent nothing.

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use sha2::{Digest, Sha256};
use tokio::sync::OnceCell;

/// How long connecting, or one command, may take before the check answers 503.
const TIMEOUT: Duration = Duration::from_secs(2);

/// Redis could not be reached or did not answer: the check cannot be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Down(pub String);

/// A lazily connected Redis, shared by the throttles, the reports and the class switches. The
/// connection is made on first use, so an app with `shared_state = "redis"` starts while Redis is
/// down (and answers 503 where it needs it); the connection manager reconnects by itself.
pub struct SharedRedis {
    client: redis::Client,
    connection: OnceCell<ConnectionManager>,
    prefix: String,
}

impl SharedRedis {
    /// A handle on the server at `url`; nothing is connected yet.
    ///
    /// # Errors
    /// A URL redis-rs cannot read.
    pub fn new(url: &str, prefix: &str) -> Result<SharedRedis, redis::RedisError> {
        Ok(SharedRedis {
            client: redis::Client::open(url)?,
            connection: OnceCell::new(),
            prefix: prefix.to_string(),
        })
    }

    /// The key for `what` (`throttle:login_name`, `report`, …) and `id`, under the prefix. The id
    /// is hashed: a name, a session id or a device id is never filed as sent, and every key has
    /// one bounded length whatever a client typed.
    pub fn key(&self, what: &str, id: &str) -> String {
        let digest = Sha256::digest(id.as_bytes());
        let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
        format!("{}{what}:{hex}", self.prefix)
    }

    /// A key under the prefix with no id (the class switches).
    pub fn plain_key(&self, what: &str) -> String {
        format!("{}{what}", self.prefix)
    }

    /// The shared connection, made on first use; a failed attempt is tried again next time.
    ///
    /// # Errors
    /// [`Down`] when Redis does not answer within the timeout.
    pub async fn connection(&self) -> Result<ConnectionManager, Down> {
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(TIMEOUT))
            .set_response_timeout(Some(TIMEOUT))
            .set_number_of_retries(1)
            .set_min_delay(Duration::from_millis(50));
        self.connection
            .get_or_try_init(|| self.client.get_connection_manager_with_config(config))
            .await
            .cloned()
            .map_err(down)
    }
}

/// What a failed Redis call says, for the log.
pub fn down(e: redis::RedisError) -> Down {
    Down(e.to_string())
}

/// One bucket for [`check`]: its key, its burst and its period (one token back per period).
pub struct Bucket {
    pub key: String,
    pub burst: u32,
    pub period_ms: u64,
}

/// `limiter`'s bucket for `id` in Redis, under `throttle:<kind>`: its quota, shared.
pub(super) fn bucket<K: std::hash::Hash + Eq + Clone>(
    redis: &SharedRedis,
    limiter: &super::limiter::Limiter<K>,
    kind: &str,
    id: &str,
) -> Bucket {
    Bucket {
        key: redis.key(&format!("throttle:{kind}"), id),
        burst: limiter.burst,
        period_ms: limiter.period_ms,
    }
}

/// What [`check`] made of an attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shared {
    /// Let through: how much of each bucket's burst is used, this attempt included, in order.
    Go(Vec<u32>),
    /// Refused after this many milliseconds (a lockout, or the first bucket with no token).
    Wait(u64),
}

/// The buckets in order, after an optional lockout: the lockout refuses while its end (app clock,
/// ms) lies ahead; otherwise each bucket takes a token or refuses, and a bucket that refuses
/// leaves the ones after it untouched (as the local limiters, an address past its limit does not
/// also spend the name's). Returns `{0, used…}` or `{1, wait_ms}`.
const CHECK: &str = r"
local now = tonumber(ARGV[1])
local first = 1
if ARGV[2] == '1' then
  local until_ms = tonumber(redis.call('GET', KEYS[1]) or '0')
  if until_ms > now then return {1, until_ms - now} end
  first = 2
end
local used = {0}
local arg = 3
for i = first, #KEYS do
  local period = tonumber(ARGV[arg])
  local burst = tonumber(ARGV[arg + 1])
  arg = arg + 2
  local tolerance = period * burst
  local tat = tonumber(redis.call('GET', KEYS[i]) or '0')
  if tat < now then tat = now end
  local new_tat = tat + period
  if new_tat - now > tolerance then
    return {1, new_tat - tolerance - now}
  end
  redis.call('SET', KEYS[i], new_tat, 'PX', new_tat - now)
  used[#used + 1] = burst - math.floor((tolerance - (new_tat - now)) / period)
end
return used
";

/// Runs one check: `lockout` (its key) first when given, then `buckets`, at `now_ms` on the app's
/// clock. One round trip: `EVAL` (Redis compiles the script once and keeps it by its digest; the
/// few hundred bytes of its text cost less than a second round trip for `EVALSHA`'s miss).
///
/// # Errors
/// [`Down`] when Redis cannot be reached or the script fails.
pub async fn check(
    redis: &SharedRedis,
    now_ms: u64,
    lockout: Option<&str>,
    buckets: &[Bucket],
) -> Result<Shared, Down> {
    let mut keys: Vec<&str> = Vec::with_capacity(buckets.len() + 1);
    keys.extend(lockout);
    keys.extend(buckets.iter().map(|b| b.key.as_str()));
    let mut eval = redis::cmd("EVAL");
    eval.arg(CHECK).arg(keys.len()).arg(&keys);
    eval.arg(now_ms)
        .arg(if lockout.is_some() { "1" } else { "0" });
    for b in buckets {
        eval.arg(b.period_ms.max(1)).arg(b.burst.max(1));
    }
    let mut connection = redis.connection().await?;
    let answer: Vec<u64> = eval.query_async(&mut connection).await.map_err(down)?;
    Ok(match answer.as_slice() {
        [1, wait] => Shared::Wait(*wait),
        [0, used @ ..] => Shared::Go(used.iter().map(|u| *u as u32).collect()),
        _ => return Err(Down(format!("the check script answered {answer:?}"))),
    })
}

/// Puts a lockout on `key` until `until_ms` (app clock); Redis forgets it `for_ms` from now.
///
/// # Errors
/// [`Down`] when Redis cannot be reached.
pub async fn lock_out(
    redis: &SharedRedis,
    key: &str,
    until_ms: u64,
    for_ms: u64,
) -> Result<(), Down> {
    let mut connection = redis.connection().await?;
    redis::cmd("SET")
        .arg(key)
        .arg(until_ms)
        .arg("PX")
        .arg(for_ms.max(1))
        .query_async::<()>(&mut connection)
        .await
        .map_err(down)
}
