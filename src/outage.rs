//! The outage lab's switch: makes PostgreSQL unreachable for this process and back, so a student
//! can watch server mode answer 503 while cookie mode keeps serving what needs no `users` row.
//!
//! How: the pool itself refuses. While the switch is on, every new connection fails right after it
//! is opened (`after_connect`), every idle connection is closed when next handed out
//! (`before_acquire`), and every connection given back is closed (`after_release`). Anything that
//! asks the pool for a connection — the server store, the cleanup task, the `users` queries, the
//! `Connection` guard, `/healthz` — then sees what a stopped PostgreSQL gives it: sqlx retries the
//! refused connection until `connect_timeout` runs out and reports `PoolTimedOut`, which the app
//! answers with 503.
//!
//! Why not an in-process TCP relay like the tests' proxy: the relay would have to rewrite the
//! database URL's host and port, which breaks `sslmode=verify-full` (the certificate names the
//! real host) and Unix-socket URLs; the pool's hooks work for any URL and touch no network. What
//! it does not imitate: a statement already running when the switch flips finishes normally.
//!
//! The lab's own switch is compiled only into debug builds, and its route is mounted only in the
//! debug profile (like the inspector's fast-forward). The teacher's class-wide outage
//! ([`Outage::cut_class_for`]) exists in every build: it is a demonstration for the whole room, it
//! can only be started from `/teacher`, and it ends by itself, because while it lasts the teacher's
//! own page cannot reach the database either.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

use time::OffsetDateTime;

/// Whether the outage lab has cut the database. Shared by every clone of the pool, so with
/// `--mode both` one switch serves both apps.
#[derive(Debug, Default)]
pub struct Outage {
    cut: AtomicBool,
    /// The end of the teacher's class-wide outage, in Unix seconds of real time; 0 when none.
    class_until: AtomicI64,
}

impl Outage {
    /// Whether the database is cut off now.
    pub fn is_cut(&self) -> bool {
        self.cut.load(Ordering::SeqCst) || self.class_cut_until().is_some()
    }

    /// Cuts the database off for every browser for `seconds` of real time (the teacher's
    /// class-wide demonstration), replacing any class-wide outage already running.
    pub fn cut_class_for(&self, seconds: u64) {
        let until = OffsetDateTime::now_utc()
            .unix_timestamp()
            .saturating_add(i64::try_from(seconds).unwrap_or(i64::MAX));
        self.class_until.store(until, Ordering::SeqCst);
    }

    /// Ends the class-wide outage now.
    pub fn restore_class(&self) {
        self.class_until.store(0, Ordering::SeqCst);
    }

    /// When the class-wide outage ends, while one is running.
    pub fn class_cut_until(&self) -> Option<OffsetDateTime> {
        let until = self.class_until.load(Ordering::SeqCst);
        // Checked on every connection the pool hands out: no clock read while none runs.
        (until != 0 && OffsetDateTime::now_utc().unix_timestamp() < until)
            .then(|| OffsetDateTime::from_unix_timestamp(until).ok())
            .flatten()
    }

    /// Cuts the database off (`true`) or gives it back (`false`).
    #[cfg(debug_assertions)]
    pub fn set(&self, cut: bool) {
        self.cut.store(cut, Ordering::SeqCst);
    }
}

/// Adds the switch's hooks to the pool's options.
pub(crate) fn wire(
    options: sqlx::postgres::PgPoolOptions,
    outage: &std::sync::Arc<Outage>,
) -> sqlx::postgres::PgPoolOptions {
    let (on_connect, on_acquire, on_release) = (outage.clone(), outage.clone(), outage.clone());
    options
        .after_connect(move |_conn, _meta| {
            let cut = on_connect.is_cut();
            Box::pin(async move {
                if cut {
                    Err(refused())
                } else {
                    Ok(())
                }
            })
        })
        .before_acquire(move |_conn, _meta| {
            let cut = on_acquire.is_cut();
            Box::pin(async move {
                if cut {
                    Err(refused())
                } else {
                    Ok(true)
                }
            })
        })
        // `false` closes the connection instead of keeping it idle for later.
        .after_release(move |_conn, _meta| {
            let cut = on_release.is_cut();
            Box::pin(async move { Ok(!cut) })
        })
}

/// The error a refused TCP connection gives, which is what sqlx retries until its deadline.
fn refused() -> sqlx::Error {
    sqlx::Error::Io(std::io::Error::new(
        std::io::ErrorKind::ConnectionRefused,
        "the outage lab cut the database off",
    ))
}
