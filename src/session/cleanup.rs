//! Sweeping what has expired from a store that keeps it until swept (server mode's `sessions`
//! rows; cookie mode's deny-list). Expired entries are never used (loads check their deadlines);
//! this only keeps them from piling up. A store that expires its own entries needs no task.

use std::sync::Arc;

use rocket::fairing::AdHoc;

use super::store::SessionStore;
use crate::clock::Clock;

/// A task that sweeps `store` every `interval` until the app shuts down.
pub fn task(
    store: Arc<dyn SessionStore>,
    clock: Arc<Clock>,
    interval: std::time::Duration,
) -> AdHoc {
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
                    match store.sweep(clock.now()).await {
                        Ok(0) => {}
                        Ok(n) => rocket::info!("session cleanup: removed {n} expired entries"),
                        Err(e) => rocket::warn!("session cleanup failed, will retry: {e}"),
                    }
                }
            });
        })
    })
}
