//! Deleting what has expired: server mode's `sessions` rows and, with cookie mode's deny-list,
//! `revoked_sessions` entries. Expired entries are never used (loads check their deadlines); this
//! only keeps them from piling up.

use std::sync::Arc;

use rocket::fairing::AdHoc;
use sqlx::PgPool;
use time::OffsetDateTime;

use crate::clock::Clock;

/// Rows per statement, so no statement holds its locks for long.
pub const BATCH: i64 = 1000;

/// A table the cleanup sweeps.
#[derive(Debug, Clone, Copy)]
pub enum Sweep {
    /// Server mode's sessions past their deadline.
    Sessions,
    /// Cookie mode's deny-list entries past the last moment a copy could have been valid.
    RevokedSessions,
}

impl Sweep {
    /// `SKIP LOCKED` lets two instances clean at once without waiting on each other.
    fn sql(self) -> &'static str {
        match self {
            Sweep::Sessions => {
                "DELETE FROM sessions WHERE id IN (SELECT id FROM sessions \
                 WHERE expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)"
            }
            Sweep::RevokedSessions => {
                "DELETE FROM revoked_sessions WHERE id IN (SELECT id FROM revoked_sessions \
                 WHERE expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)"
            }
        }
    }

    fn what(self) -> &'static str {
        match self {
            Sweep::Sessions => "expired sessions",
            Sweep::RevokedSessions => "expired deny-list entries",
        }
    }
}

/// Deletes what `sweep` names that expired by `now`, `batch` rows per statement, and returns how
/// many went.
///
/// # Errors
/// The database's error; rows already deleted stay deleted.
pub async fn delete_expired(
    pool: &PgPool,
    sweep: Sweep,
    now: OffsetDateTime,
    batch: i64,
) -> Result<u64, sqlx::Error> {
    let mut total = 0;
    loop {
        let deleted = sqlx::query(sweep.sql())
            .bind(now)
            .bind(batch)
            .execute(pool)
            .await?
            .rows_affected();
        total += deleted;
        if deleted < batch.unsigned_abs() {
            return Ok(total);
        }
    }
}

/// A task that sweeps every `interval` until the app shuts down.
pub fn task(sweep: Sweep, pool: PgPool, clock: Arc<Clock>, interval: std::time::Duration) -> AdHoc {
    AdHoc::on_liftoff("Session cleanup", move |rocket| {
        let mut shutdown = rocket.shutdown();
        Box::pin(async move {
            rocket::tokio::spawn(async move {
                let mut ticks = rocket::tokio::time::interval(interval);
                ticks.tick().await;
                loop {
                    rocket::tokio::select! {
                        _ = ticks.tick() => {}
                        _ = &mut shutdown => return,
                    }
                    match delete_expired(&pool, sweep, clock.now(), BATCH).await {
                        Ok(0) => {}
                        Ok(n) => rocket::info!("session cleanup: removed {n} {}", sweep.what()),
                        Err(e) => rocket::warn!("session cleanup failed, will retry: {e}"),
                    }
                }
            });
        })
    })
}
