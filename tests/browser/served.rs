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
    /// Launches the app in `mode` (debug profile: cookies work over plain http) on a
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

impl ServedApp {
    /// Makes `name` a teacher, as `create-user --teacher` would have (the signup form cannot).
    pub async fn make_teacher(&self, name: &str) -> Result<(), String> {
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .connect(&common::url_for(&self.db_name))
            .await
            .map_err(|e| format!("the test database: {e}"))?;
        sqlx::query("UPDATE users SET is_teacher = true WHERE username = $1")
            .bind(name)
            .execute(&pool)
            .await
            .map_err(|e| format!("making {name} a teacher: {e}"))?;
        pool.close().await;
        Ok(())
    }
}

impl Drop for ServedApp {
    fn drop(&mut self) {
        self.shutdown.clone().notify();
        common::drop_database(&self.db_name);
    }
}

/// `--mode both` as the binary runs it: [`session_lab::build_both`] on one figment, server mode
/// on a port and cookie mode on the next, both ignited before either launches, one database
/// (`--mode all`: [`session_lab::build_all`], and redis mode on the port after those).
pub struct ServedBoth {
    /// `http://127.0.0.1:PORT` of the server-mode app.
    pub server: String,
    /// `http://127.0.0.1:PORT+1` of the cookie-mode app.
    pub cookie: String,
    /// `--mode all` only: `http://127.0.0.1:PORT+2` of the redis-mode app.
    pub redis: Option<String>,
    db_name: String,
    /// `--mode all`: the Redis key prefix its sessions are filed under, cleared at the end.
    redis_prefix: Option<String>,
    shutdowns: Vec<Shutdown>,
}

impl ServedBoth {
    pub async fn start() -> Result<ServedBoth, String> {
        Self::start_side_by_side(false).await
    }

    /// `--mode all`: redis mode too, on the port after cookie mode's.
    pub async fn start_all() -> Result<ServedBoth, String> {
        Self::start_side_by_side(true).await
    }

    async fn start_side_by_side(all: bool) -> Result<ServedBoth, String> {
        let db_name = common::fresh_db_name();
        let port = free_ports(if all { 3 } else { 2 });
        let db_url = common::url_for(&db_name);
        let figment = common::test_figment(Mode::Server, &db_url)
            .merge(("address", "127.0.0.1"))
            .merge(("port", port))
            .merge(("shutdown.ctrlc", false));
        let mut served = ServedBoth {
            server: format!("http://127.0.0.1:{port}"),
            cookie: format!("http://127.0.0.1:{}", port + 1),
            redis: all.then(|| format!("http://127.0.0.1:{}", port + 2)),
            db_name,
            redis_prefix: None,
            shutdowns: Vec::new(),
        };
        // From here on, dropping `served` drops the database and stops what was launched.
        let apps = if all {
            session_lab::build_all(figment)?
        } else {
            session_lab::build_both(figment)?
        };
        let mut ignited = Vec::new();
        for (mode, app) in apps.apps() {
            let app = app
                .ignite()
                .await
                .map_err(|e| format!("{mode} mode did not ignite: {e}"))?;
            served.shutdowns.push(app.shutdown());
            ignited.push(app);
        }
        let count = ignited.len() as u16;
        for app in ignited {
            tokio::spawn(app.launch());
        }
        for p in port..port + count {
            wait_for_port(p, "an app of --mode both or all", Duration::from_secs(20)).await?;
        }
        if all {
            // Its keys, under the test's prefix, go when the test ends.
            served.redis_prefix = Some(common::redis::prefix_for(&db_url));
        }
        Ok(served)
    }
}

impl Drop for ServedBoth {
    fn drop(&mut self) {
        for s in &self.shutdowns {
            s.clone().notify();
        }
        common::drop_database(&self.db_name);
        if let Some(prefix) = &self.redis_prefix {
            common::redis::delete_keys(prefix);
        }
    }
}

/// A port `p` with the `n - 1` after it free as well, as `--mode both` (2) and `all` (3) need.
fn free_ports(n: u16) -> u16 {
    for _ in 0..100 {
        let first = std::net::TcpListener::bind("127.0.0.1:0").expect("a free loopback port");
        let p = first.local_addr().expect("its address").port();
        if p <= u16::MAX - n
            && (1..n).all(|i| std::net::TcpListener::bind(("127.0.0.1", p + i)).is_ok())
        {
            return p;
        }
    }
    panic!("no {n} consecutive free loopback ports in 100 tries");
}
