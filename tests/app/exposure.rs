//! What the app gives away without meaning to: secrets in its debug log, the wrong one of two
//! duplicate cookies on the inspector, and counts in the numbers it shows (session handles, user
//! ids). The log and the duplicate cookies are checked on the real binary over a real socket.

use std::collections::BTreeMap;

use crate::common::served::Served;
use crate::common::*;
use session_lab::settings::Mode;

/// A browser for the real server: a cookie jar, the last CSRF token, and the form fields sent.
struct WireBrowser<'a> {
    served: &'a Served,
    jar: BTreeMap<String, String>,
    token: Option<String>,
    /// Every token and cookie value this browser saw, for the log check.
    seen: Vec<String>,
}

impl<'a> WireBrowser<'a> {
    fn new(served: &'a Served) -> Self {
        WireBrowser {
            served,
            jar: BTreeMap::new(),
            token: None,
            seen: Vec::new(),
        }
    }

    async fn send(&mut self, method: &str, path: &str, fields: &[(&str, &str)]) -> Res {
        let cookie = self
            .jar
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let origin = self.served.origin();
        let mut headers = vec![("Origin", origin.as_str())];
        if !cookie.is_empty() {
            headers.push(("Cookie", cookie.as_str()));
        }
        let body = (method == "POST").then(|| {
            let mut all = vec![("csrf_token", self.token.clone().unwrap_or_default())];
            all.extend(fields.iter().map(|(n, v)| (*n, v.to_string())));
            all.iter()
                .map(|(n, v)| format!("{}={}", urlencode(n), urlencode(v)))
                .collect::<Vec<_>>()
                .join("&")
        });
        let res = self
            .served
            .request(method, path, &headers, body.as_deref())
            .await;
        for line in res.set_cookies() {
            let pair = line.split(';').next().unwrap_or("");
            if let Some((name, value)) = pair.split_once('=') {
                if value.is_empty() {
                    self.jar.remove(name);
                } else {
                    self.jar.insert(name.to_string(), value.to_string());
                    self.seen.push(value.to_string());
                }
            }
        }
        if let Some(token) = extract_csrf(&res.body) {
            self.seen.push(token.clone());
            self.token = Some(token);
        }
        res
    }

    async fn get(&mut self, path: &str) -> Res {
        self.send("GET", path, &[]).await
    }

    /// A form POST after a GET of `page` for a fresh token.
    async fn post(&mut self, page: &str, path: &str, fields: &[(&str, &str)]) -> Res {
        self.get(page).await;
        self.send("POST", path, fields).await
    }
}

/// `%2F` → `/` and so on: a cookie value as the app decodes it.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match (
            bytes[i],
            s.get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok()),
        ) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

async fn debug_logs_hold_no_password_token_or_cookie(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let served = Served::start(mode, &app.db_url, "debug").await;
    const PASSWORD: &str = "Log-Free Password 8f3k";
    const WRONG: &str = "Wrong Password zq91x";
    let mut b = WireBrowser::new(&served);
    let res = b
        .post(
            "/signup",
            "/signup",
            &[("username", "logcheck"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(res.status, 303, "signup: {}", res.body);
    assert_eq!(
        b.post("/color", "/color", &[("color", "teal")])
            .await
            .status,
        303
    );
    assert_eq!(b.post("/color", "/logout", &[]).await.status, 303);
    let res = b
        .post(
            "/login",
            "/login",
            &[("username", "logcheck"), ("password", WRONG)],
        )
        .await;
    assert_eq!(res.status, 401);
    let res = b
        .post(
            "/login",
            "/login",
            &[("username", "logcheck"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(res.status, 303, "login: {}", res.body);
    assert_eq!(b.get("/account").await.status, 200);
    assert_eq!(b.get("/session").await.status, 200);
    let (session_name, _) = app.cookie_names();
    let session = b.jar.get(session_name).cloned().expect("a session cookie");
    let seen = std::mem::take(&mut b.seen);
    drop(b);
    let log = served.stop();

    // The log is a debug log that saw these requests: otherwise the check below proves nothing.
    assert!(
        log.contains("parameter source"),
        "not at the debug level:\n{log}"
    );
    assert!(
        log.contains("POST /login"),
        "the requests are not in the log:\n{log}"
    );
    let mut secrets = vec![PASSWORD.to_string(), WRONG.to_string(), urlencode(PASSWORD)];
    secrets.push(session.clone());
    for value in &seen {
        secrets.push(value.clone());
        secrets.push(percent_decode(value));
        // A part of it is as bad: 24 characters are more than any coincidence.
        secrets.push(percent_decode(value).chars().take(24).collect());
    }
    for secret in secrets.iter().filter(|s| s.len() >= 12) {
        assert!(
            !log.contains(secret.as_str()),
            "the log holds {secret:?}:\n{log}"
        );
    }
    // Nor the session map, unless session_log_map asks for it.
    assert!(!log.contains("session map"), "{log}");
}

/// Stores `color` through the real server and returns the session cookie's value as sent.
async fn cookie_with_color(served: &Served, name: &str, color: &str) -> String {
    let mut b = WireBrowser::new(served);
    assert_eq!(
        b.post("/color", "/color", &[("color", color)]).await.status,
        303
    );
    b.jar.get(name).cloned().expect("a session cookie")
}

async fn with_two_session_cookies_the_inspector_shows_the_one_the_layer_used(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let served = Served::start(mode, &app.db_url, "critical").await;
    let name = mode.cookie_name();
    let red = cookie_with_color(&served, name, "red").await;
    let blue = cookie_with_color(&served, name, "blue").await;
    // A browser sends both when one came with Path=/ and another with a longer path or a
    // Domain; the order is the browser's. Whichever the layer opened, the inspector shows.
    for (first, second, color) in [(&red, &blue, "blue"), (&blue, &red, "red")] {
        let header = format!("{name}={first}; {name}={second}");
        let res = served
            .request("GET", "/session.json", &[("Cookie", header.as_str())], None)
            .await;
        assert_eq!(res.status, 200);
        let json = res.json();
        assert_eq!(json["data"]["color"], color, "{header}");
        let used = if color == "blue" { &blue } else { &red };
        assert_eq!(json["cookie"]["value"], used.as_str(), "{header}");
        assert_eq!(json["cookie"]["bytes"], name.len() + used.len(), "{header}");
    }
}

/// No two numbers closer than a million apart: sequential ids (or a few apart) fail this, random
/// 53-bit ones pass it but for a chance of about 10⁻⁸.
fn assert_spread(numbers: &[i64], what: &str) {
    let mut sorted = numbers.to_vec();
    sorted.sort_unstable();
    for pair in sorted.windows(2) {
        assert!(
            pair[1] - pair[0] > 1_000_000,
            "{what} look sequential: {sorted:?}"
        );
    }
    assert!(
        sorted.iter().all(|n| (0..1 << 53).contains(n)),
        "{what}: {sorted:?}"
    );
}

#[rocket::async_test]
async fn session_handles_are_random_and_still_end_their_session() {
    let app = TestApp::spawn(ServerMode).await;
    let first = app.browser();
    assert_eq!(signup(&first, "handles", PW).await.status, 303);
    let others: Vec<Browser<'_>> = (0..4).map(|_| app.browser()).collect();
    for b in &others {
        assert_eq!(login(b, "handles", PW).await.status, 303);
    }
    let handles: Vec<i64> = sqlx::query_scalar("SELECT handle FROM sessions")
        .fetch_all(&app.pool)
        .await
        .expect("handles");
    assert_eq!(handles.len(), 5);
    assert_spread(&handles, "session handles");
    // The page's "sign out there" forms carry them, and one still ends its session.
    let page = first.get("/account/sessions").await;
    for h in &handles {
        assert!(
            page.body.contains(&format!("value=\"{h}\"")),
            "{h} not on the page"
        );
    }
    let victim: i64 =
        sqlx::query_scalar("SELECT handle FROM sessions WHERE user_agent IS NOT NULL LIMIT 1")
            .fetch_one(&app.pool)
            .await
            .expect("a handle");
    let res = first
        .post("/account/sessions/end", &[("handle", &victim.to_string())])
        .await;
    assert_eq!(res.status, 303);
    assert_eq!(app.session_rows().await, 4);
}

async fn user_ids_are_random(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let mut ids = Vec::new();
    for name in ["ida", "idb", "idc", "idd"] {
        let b = app.browser();
        assert_eq!(signup(&b, name, PW).await.status, 303);
        let id: i64 = sqlx::query_scalar("SELECT id FROM users WHERE username = $1")
            .bind(name)
            .fetch_one(&app.pool)
            .await
            .expect("the user");
        // /account shows the id, and it is the random one.
        let page = b.get("/account").await;
        assert!(
            page.body.contains(&format!("<td>{id}</td>")),
            "{}",
            page.body
        );
        ids.push(id);
    }
    assert_spread(&ids, "user ids");
}

const PW: &str = "correct horse battery";

both_modes!(
    debug_logs_hold_no_password_token_or_cookie,
    with_two_session_cookies_the_inspector_shows_the_one_the_layer_used,
    user_ids_are_random,
);
