//! The app listening on a real loopback port, with its own fresh database: a browser needs a
//! socket, which Rocket's local client does not open.

use std::time::Duration;

use rocket::Shutdown;
use session_lab::settings::Mode;

use crate::chrome::{free_port, wait_for_port};
use crate::common;

/// One app on `http://127.0.0.1:PORT`, stopped and its database dropped when it goes.
pub struct ServedApp {
    pub base: String,
    pub mode: Mode,
    db_name: String,
    shutdown: Shutdown,
}

impl ServedApp {
    /// Launches the app in `mode` (debug profile, so the inspector's fast-forward is there) on a
    /// free port, in a task of the current runtime, and waits until it accepts connections.
    pub async fn start(mode: Mode) -> Result<ServedApp, String> {
        let db_name = common::fresh_db_name();
        let port = free_port();
        let figment = common::test_figment(mode, &common::url_for(&db_name))
            .merge(("address", "127.0.0.1"))
            .merge(("port", port))
            // One app of many in this process: Ctrl-C is the test runner's to handle.
            .merge(("shutdown.ctrlc", false));
        let rocket = match session_lab::build(figment).ignite().await {
            Ok(r) => r,
            Err(e) => {
                common::drop_database(&db_name);
                return Err(format!("the app did not ignite: {e}"));
            }
        };
        let shutdown = rocket.shutdown();
        let app = ServedApp {
            base: format!("http://127.0.0.1:{port}"),
            mode,
            db_name,
            shutdown,
        };
        tokio::spawn(rocket.launch());
        wait_for_port(port, "the app", Duration::from_secs(20)).await?;
        Ok(app)
    }
}

impl Drop for ServedApp {
    fn drop(&mut self) {
        self.shutdown.clone().notify();
        common::drop_database(&self.db_name);
    }
}
