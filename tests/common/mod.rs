//! Test harness: a fresh PostgreSQL database per test, the real app built from a changed figment,
//! and a small `Browser` that keeps cookies the way a browser does (so tests can also steal,
//! replay and tamper with them).

#![allow(dead_code)]

pub mod capabilities;
pub mod proxy;
pub mod redis;
pub mod served;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use rocket::figment::Figment;
use rocket::http::{ContentType, Cookie, Header};
use rocket::local::asynchronous::Client;
use session_lab::clock::Clock;
use session_lab::settings::Mode;
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;

#[allow(unused_imports)]
pub use capabilities::*;
#[allow(unused_imports)]
pub use session_lab::settings::Mode::{
    Cookie as CookieMode, Redis as RedisMode, Server as ServerMode,
};

/// The server that holds the test databases; `TEST_DATABASE_URL` may point elsewhere.
pub fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// The URL of database `db` on the server of [`admin_url`].
pub fn url_for(db: &str) -> String {
    let admin = admin_url();
    let base = admin
        .rsplit_once('/')
        .map(|(b, _)| b.to_string())
        .unwrap_or(admin);
    format!("{base}/{db}")
}

/// A database name no other test uses (the app creates and migrates it at start).
pub fn fresh_db_name() -> String {
    let tag = session_lab::crypto::random_token(9)
        .to_lowercase()
        .replace(['-', '_'], "x");
    format!("session_lab_test_{tag}")
}

/// The app's settings for a test: its database, a short connect timeout, a fixed key, quiet logs,
/// and throttles out of the way: every test drives the app from one address, many logging in
/// again and again. The hardening tests set small limits of their own.
pub fn test_figment(mode: Mode, db_url: &str) -> Figment {
    let mut figment = session_lab::figment()
        .merge(("databases.session_lab.url", db_url))
        .merge(("databases.session_lab.connect_timeout", 2))
        .merge(("secret_key", SECRET.to_vec()))
        .merge(("session_mode", mode.as_str()))
        // Each test's keys under a prefix of its own on the shared Redis (never a flush).
        .merge(("redis_prefix", redis::prefix_for(db_url)))
        .merge(("log_level", "off"))
        // As behind the reverse proxy in deploy/: the limit tests speak for several addresses.
        .merge(("ip_header", "X-Real-IP"))
        .merge(("login_delay_ms", 0))
        .merge(("hash_queue", 100_000));
    for burst in [
        "login_name_burst",
        "login_address_burst",
        "signup_address_burst",
        "signup_device_burst",
        "new_session_address_burst",
        "session_write_burst",
        "learner_address_burst",
        "login_device_burst",
    ] {
        figment = figment.merge((burst, 1_000_000));
    }
    figment
}

/// A login from `ip` (as the reverse proxy in deploy/ says it in `X-Real-IP`, the `ip_header`
/// the tests set), with this browser's CSRF token.
pub async fn login_from(b: &Browser<'_>, name: &str, pw: &str, ip: &str) -> Res {
    let token = b.csrf_token().await;
    b.post_raw(
        "/login",
        &[("csrf_token", &token), ("username", name), ("password", pw)],
        &[("X-Real-IP", ip)],
    )
    .await
}

/// Signs up through the form (which also logs in).
pub async fn signup(b: &Browser<'_>, name: &str, pw: &str) -> Res {
    b.post("/signup", &[("username", name), ("password", pw)])
        .await
}

/// Logs in through the form.
pub async fn login(b: &Browser<'_>, name: &str, pw: &str) -> Res {
    b.post("/login", &[("username", name), ("password", pw)])
        .await
}

pub const SECRET: [u8; 64] = [7u8; 64];

/// One app on its own database, dropped when the test ends (pass or fail).
pub struct TestApp {
    pub client: Client,
    pub mode: Mode,
    pub db_name: String,
    pub db_url: String,
    pub pool: PgPool,
}

impl TestApp {
    pub async fn spawn(mode: Mode) -> TestApp {
        Self::spawn_with(mode, |f| f).await
    }

    /// Spawns the app with extra settings merged over the test defaults.
    pub async fn spawn_with(mode: Mode, tweak: impl FnOnce(Figment) -> Figment) -> TestApp {
        let db_name = fresh_db_name();
        let db_url = url_for(&db_name);
        Self::spawn_on(mode, &db_name, &db_url, tweak).await
    }

    /// As [`TestApp::spawn_with`], on a clock that stands still until the test moves it
    /// (`app.clock().advance(..)`): a throttle's bucket refills, a device lockout ends and a
    /// session ages only then, however long the hashes in between take on a loaded machine.
    pub async fn spawn_with_manual_clock(
        mode: Mode,
        tweak: impl FnOnce(Figment) -> Figment,
    ) -> TestApp {
        let db_name = fresh_db_name();
        let db_url = url_for(&db_name);
        Self::spawn_on_manual_clock(mode, &db_name, &db_url, tweak).await
    }

    /// Another instance on the same database as `self` (same key): the way the app scales out.
    /// The app reaching its own fresh database through `proxy`.
    pub async fn spawn_behind(
        mode: Mode,
        proxy: &proxy::Proxy,
        tweak: impl FnOnce(Figment) -> Figment,
    ) -> TestApp {
        let db_name = fresh_db_name();
        let app_url = proxy.url(&db_name);
        let mut app = Self::spawn_on(mode, &db_name, &app_url, tweak).await;
        // The test's own pool goes around the proxy, so cutting it does not blind the test.
        app.db_url = url_for(&db_name);
        app.pool = PgPoolOptions::new()
            .max_connections(2)
            .connect(&app.db_url)
            .await
            .expect("test pool");
        app
    }

    pub async fn spawn_on(
        mode: Mode,
        db_name: &str,
        db_url: &str,
        tweak: impl FnOnce(Figment) -> Figment,
    ) -> TestApp {
        Self::spawn_on_clock(mode, db_name, db_url, None, tweak).await
    }

    /// As [`TestApp::spawn_on`], on a clock that moves only when the test moves it (see
    /// [`TestApp::spawn_with_manual_clock`]).
    pub async fn spawn_on_manual_clock(
        mode: Mode,
        db_name: &str,
        db_url: &str,
        tweak: impl FnOnce(Figment) -> Figment,
    ) -> TestApp {
        let clock = Arc::new(Clock::manual());
        Self::spawn_on_clock(mode, db_name, db_url, Some(clock), tweak).await
    }

    /// As [`TestApp::spawn_on`], on `clock` when one is given (the app makes its own otherwise):
    /// two instances on one manual clock agree on the time, as a fleet's synchronised clocks do.
    pub async fn spawn_on_clock(
        mode: Mode,
        db_name: &str,
        db_url: &str,
        clock: Option<Arc<Clock>>,
        tweak: impl FnOnce(Figment) -> Figment,
    ) -> TestApp {
        let figment = tweak(test_figment(mode, db_url));
        let mut rocket = session_lab::build(figment);
        // Managed before ignite, the clock is the one every stage finds (see `clock::stage`).
        if let Some(clock) = clock {
            rocket = rocket.manage(clock);
        }
        let client = Client::untracked(rocket).await.expect("the app launches");
        let pool = PgPoolOptions::new()
            .max_connections(2)
            .connect(db_url)
            .await
            .expect("test pool");
        TestApp {
            client,
            mode,
            db_name: db_name.to_string(),
            db_url: db_url.to_string(),
            pool,
        }
    }

    pub fn clock(&self) -> &Clock {
        self.client
            .rocket()
            .state::<Arc<Clock>>()
            .expect("clock managed")
    }

    pub fn browser(&self) -> Browser<'_> {
        Browser {
            app: self,
            jar: Mutex::new(BTreeMap::new()),
            csrf: Mutex::new(None),
            user_agent: "TestBrowser/1.0".into(),
        }
    }

    /// Runs a test's own counting query (the tests write them; nothing comes from outside).
    pub async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string()))
            .fetch_one(&self.pool)
            .await
            .expect("count query")
    }

    pub async fn session_rows(&self) -> i64 {
        self.count("SELECT count(*) FROM sessions").await
    }

    /// The app's cookie names as it sends them (`__Host-` prefixed when cookies are Secure).
    pub fn cookie_names(&self) -> (&'static str, &'static str) {
        self.client
            .rocket()
            .state::<session_lab::cookies::CookieConfig>()
            .map(|c| {
                use session_lab::cookies::Kind;
                (c.name(Kind::Session(c.mode)), c.name(Kind::Csrf(c.mode)))
            })
            .expect("cookie configuration managed")
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        drop_database(&self.db_name);
        redis::delete_keys(&redis::prefix_for(&self.db_url));
    }
}

/// Drops a test's database, from any context: a thread with its own runtime does it, so this
/// works in `Drop` (outside async context) as well as inside a runtime.
pub fn drop_database(name: &str) {
    let name = name.to_string();
    let _ = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            if let Ok(pool) = PgPoolOptions::new()
                .max_connections(1)
                .connect(&admin_url())
                .await
            {
                let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                )))
                .execute(&pool)
                .await;
            }
        })
    })
    .join();
}

/// What a browser would see of a response.
#[derive(Debug)]
pub struct Res {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Res {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn set_cookies(&self) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("set-cookie"))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The `Set-Cookie` line for `name`, if the response sent one.
    pub fn set_cookie(&self, name: &str) -> Option<&str> {
        self.set_cookies()
            .into_iter()
            .find(|c| c.starts_with(&format!("{name}=")))
    }

    pub fn location(&self) -> Option<&str> {
        self.header("Location")
    }

    pub fn trace(&self) -> &str {
        self.header("Session-Trace").unwrap_or("")
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).expect("a JSON body")
    }
}

/// A cookie jar with a browser's rules: `Set-Cookie` replaces, `Max-Age=0` deletes.
pub struct Browser<'a> {
    pub app: &'a TestApp,
    /// name -> value as sent in `Set-Cookie` (percent-encoded).
    jar: Mutex<BTreeMap<String, String>>,
    csrf: Mutex<Option<String>>,
    pub user_agent: String,
}

impl<'a> Browser<'a> {
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.jar.lock().unwrap().get(name).cloned()
    }

    pub fn set_cookie(&self, name: &str, encoded_value: &str) {
        self.jar
            .lock()
            .unwrap()
            .insert(name.to_string(), encoded_value.to_string());
    }

    pub fn delete_cookie(&self, name: &str) {
        self.jar.lock().unwrap().remove(name);
    }

    pub fn cookies(&self) -> BTreeMap<String, String> {
        self.jar.lock().unwrap().clone()
    }

    /// The session cookie of the app's mode.
    pub fn session_cookie(&self) -> Option<String> {
        self.cookie(self.app.cookie_names().0)
    }

    pub fn set_session_cookie(&self, value: &str) {
        self.set_cookie(self.app.cookie_names().0, value)
    }

    pub async fn get(&self, path: &str) -> Res {
        self.send(rocket::http::Method::Get, path, None, &[]).await
    }

    /// GET with extra headers.
    pub async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Res {
        self.send(rocket::http::Method::Get, path, None, headers)
            .await
    }

    /// A form POST carrying this browser's CSRF token (fetched from a page first if needed).
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Res {
        let token = self.csrf_token().await;
        let mut all: Vec<(&str, &str)> = vec![("csrf_token", token.as_str())];
        all.extend_from_slice(fields);
        self.post_raw(path, &all, &[]).await
    }

    /// A form POST exactly as given: no token added.
    pub async fn post_raw(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> Res {
        let body = fields
            .iter()
            .map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v)))
            .collect::<Vec<_>>()
            .join("&");
        self.send(rocket::http::Method::Post, path, Some(body), headers)
            .await
    }

    /// The token the last page showed, or one from a fresh page.
    pub async fn csrf_token(&self) -> String {
        if let Some(t) = self.csrf.lock().unwrap().clone() {
            return t;
        }
        self.get("/color").await;
        self.csrf
            .lock()
            .unwrap()
            .clone()
            .expect("a page with a csrf_token field")
    }

    pub fn forget_csrf(&self) {
        *self.csrf.lock().unwrap() = None;
    }

    async fn send(
        &self,
        method: rocket::http::Method,
        path: &str,
        body: Option<String>,
        headers: &[(&str, &str)],
    ) -> Res {
        let client = &self.app.client;
        let mut req = client.req(method, path.to_string());
        let jar = self.cookies();
        if !jar.is_empty() {
            // Both as a header (what the inspector reads) and into Rocket's jar (what the app reads):
            // the local client does not parse a `Cookie` header itself.
            let header = jar
                .iter()
                .map(|(n, v)| format!("{n}={v}"))
                .collect::<Vec<_>>()
                .join("; ");
            req = req.header(Header::new("Cookie", header));
            for (n, v) in &jar {
                if let Ok(c) = Cookie::parse_encoded(format!("{n}={v}")) {
                    req = req.cookie(Cookie::new(n.clone(), c.value().to_string()));
                }
            }
        }
        req = req.header(Header::new("User-Agent", self.user_agent.clone()));
        for (n, v) in headers {
            req = req.header(Header::new(n.to_string(), v.to_string()));
        }
        if let Some(body) = body {
            req = req.header(ContentType::Form).body(body);
        }
        let res = req.dispatch().await;
        let status = res.status().code;
        let headers: Vec<(String, String)> = res
            .headers()
            .iter()
            .map(|h| (h.name().to_string(), h.value().to_string()))
            .collect();
        let body = res.into_string().await.unwrap_or_default();
        let out = Res {
            status,
            headers,
            body,
        };
        // The "what just happened" cookie must never dwarf the session cookie it reports on:
        // checked on every response of every flow in the suite.
        for line in out.set_cookies() {
            let pair = line.split(';').next().unwrap_or("");
            let name = pair.split('=').next().unwrap_or("");
            if name.trim_start_matches("__Host-").starts_with("report_") {
                assert!(
                    pair.len() - 1 <= 200,
                    "{method} {path}: a report cookie of {} bytes (name + value): {line}",
                    pair.len() - 1
                );
            }
        }
        check_wire(&format!("{method} {path}"), &out);
        self.absorb(&out);
        out
    }

    fn absorb(&self, res: &Res) {
        let mut jar = self.jar.lock().unwrap();
        for line in res.set_cookies() {
            let Ok(c) = Cookie::parse_encoded(line.to_string()) else {
                continue;
            };
            let (name, raw_value) = line
                .split(';')
                .next()
                .unwrap_or("")
                .split_once('=')
                .unwrap_or(("", ""));
            let expired = c.max_age().is_some_and(|m| m.is_zero() || m.is_negative());
            if expired {
                jar.remove(name);
            } else {
                jar.insert(name.to_string(), raw_value.to_string());
            }
        }
        // A page shows the current token; a new CSRF cookie without a page (a redirect after
        // login or logout) makes the cached token stale, as a browser would find on its next page.
        match extract_csrf(&res.body) {
            Some(token) => *self.csrf.lock().unwrap() = Some(token),
            None if res.set_cookie(self.app.cookie_names().1).is_some() => {
                *self.csrf.lock().unwrap() = None
            }
            None => {}
        }
    }
}

/// Every page's footer says what crossed the wire for its own request ("On the wire"). Checked on
/// every response of every test: the `Set-Cookie` lines it lists are exactly the response's, name
/// and attributes, in number — the page can never say less, or other, than what was sent.
pub fn check_wire(request: &str, res: &Res) {
    let Some(start) = res.body.rfind("<div class=\"this-page\">") else {
        return;
    };
    let footer = &res.body[start..];
    let footer = &footer[..footer.find("</footer>").unwrap_or(footer.len())];
    if !footer.contains("On the wire:") {
        return;
    }
    let unescape = |t: &str| {
        t.replace("&#x2F;", "/")
            .replace("&quot;", "\"")
            .replace("&#x27;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&")
    };
    // (name, attributes) of each line the page lists, and of each header sent.
    let mut shown: Vec<(String, String)> = footer
        .split("<li data-set-cookie=\"")
        .skip(1)
        .map(|li| {
            let name = li.split('"').next().unwrap_or("").to_string();
            let line = li
                .split("<code>Set-Cookie: ")
                .nth(1)
                .and_then(|l| l.split("</code>").next())
                .map(unescape)
                .unwrap_or_default();
            let attributes = line.split_once(';').map_or("", |(_, a)| a).to_string();
            (name, attributes)
        })
        .collect();
    let mut sent: Vec<(String, String)> = res
        .set_cookies()
        .iter()
        .map(|line| {
            let (pair, attributes) = line.split_once(';').unwrap_or((line, ""));
            let name = pair.split('=').next().unwrap_or("").to_string();
            (name, attributes.to_string())
        })
        .collect();
    shown.sort();
    sent.sort();
    assert_eq!(
        shown, sent,
        "{request}: the page's \"On the wire\" lists other Set-Cookie lines than the response sent"
    );
    let said = match sent.len() {
        0 => "sent no <code>Set-Cookie</code> line".to_string(),
        1 => "sent 1 <code>Set-Cookie</code> line:".to_string(),
        n => format!("sent {n} <code>Set-Cookie</code> lines:"),
    };
    assert!(
        footer.contains(&said),
        "{request}: the footer does not say \"{said}\""
    );
    assert!(
        footer.contains(&format!("status {} ", res.status)),
        "{request}: the footer names another status than {}",
        res.status
    );
}

pub fn extract_csrf(html: &str) -> Option<String> {
    let marker = "name=\"csrf_token\" value=\"";
    let start = html.find(marker)? + marker.len();
    let end = html[start..].find('"')?;
    Some(html[start..start + end].to_string())
}

pub fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A directory of its own under the system's temp dir, removed when dropped. The debug profile
/// keeps its key in a file (`debug_key_file`); a test that runs it without a key keeps that file
/// here, never in the developer's `target/session-lab-debug.key`.
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    pub fn fresh() -> TempDir {
        let tag = session_lab::crypto::random_token(9);
        let dir = std::env::temp_dir().join(format!("session-lab-test-{tag}"));
        std::fs::create_dir_all(&dir).expect("a temp dir");
        TempDir(dir)
    }

    /// Where this test's debug key file goes (made by the app at its first start).
    pub fn key_file(&self) -> std::path::PathBuf {
        self.0.join("debug.key")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs each listed `async fn(Mode)` in every mode, as `server::NAME`, `cookie::NAME` and
/// `redis::NAME` (Redis at `REDIS_URL`, else 127.0.0.1:6379).
#[macro_export]
macro_rules! all_modes {
    ($($name:ident),* $(,)?) => {
        $crate::both_modes!($($name),*);
        mod redis {
            $( #[rocket::async_test] async fn $name() { super::$name(session_lab::settings::Mode::Redis).await } )*
        }
    };
}

/// Runs each listed `async fn(Mode)` once per mode, as `server::NAME` and `cookie::NAME`.
#[macro_export]
macro_rules! both_modes {
    ($($name:ident),* $(,)?) => {
        mod server {
            $( #[rocket::async_test] async fn $name() { super::$name(session_lab::settings::Mode::Server).await } )*
        }
        mod cookie {
            $( #[rocket::async_test] async fn $name() { super::$name(session_lab::settings::Mode::Cookie).await } )*
        }
    };
}
