//! The labs' per-browser state — the inspector's fast-forwarded clock and the outage lab's switch —
//! sealed in this browser's own `lab` cookie, so that on a shared class server each lab acts on the
//! browser that asked and nobody else.
//!
//! - The clock: nothing stored ever carries a shifted time. Rows and cookie payloads are written
//!   with real time; only this browser's deadline checks (and the countdowns its pages show) add
//!   its offset. A reset therefore leaves nothing behind, and the cleanup task keeps real time.
//!   The offset only grows (up to `session_absolute_timeout`, past which every session has ended):
//!   a clock turned back would keep an expired session, or a stolen copy of one, alive.
//! - The outage: while the switch is on, every database access made for this browser's requests
//!   fails as a stopped PostgreSQL makes it fail, and the pages answer what they answer in a real
//!   outage (503, or cookie mode serving what needs no database). It fails at once rather than
//!   after `connect_timeout`: the lesson is the answer, not the wait, and the page says so. Other
//!   browsers, and the cleanup task, use the database as usual.
//!
//! The cookie is read once per request ([`Lab::of`]); a forged, tampered or stale one opens to
//! nothing and counts as no lab at all. One name for both modes, so `--mode both` shares it.
//!
//! A teacher can also throw both switches for the whole class from `/teacher` ([`ClassLabs`]): a
//! class-wide outage that ends by itself, and a class-wide clock shift. They are process-wide
//! state, never sealed into anyone's cookie; [`Lab::of`] combines them with the browser's own (cut
//! when either is cut; the class shift added to the browser's offset), so they act through the
//! very same checks as a browser's own labs. `/teacher` itself is exempt from both, so its teacher
//! can always see the class as it really is and end the outage early.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use rocket::fairing::AdHoc;
use rocket::request::{FromRequest, Outcome, Request};
use serde::{Deserialize, Serialize};
use sqlx::pool::PoolConnection;
use sqlx::{PgPool, Postgres};
use time::{Duration, OffsetDateTime};

use crate::clock::Clock;
use crate::cookies::{from_json, to_json, CookieValue, Jar, Kind};
use crate::db::{Db, DbError};
use crate::session::Conditions;
use crate::settings::{Mode, Settings};
use crate::unavailable::Unavailable;

/// This browser's labs, as its lab cookie says (the default: real time, database reachable).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lab {
    /// Seconds this browser's deadline checks run ahead of real time; never negative.
    #[serde(default)]
    pub offset: i64,
    /// The outage switch: this browser's requests find the database unreachable.
    #[serde(default)]
    pub cut: bool,
    /// The class-wide switches as they stood when this request came; never sealed.
    #[serde(skip)]
    pub class: Class,
}

/// The teacher's class-wide switches, as one request sees them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Class {
    /// When the class-wide outage ends, while one runs.
    pub cut_until: Option<OffsetDateTime>,
    /// Seconds every browser's deadline checks run ahead, on top of its own offset.
    pub shift: i64,
}

impl Lab {
    /// This request's labs, read from its cookie on first use and cached for the request.
    pub fn of<'r>(req: &'r Request<'_>) -> &'r Lab {
        req.local_cache(|| read(req))
    }

    /// What this browser's clock says when the real one says `real`: its own offset plus the
    /// class's shift.
    pub fn now(&self, real: OffsetDateTime) -> OffsetDateTime {
        real.saturating_add(Duration::seconds(
            self.offset.saturating_add(self.class.shift),
        ))
    }

    /// Whether this browser's requests find the database cut off: its own switch, or the class's.
    pub fn is_cut(&self) -> bool {
        self.cut || self.class.cut_until.is_some()
    }

    /// The clock moved `seconds` further ahead, at most `most` ahead in all.
    pub fn advanced(self, seconds: i64, most: i64) -> Lab {
        Lab {
            offset: self.offset.saturating_add(seconds.max(0)).clamp(0, most),
            ..self
        }
    }

    /// The clock back at real time; the switch as it was.
    pub fn clock_reset(self) -> Lab {
        Lab { offset: 0, ..self }
    }

    /// The switch set to `cut`; the clock as it was.
    pub fn with_cut(self, cut: bool) -> Lab {
        Lab { cut, ..self }
    }

    /// Makes this the browser's state: its cookie sealed, or removed when nothing is on.
    pub fn store(&self, jar: Jar<'_>) {
        if (self.offset, self.cut) == (0, false) {
            jar.remove_value::<Lab>();
        } else {
            jar.set(self);
        }
    }

    /// What the session layer needs of this browser's labs.
    pub fn conditions(&self) -> Conditions {
        Conditions {
            offset: self.offset.saturating_add(self.class.shift),
            cut: self.is_cut(),
        }
    }

    /// Refuses while either switch is on, with the error a refused connection gives.
    ///
    /// # Errors
    /// [`DbError::Unavailable`] while this browser, or its class, has the database cut off.
    pub fn check(&self) -> Result<(), DbError> {
        if self.is_cut() {
            Err(DbError::Unavailable(Unavailable::Cut))
        } else {
            Ok(())
        }
    }

    /// The pool, once ready, for a request of this browser.
    ///
    /// # Errors
    /// As [`Lab::check`] and [`crate::db::LazyPool::ready`].
    pub async fn ready<'a>(&self, db: &'a Db) -> Result<&'a PgPool, DbError> {
        self.check()?;
        db.ready().await
    }

    /// A connection, as the `Connection` guard would give it, for a request of this browser.
    ///
    /// # Errors
    /// As [`Lab::ready`].
    pub async fn connection(&self, db: &Db) -> Result<PoolConnection<Postgres>, DbError> {
        self.check()?;
        rocket_db_pools::Pool::get(&**db).await
    }
}

/// The labs as the session layer sees them: handed to [`crate::session::stage`].
pub fn conditions(req: &Request<'_>) -> Conditions {
    Lab::of(req).conditions()
}

/// The labs' stage: the class-wide switches every request reads (`--mode both` hands its two
/// apps one).
pub fn stage() -> AdHoc {
    AdHoc::on_ignite("Labs", |rocket| async {
        if rocket.state::<Arc<ClassLabs>>().is_some() {
            return rocket;
        }
        rocket.manage(Arc::new(ClassLabs::default()))
    })
}

impl CookieValue for Lab {
    fn kind(_: Mode) -> Kind {
        Kind::Lab
    }
    fn encode(&self) -> Option<String> {
        // Two plain fields (the class's are skipped).
        to_json(self)
    }
    fn decode(plaintext: &str) -> Option<Self> {
        from_json(plaintext)
    }
}

/// The teacher's class-wide switches, for every browser of this process (`--mode both` shares one).
/// Plain atomics: read on every request, written only from `/teacher`.
#[derive(Debug, Default)]
pub struct ClassLabs {
    /// The end of the class-wide outage, in Unix seconds of the app's clock; 0 when none.
    cut_until: AtomicI64,
    /// The class-wide clock shift, in seconds; 0 when none.
    shift: AtomicI64,
}

impl ClassLabs {
    /// Cuts every browser off the database until `until` (replacing any outage running).
    pub fn cut_until(&self, until: OffsetDateTime) {
        self.cut_until
            .store(until.unix_timestamp().max(1), Ordering::Relaxed);
    }

    /// Ends the class-wide outage now.
    pub fn restore(&self) {
        self.cut_until.store(0, Ordering::Relaxed);
    }

    /// Sets the class-wide shift to `seconds` ahead, at most `most` (0 stops it; never negative).
    pub fn shift(&self, seconds: i64, most: i64) {
        self.shift.store(seconds.clamp(0, most), Ordering::Relaxed);
    }

    /// The switches at the time `now` gives (the app's clock): an outage past its end is over.
    /// `now` is called only while an outage runs: every request asks, and nearly always none does.
    pub fn at(&self, now: impl FnOnce() -> OffsetDateTime) -> Class {
        let until = self.cut_until.load(Ordering::Relaxed);
        Class {
            cut_until: (until != 0 && now().unix_timestamp() < until)
                .then(|| OffsetDateTime::from_unix_timestamp(until).ok())
                .flatten(),
            shift: self.shift.load(Ordering::Relaxed),
        }
    }
}

/// The path `/teacher` and its actions live under, exempt from the class-wide switches.
const TEACHER: &str = "/teacher";

fn read(req: &Request<'_>) -> Lab {
    let own = read_own(req);
    let rocket = req.rocket();
    let path = req.uri().path();
    let exempt = path == TEACHER || path.starts_with("/teacher/");
    match (
        rocket.state::<Arc<ClassLabs>>(),
        rocket.state::<Arc<Clock>>(),
    ) {
        (Some(class), Some(clock)) if !exempt => Lab {
            class: class.at(|| clock.now()),
            ..own
        },
        _ => own,
    }
}

/// This browser's own labs, from its cookie.
fn read_own(req: &Request<'_>) -> Lab {
    let (Some(jar), Some(settings)) = (Jar::of(req), req.rocket().state::<Settings>()) else {
        return Lab::default();
    };
    if jar.value(Kind::Lab).is_none() {
        return Lab::default();
    }
    match jar.get::<Lab>() {
        // Sealed under other settings (a shorter absolute timeout now): kept within today's.
        Some(lab) => Lab {
            offset: lab.offset.clamp(0, settings.absolute_timeout),
            cut: lab.cut,
            class: Class::default(),
        },
        None => {
            rocket::info!("lab: ignoring a lab cookie that does not open");
            Lab::default()
        }
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for &'r Lab {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        Outcome::Success(Lab::of(req))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_only_moves_forward_and_within_its_bound() {
        let lab = Lab::default().advanced(60, 100);
        assert_eq!(lab.offset, 60);
        assert_eq!(lab.advanced(-30, 100).offset, 60);
        assert_eq!(lab.advanced(90, 100).offset, 100);
        assert_eq!(lab.advanced(i64::MAX, 100).offset, 100);
        let lab = lab.with_cut(true).clock_reset();
        assert_eq!((lab.offset, lab.cut), (0, true));
        let real = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        assert_eq!(
            Lab::default().advanced(5, 10).now(real),
            real + Duration::seconds(5)
        );
    }

    #[test]
    fn the_class_switches_add_to_the_browsers_own_and_are_never_sealed() {
        let real = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        let labs = ClassLabs::default();
        assert_eq!(labs.at(|| real), Class::default());
        labs.cut_until(real + Duration::seconds(60));
        labs.shift(100, 50);
        let lab = Lab {
            offset: 5,
            class: labs.at(|| real),
            ..Lab::default()
        };
        assert!(lab.is_cut() && lab.check().is_err());
        assert_eq!(lab.now(real), real + Duration::seconds(55));
        assert_eq!(
            serde_json::to_string(&lab).unwrap(),
            r#"{"offset":5,"cut":false}"#
        );
        assert_eq!(labs.at(|| real + Duration::seconds(60)).cut_until, None);
        labs.restore();
        labs.shift(-10, 50);
        assert_eq!(labs.at(|| real), Class::default());
    }

    #[test]
    fn only_a_cut_switch_refuses_the_database() {
        assert!(Lab::default().check().is_ok());
        assert!(matches!(
            Lab::default().with_cut(true).check(),
            Err(DbError::Unavailable(_))
        ));
    }
}
