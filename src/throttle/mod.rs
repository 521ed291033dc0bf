//! Throttles against automation: login attempts per account name and per client address (a
//! growing delay, then 429), account creation and new sessions per client address (429), all
//! decided before any password is hashed or any row is written.
//!
//! The limiters are `governor`'s keyed GCRA buckets: each key costs one 8-byte timestamp, a check
//! is one atomic compare-and-swap, and no timer runs. Their state lives in this process's memory:
//! a restart forgets it, and several instances behind a load balancer each keep their own, so
//! together they allow up to (instances × burst) — unless `shared_state = "redis"`, where the
//! same buckets live in Redis ([`shared`]) and a fleet counts once. The hash queue is not here
//! and stays per instance: it guards this machine's cores.

mod address;
mod creations;
mod devices;
mod limiter;
pub mod shared;
mod too_many;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rocket::fairing::AdHoc;

use crate::clock::Clock;
use crate::error::AppError;
use crate::session::Session;
use crate::settings::{Settings, SharedState, MAX_LOGIN_DELAY_MS};

pub use address::ClientAddr;
use devices::Lockouts;
use limiter::{Limiter, Verdict};
use shared::Shared;
pub use shared::SharedRedis;
pub use too_many::TooMany;

/// Managed state: the app's throttles, built from the settings. A handle: `--mode both` gives
/// its two apps clones of one, so a name's limit is the same whichever port is asked.
#[derive(Clone)]
pub struct Throttles(Arc<Limits>);

/// The limiters behind a [`Throttles`] handle.
pub struct Limits {
    login_name: Limiter<String>,
    login_address: Limiter<ClientAddr>,
    /// Wrong passwords per device cookie (keyed by its random id), OWASP's per-device counter.
    login_device: Limiter<String>,
    /// OWASP's lockout list: devices that used their burst of wrong passwords.
    distrusted: Lockouts,
    device_interval: Duration,
    signup_address: Limiter<ClientAddr>,
    /// Accounts created per browser holding a device cookie (keyed by the browser's id in it),
    /// and by all such browsers per address (the same size as `signup_address`).
    signup_device: Limiter<String>,
    signup_returning: Limiter<ClientAddr>,
    new_session_address: Limiter<ClientAddr>,
    /// Learners (rows of `learners`) created per client address.
    learner_address: Limiter<ClientAddr>,
    denylist_address: Limiter<ClientAddr>,
    /// Form writes per kept session (server mode), keyed by the session's id.
    session_write: Limiter<String>,
    delay_ms: u64,
    checks: AtomicU64,
    /// `shared_state = "redis"`: the buckets and lockouts live there instead (the limiters above
    /// then only lend their quotas).
    shared: Option<Arc<SharedRedis>>,
    clock: Arc<Clock>,
}

impl std::ops::Deref for Throttles {
    type Target = Limits;

    fn deref(&self) -> &Limits {
        &self.0
    }
}

/// One in this many checks also sweeps idle keys: cheap housekeeping with no timer task.
const SWEEP_EVERY: u64 = 4096;

impl Throttles {
    /// The throttles the settings describe, on `clock`: every bucket refills, and every device
    /// lockout ends, by that clock's time alone. With `shared_state = "redis"` they live in Redis
    /// (connected on first use). A `redis_url` redis-rs cannot read keeps them local, logged —
    /// and the app does not launch anyway: the class switches' stage refuses it.
    pub fn new(s: &Settings, clock: &Arc<Clock>) -> Throttles {
        let shared = match s.shared_state {
            SharedState::Local => None,
            SharedState::Redis => match SharedRedis::new(&s.redis_url, &s.redis_prefix) {
                Ok(redis) => Some(Arc::new(redis)),
                Err(e) => {
                    rocket::error!("shared_state: redis_url cannot be read ({e}); local throttles");
                    None
                }
            },
        };
        Throttles(Arc::new(Limits {
            login_name: Limiter::new(s.login_name_burst, s.login_name_interval, clock),
            login_address: Limiter::new(s.login_address_burst, s.login_address_interval, clock),
            login_device: Limiter::new(s.login_device_burst, s.login_device_interval, clock),
            distrusted: Lockouts::new(clock.clone()),
            device_interval: Duration::from_secs(s.login_device_interval.max(1)),
            signup_address: Limiter::new(s.signup_address_burst, s.signup_address_interval, clock),
            signup_device: Limiter::new(s.signup_device_burst, s.signup_device_interval, clock),
            signup_returning: Limiter::new(
                s.signup_address_burst,
                s.signup_address_interval,
                clock,
            ),
            new_session_address: Limiter::new(
                s.new_session_address_burst,
                s.new_session_address_interval,
                clock,
            ),
            learner_address: Limiter::new(
                s.learner_address_burst,
                s.learner_address_interval,
                clock,
            ),
            denylist_address: Limiter::new(
                s.denylist_address_burst,
                s.denylist_address_interval,
                clock,
            ),
            session_write: Limiter::new(s.session_write_burst, s.session_write_interval, clock),
            delay_ms: s.login_delay_ms,
            checks: AtomicU64::new(0),
            shared,
            clock: clock.clone(),
        }))
    }

    /// The app's clock in Unix milliseconds: the shared buckets' time.
    fn now_ms(&self) -> u64 {
        u64::try_from(self.clock.now().unix_timestamp_nanos() / 1_000_000).unwrap_or(0)
    }

    /// One bucket's check, here or in Redis: how much of the burst is used, or how long to wait.
    async fn one<K: std::hash::Hash + Eq + Clone>(
        &self,
        limiter: &Limiter<K>,
        kind: &str,
        key: &K,
        id: &str,
    ) -> Result<u32, TooMany> {
        let Some(redis) = &self.shared else {
            self.sweep_now_and_then();
            return match limiter.check(key) {
                Verdict::Go { used } => Ok(used),
                Verdict::Wait(wait) => Err(TooMany::after(wait)),
            };
        };
        let bucket = shared::bucket(redis, limiter, kind, id);
        match shared::check(redis, self.now_ms(), None, &[bucket]).await {
            Ok(Shared::Go(used)) => Ok(used.first().copied().unwrap_or(1)),
            Ok(Shared::Wait(ms)) => Err(TooMany::of(ms)),
            Err(e) => Err(TooMany::down(&e)),
        }
    }

    fn sweep_now_and_then(&self) {
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            self.login_name.forget_idle();
            self.login_address.forget_idle();
            self.login_device.forget_idle();
            self.signup_address.forget_idle();
            self.signup_device.forget_idle();
            self.signup_returning.forget_idle();
            self.new_session_address.forget_idle();
            self.learner_address.forget_idle();
            self.denylist_address.forget_idle();
            self.session_write.forget_idle();
            self.distrusted.forget_ended();
        }
    }

    /// An attempt with a device cookie bound to the account it names (see
    /// [`crate::auth::device`]): judged against that device's own bucket, right password or
    /// wrong, and never against the name's or the address's. A device cookie is then worth
    /// `login_device_burst` attempts, then one per interval, however many connections carry it
    /// (without this, its owner's own correct logins were unlimited: 168 in 10 s from one
    /// script). Returns how much of the burst is used, this attempt included, for
    /// [`Throttles::device_failed`].
    ///
    /// # Errors
    /// [`TooMany`] while the device is on the lockout list or has used its burst: nothing else
    /// is spent, so a stolen copy of the cookie cannot use up the name's tokens either.
    pub async fn device_attempt(&self, device: &str) -> Result<u32, TooMany> {
        if let Some(redis) = &self.shared {
            let lockout = redis.key("throttle:distrusted", device);
            let bucket = shared::bucket(redis, &self.login_device, "login_device", device);
            return match shared::check(redis, self.now_ms(), Some(&lockout), &[bucket]).await {
                Ok(Shared::Go(used)) => Ok(used.first().copied().unwrap_or(1)),
                Ok(Shared::Wait(ms)) => Err(TooMany::of(ms)),
                Err(e) => Err(TooMany::down(&e)),
            };
        }
        self.sweep_now_and_then();
        if let Some(wait) = self.distrusted.distrusted_for(device) {
            return Err(TooMany::after(wait));
        }
        match self.login_device.check(&device.to_string()) {
            Verdict::Go { used } => Ok(used),
            Verdict::Wait(wait) => Err(TooMany::after(wait)),
        }
    }

    /// A wrong password sent with a device cookie, whose attempt used `used` of the device's
    /// burst: the wrong password that uses the last of it puts the device on the lockout list
    /// for one interval, so a thief holding a copy gets no trickle of one guess per interval
    /// either. Only that device pays: the name's and the address's buckets are untouched.
    pub async fn device_failed(&self, device: &str, used: u32) {
        if used < self.login_device.burst {
            return;
        }
        let Some(redis) = &self.shared else {
            self.distrusted.distrust(device, self.device_interval);
            return;
        };
        let for_ms = u64::try_from(self.device_interval.as_millis()).unwrap_or(u64::MAX);
        let until = self.now_ms().saturating_add(for_ms);
        let key = redis.key("throttle:distrusted", device);
        if let Err(e) = shared::lock_out(redis, &key, until, for_ms).await {
            // The wrong password is answered anyway; the device's bucket, already used up, still
            // holds it to one attempt per interval.
            rocket::warn!(
                "shared throttles (Redis): a device lockout was not recorded: {}",
                e.0
            );
        }
    }

    /// A login attempt for `name` (normalised as login looks it up, whether or not such an
    /// account exists: refusing only real names would tell who has an account) from `addr`.
    /// Once half of either burst is used, each attempt first waits, twice as long as the last;
    /// past the burst it is refused. Call it before the password is hashed.
    ///
    /// # Errors
    /// [`TooMany`] when either the name or the address has used its burst.
    pub async fn login(&self, name: &str, addr: ClientAddr) -> Result<(), TooMany> {
        let (by_address, by_name) = match &self.shared {
            Some(redis) => {
                let buckets = [
                    shared::bucket(
                        redis,
                        &self.login_address,
                        "login_address",
                        &addr.0.to_string(),
                    ),
                    shared::bucket(redis, &self.login_name, "login_name", name),
                ];
                match shared::check(redis, self.now_ms(), None, &buckets).await {
                    Ok(Shared::Go(used)) => (
                        self.delay(used.first().copied().unwrap_or(1), self.login_address.burst),
                        self.delay(used.get(1).copied().unwrap_or(1), self.login_name.burst),
                    ),
                    Ok(Shared::Wait(ms)) => return Err(TooMany::of(ms)),
                    Err(e) => return Err(TooMany::down(&e)),
                }
            }
            None => {
                self.sweep_now_and_then();
                // The address first: an address past its limit does not also use up the name's.
                let by_address = match self.login_address.check(&addr) {
                    Verdict::Wait(wait) => return Err(TooMany::after(wait)),
                    Verdict::Go { used } => self.delay(used, self.login_address.burst),
                };
                let by_name = match self.login_name.check(&name.to_string()) {
                    Verdict::Wait(wait) => return Err(TooMany::after(wait)),
                    Verdict::Go { used } => self.delay(used, self.login_name.burst),
                };
                (by_address, by_name)
            }
        };
        let delay = by_address.max(by_name);
        if !delay.is_zero() {
            // The client's real wait, so on the runtime's timer rather than the app's clock: it
            // measures nothing, and a test's manual clock must not turn it into a wait for ever.
            tokio::time::sleep(delay).await;
        }
        Ok(())
    }

    /// The growing delay: none for the first half of the burst, then `login_delay_ms`,
    /// doubling with each further attempt, at most [`MAX_LOGIN_DELAY_MS`].
    fn delay(&self, used: u32, burst: u32) -> Duration {
        let past_half = used.saturating_sub(burst / 2);
        if past_half == 0 || self.delay_ms == 0 {
            return Duration::ZERO;
        }
        let factor = 1u64 << (past_half - 1).min(16);
        Duration::from_millis(self.delay_ms.saturating_mul(factor).min(MAX_LOGIN_DELAY_MS))
    }

    /// Before a form write (a color, a note): a request with no session (no cookie, or one
    /// that was refused) is counted against its address's new sessions; one whose session is
    /// kept as a row (server mode) is counted against that session's writes
    /// (`session_write_burst`), since each write rewrites the whole row. Its session is loaded
    /// anyway for the write that follows, and that load is cached for the request. Cookie mode's
    /// writes are the client's own cookie: they cost the server nothing to keep.
    ///
    /// # Errors
    /// [`AppError::RetryLater`] (429) when the address has created its burst of sessions or the
    /// session has made its burst of writes; [`AppError::Unavailable`] when server mode cannot
    /// load the session.
    pub async fn new_session(
        &self,
        session: &Session<'_>,
        addr: ClientAddr,
    ) -> Result<(), AppError> {
        let refused = |too_many: TooMany, what: &str| {
            Err(AppError::RetryLater {
                status: too_many.status(),
                retry_after: too_many.retry_after,
                why: too_many.sentence(what),
            })
        };
        if !session.is_empty().await? {
            if !session.layer().keeps_sessions() {
                return Ok(());
            }
            let Some(id) = session.id().await? else {
                return Ok(());
            };
            return match self
                .one(&self.session_write, "session_write", &id, &id)
                .await
            {
                Ok(_) => Ok(()),
                Err(too_many) => refused(too_many, "changes to your session"),
            };
        }
        let limiter = &self.new_session_address;
        let id = addr.0.to_string();
        match self.one(limiter, "new_session_address", &addr, &id).await {
            Ok(_) => Ok(()),
            Err(too_many) => refused(too_many, "new sessions from your address"),
        }
    }
}

/// Builds the throttles from the settings on the app's clock, unless the app was given shared
/// ones (`--mode both`).
pub fn stage() -> AdHoc {
    AdHoc::try_on_ignite("Throttles", |rocket| async {
        if rocket.state::<Throttles>().is_some() {
            return Ok(rocket);
        }
        // A missing clock is an assembly mistake: refuse to launch rather than run the buckets
        // on a clock the tests and the session layer cannot see.
        let Some(clock) = rocket.state::<Arc<Clock>>().cloned() else {
            rocket::error!("the throttles need the app's clock: attach clock::stage() first");
            return Err(rocket);
        };
        let throttles = Throttles::new(
            rocket.state::<Settings>().unwrap_or(&Settings::default()),
            &clock,
        );
        Ok(rocket.manage(throttles))
    })
}

#[cfg(test)]
mod tests;
