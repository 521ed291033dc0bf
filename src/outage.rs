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
//! The hooks and the switch are compiled only into debug builds, and its route is mounted only in
//! the debug profile (like the inspector's fast-forward): a release build cannot be cut.

use std::sync::atomic::{AtomicBool, Ordering};

/// Whether the outage lab has cut the database. Shared by every clone of the pool, so with
/// `--mode both` one switch serves both apps.
#[derive(Debug, Default)]
pub struct Outage {
    cut: AtomicBool,
}

impl Outage {
    /// Whether the database is cut off now.
    pub fn is_cut(&self) -> bool {
        self.cut.load(Ordering::SeqCst)
    }

    /// Cuts the database off (`true`) or gives it back (`false`).
    #[cfg(debug_assertions)]
    pub fn set(&self, cut: bool) {
        self.cut.store(cut, Ordering::SeqCst);
    }
}

/// Adds the switch's hooks to the pool's options (debug builds only).
#[cfg(debug_assertions)]
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
#[cfg(debug_assertions)]
fn refused() -> sqlx::Error {
    sqlx::Error::Io(std::io::Error::new(
        std::io::ErrorKind::ConnectionRefused,
        "the outage lab cut the database off",
    ))
}
