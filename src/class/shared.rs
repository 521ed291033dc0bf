//! `shared_state = "redis"`: the teacher's class switches (the class-wide outage and clock shift,
//! [`ClassLabs`]) reach every instance behind the proxy, not only the one that served `/teacher`.
//!
//! Every request reads the switches (through [`crate::browser_lab::Lab`]), so they stay in this
//! process's atomics, read for free; Redis holds the class's copy in one hash under the prefix
//! (`class`: `cut_until`, `shift`). A teacher's switch, once its POST succeeded, is written there
//! from this instance's atomics; each instance pulls the hash into its own at most every
//! [`PULL_EVERY`], so a switch reaches the others within that (one `HMGET` per instance per
//! quarter second, however many requests). While a switch is being thrown here no pull runs, so a
//! pull cannot put back the state the teacher just changed.
//!
//! Redis down: a teacher's switch answers 503 saying it reached this instance only; the other
//! instances keep the switches they last read, and say so in the log.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rocket::fairing::{Fairing, Info, Kind};
use rocket::http::{Method, Status};
use rocket::{Data, Request, Response, Rocket};
use time::OffsetDateTime;

use crate::browser_lab::ClassLabs;
use crate::clock::Clock;
use crate::settings::{Settings, SharedState};
use crate::throttle::shared::{down, Down, SharedRedis};

/// How stale an instance's copy of the class switches may be.
pub const PULL_EVERY: Duration = Duration::from_millis(250);

/// How long Redis keeps the class's switches after the last one was thrown: a class lasts a day.
const KEEP_SECONDS: u64 = 24 * 3600;

/// The teacher's POSTs that throw a switch.
const SWITCHES: [&str; 2] = ["/teacher/outage", "/teacher/clock"];

/// Managed state with `shared_state = "redis"`: the class's switches in Redis.
pub struct SharedSwitches {
    redis: SharedRedis,
    started: Instant,
    /// Milliseconds after `started` of the last pull (0: none yet).
    pulled_at: AtomicU64,
    /// Switches being thrown on this instance right now: no pull while any is.
    throwing: AtomicUsize,
}

/// This request throws a switch (kept in its local cache between the two halves of the fairing).
struct Throwing(bool);

impl SharedSwitches {
    pub fn new(redis: SharedRedis) -> SharedSwitches {
        SharedSwitches {
            redis,
            started: Instant::now(),
            pulled_at: AtomicU64::new(0),
            throwing: AtomicUsize::new(0),
        }
    }

    fn key(&self) -> String {
        self.redis.plain_key("class")
    }

    /// Writes this instance's switches (as `labs` holds them at `now`) to Redis.
    ///
    /// # Errors
    /// [`Down`] when Redis cannot be reached.
    pub async fn push(&self, labs: &ClassLabs, now: OffsetDateTime) -> Result<(), Down> {
        let class = labs.at(|| now);
        let cut_until = class.cut_until.map_or(0, OffsetDateTime::unix_timestamp);
        let mut connection = self.redis.connection().await?;
        redis::pipe()
            .atomic()
            .hset(self.key(), "cut_until", cut_until)
            .ignore()
            .hset(self.key(), "shift", class.shift)
            .ignore()
            .expire(self.key(), KEEP_SECONDS as i64)
            .ignore()
            .query_async::<()>(&mut connection)
            .await
            .map_err(down)
    }

    /// Reads the class's switches from Redis into `labs` (none there: none at all).
    ///
    /// # Errors
    /// [`Down`] when Redis cannot be reached: `labs` keeps what it had.
    pub async fn pull(&self, labs: &ClassLabs) -> Result<(), Down> {
        let mut connection = self.redis.connection().await?;
        let (cut_until, shift): (Option<i64>, Option<i64>) = redis::cmd("HMGET")
            .arg(self.key())
            .arg("cut_until")
            .arg("shift")
            .query_async(&mut connection)
            .await
            .map_err(down)?;
        match cut_until
            .filter(|t| *t > 0)
            .and_then(|t| OffsetDateTime::from_unix_timestamp(t).ok())
        {
            Some(until) => labs.cut_until(until),
            None => labs.restore(),
        }
        labs.shift(shift.unwrap_or(0), i64::MAX);
        Ok(())
    }

    /// Whether this request should pull: none is being thrown here, and the last pull is older
    /// than [`PULL_EVERY`] (only one of the requests arriving together wins the slot).
    fn due(&self) -> bool {
        if self.throwing.load(Ordering::Acquire) > 0 {
            return false;
        }
        let now = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let last = self.pulled_at.load(Ordering::Acquire);
        let every = u64::try_from(PULL_EVERY.as_millis()).unwrap_or(250);
        if last != 0 && now.saturating_sub(last) < every {
            return false;
        }
        self.pulled_at
            .compare_exchange(last, now.max(1), Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }
}

/// Sets up the shared class switches when `shared_state = "redis"`, and only then attaches
/// [`Live`], the fairing that pulls and pushes them: with the default `"local"` no request pays
/// for a fairing that has nothing to do (two boxed futures and a lookup each, ~2-3k instructions).
pub struct Stage;

/// Pulls the switches before a request reads them, pushes them after a teacher threw one.
struct Live;

/// The fairing to attach after [`crate::browser_lab::stage`].
pub fn stage() -> Stage {
    Stage
}

#[rocket::async_trait]
impl Fairing for Stage {
    fn info(&self) -> Info {
        Info {
            name: "Shared class switches",
            kind: Kind::Ignite,
        }
    }

    async fn on_ignite(&self, rocket: Rocket<rocket::Build>) -> rocket::fairing::Result {
        let Some(settings) = rocket.state::<Settings>() else {
            return Ok(rocket);
        };
        if settings.shared_state != SharedState::Redis || rocket.state::<SharedSwitches>().is_some()
        {
            return Ok(rocket);
        }
        match SharedRedis::new(&settings.redis_url, &settings.redis_prefix) {
            Ok(redis) => Ok(rocket.manage(SharedSwitches::new(redis)).attach(Live)),
            Err(e) => {
                rocket::error!("shared_state: redis_url cannot be read ({e})");
                Err(rocket)
            }
        }
    }
}

#[rocket::async_trait]
impl Fairing for Live {
    fn info(&self) -> Info {
        Info {
            name: "Shared class switches: pull and push",
            kind: Kind::Request | Kind::Response,
        }
    }

    async fn on_request(&self, req: &mut Request<'_>, _: &mut Data<'_>) {
        let rocket = req.rocket();
        let (Some(shared), Some(labs)) = (
            rocket.state::<SharedSwitches>(),
            rocket.state::<Arc<ClassLabs>>(),
        ) else {
            return;
        };
        if req.method() == Method::Post && SWITCHES.contains(&req.uri().path().as_str()) {
            shared.throwing.fetch_add(1, Ordering::AcqRel);
            req.local_cache(|| Throwing(true));
            return;
        }
        if shared.due() {
            if let Err(e) = shared.pull(labs).await {
                rocket::warn!(
                    "shared class switches (Redis) unavailable, kept as read: {}",
                    e.0
                );
            }
        }
    }

    async fn on_response<'r>(&self, req: &'r Request<'_>, res: &mut Response<'r>) {
        if !req.local_cache(|| Throwing(false)).0 {
            return;
        }
        let rocket = req.rocket();
        let (Some(shared), Some(labs), Some(clock)) = (
            rocket.state::<SharedSwitches>(),
            rocket.state::<Arc<ClassLabs>>(),
            rocket.state::<Arc<Clock>>(),
        ) else {
            return;
        };
        let thrown = res.status() == Status::SeeOther;
        let pushed = if thrown {
            shared.push(labs, clock.now()).await
        } else {
            Ok(())
        };
        shared.throwing.fetch_sub(1, Ordering::AcqRel);
        if let Err(e) = pushed {
            rocket::warn!("shared class switches (Redis) unavailable: {}", e.0);
            let why = "The switch reached this instance only: the shared class switches (Redis, \
                       shared_state = \"redis\") cannot be reached, so the other instances keep \
                       what they had. Try again when Redis is back.";
            crate::error::page::replace(req, res, Status::ServiceUnavailable, Some(why.into()));
        }
    }
}
