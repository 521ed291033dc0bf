//! `shared_state = "redis"`: the report shelf in Redis, so the page a redirect lands on finds the
//! report whichever instance behind the proxy made it ("the report stayed behind" no more).
//!
//! A report is kept as the page will show it (its JSON view, worded when it is kept: it is read
//! within milliseconds), under the SHA-256 of its token, expiring after `report_keep_seconds` —
//! Redis drops the key then, and the time it was kept (on the app's clock) is checked when it is
//! taken, so a test's manual clock ages it as it ages a local one.
//! The bounds a client could otherwise push past are kept with it, in the same Lua script (one
//! round trip): the browser's list of its newest `report_max_per_browser` reports and its
//! address's of `report_max_per_address`, each dropping (and deleting) its oldest past the bound,
//! and each expiring with the reports it names. `report_max_bytes` bounds one report; the whole
//! is bounded by the keep time and by Redis's own `maxmemory`, not by `report_max_kept`.

use std::sync::Arc;

use serde_json::Value;
use time::OffsetDateTime;

use super::{Bounds, Browser};
use crate::throttle::shared::{down, Down, SharedRedis};

/// Keeps a report and makes room in its browser's and its address's lists. KEYS: the report, the
/// browser's list, the address's list; ARGV: the JSON, the keep time (ms), the two bounds.
const KEEP: &str = r"
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
for i = 2, 3 do
  local bound = tonumber(ARGV[i + 1])
  redis.call('RPUSH', KEYS[i], KEYS[1])
  while redis.call('LLEN', KEYS[i]) > bound do
    redis.call('DEL', redis.call('LPOP', KEYS[i]))
  end
  redis.call('PEXPIRE', KEYS[i], ARGV[2])
end
return 1
";

/// The reports of every instance on one `redis_prefix`.
pub struct SharedShelf {
    redis: Arc<SharedRedis>,
    bounds: Bounds,
}

impl SharedShelf {
    pub fn new(redis: Arc<SharedRedis>, bounds: Bounds) -> SharedShelf {
        SharedShelf { redis, bounds }
    }

    fn report_key(&self, token: &str) -> String {
        self.redis.key("report", token)
    }

    /// Keeps `view` (the report as the page shows it) for `browser` under `token`. False when a
    /// bound keeps nothing or the report is larger than `report_max_bytes`.
    ///
    /// # Errors
    /// [`Down`] when Redis cannot be reached: the landing page then says the report is gone.
    pub async fn keep(
        &self,
        browser: &Browser,
        token: &str,
        view: &Value,
        now: OffsetDateTime,
    ) -> Result<bool, Down> {
        let b = self.bounds;
        let json = serde_json::json!({ "kept": now.unix_timestamp(), "view": view }).to_string();
        if b.keep_seconds == 0 || b.per_browser == 0 || b.per_address == 0 || b.max_kept == 0 {
            return Ok(false);
        }
        if json.len() > b.max_bytes {
            return Ok(false);
        }
        let address = browser.address.to_string();
        let own = match &browser.csrf {
            Some(csrf) => format!("csrf:{csrf}"),
            None => format!("address:{address}"),
        };
        let mut connection = self.redis.connection().await?;
        redis::cmd("EVAL")
            .arg(KEEP)
            .arg(3)
            .arg(self.report_key(token))
            .arg(self.redis.key("report-browser", &own))
            .arg(self.redis.key("report-address", &address))
            .arg(json)
            .arg(b.keep_seconds.saturating_mul(1000))
            .arg(b.per_browser)
            .arg(b.per_address)
            .query_async::<i64>(&mut connection)
            .await
            .map_err(down)?;
        Ok(true)
    }

    /// Takes the report kept under `token`, once (`GETDEL`, so two tabs cannot both take it).
    ///
    /// # Errors
    /// [`Down`] when Redis cannot be reached.
    pub async fn take(&self, token: &str, now: OffsetDateTime) -> Result<Option<Value>, Down> {
        let mut connection = self.redis.connection().await?;
        let json: Option<String> = redis::cmd("GETDEL")
            .arg(self.report_key(token))
            .query_async(&mut connection)
            .await
            .map_err(down)?;
        let Some(mut kept) = json.and_then(|j| serde_json::from_str::<Value>(&j).ok()) else {
            return Ok(None);
        };
        let at = kept.get("kept").and_then(Value::as_i64).unwrap_or(0);
        let keep = i64::try_from(self.bounds.keep_seconds).unwrap_or(i64::MAX);
        if now.unix_timestamp().saturating_sub(at) >= keep {
            return Ok(None);
        }
        Ok(Some(kept["view"].take()))
    }
}
