//! The tests' side of Redis: each test's keys under a prefix of its own on the shared server
//! (never FLUSHALL: other tests, and other people, use it), read with a client of the test's own,
//! and deleted when the test ends.

use redis::aio::MultiplexedConnection;

/// The Redis server the tests use: `REDIS_URL`, else the app's default.
pub fn url() -> String {
    std::env::var("REDIS_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| session_lab::settings::DEFAULT_REDIS_URL.to_string())
}

/// The key prefix of the test whose database is at `db_url`: unique, as its database name is.
pub fn prefix_for(db_url: &str) -> String {
    let db = db_url.rsplit('/').next().unwrap_or(db_url);
    format!("session-lab-test:{db}:")
}

/// A connection of the test's own.
pub async fn connect() -> MultiplexedConnection {
    redis::Client::open(url())
        .expect("a Redis URL")
        .get_multiplexed_async_connection()
        .await
        .expect("Redis answers (start it: see FACTS / .ci/run)")
}

/// The keys under `prefix`, sorted.
pub async fn keys(prefix: &str) -> Vec<String> {
    let mut c = connect().await;
    let mut keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query_async(&mut c)
        .await
        .expect("KEYS");
    keys.sort();
    keys
}

/// Runs one command of the test's own.
pub async fn cmd<T: redis::FromRedisValue>(cmd: &redis::Cmd) -> T {
    let mut c = connect().await;
    cmd.query_async(&mut c).await.expect("a Redis command")
}

/// Deletes every key under `prefix`, from any context (a thread with its own runtime, as
/// `drop_database`); nothing happens when Redis is not running.
pub fn delete_keys(prefix: &str) {
    let pattern = format!("{prefix}*");
    let _ = std::thread::spawn(move || {
        let Ok(client) = redis::Client::open(url()) else {
            return;
        };
        let Ok(mut c) = client.get_connection_with_timeout(std::time::Duration::from_secs(1))
        else {
            return;
        };
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(&pattern)
            .query(&mut c)
            .unwrap_or_default();
        if !keys.is_empty() {
            let _: redis::RedisResult<()> = redis::cmd("DEL").arg(keys).query(&mut c);
        }
    })
    .join();
}
