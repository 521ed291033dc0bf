//! Property tests: random bytes, mutations of valid cookies, oversized and duplicated `Cookie`
//! headers, thrown at the app in both modes. Whatever comes in: never a 5xx, never a panic
//! (Rocket turns a handler's panic into a 500, so "no 5xx" covers both). The POST cases carry a
//! valid CSRF pair, so they reach the session layer instead of stopping at the CSRF check.

use crate::common::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use rocket::http::{Cookie, Header};
use session_lab::settings::Mode;

/// What to do to a valid cookie value.
#[derive(Debug, Clone)]
enum Mutation {
    Flip { at: usize, bit: u8 },
    Truncate(usize),
    Append(String),
    Replace(String),
    Duplicate(String),
    Oversize(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 0u8..8).prop_map(|(at, bit)| Mutation::Flip { at, bit }),
        any::<usize>().prop_map(Mutation::Truncate),
        "[ -~]{0,40}".prop_map(Mutation::Append),
        any::<String>().prop_map(Mutation::Replace),
        "[A-Za-z0-9+/=%]{0,200}".prop_map(Mutation::Duplicate),
        (4000usize..40_000).prop_map(Mutation::Oversize),
    ]
}

fn apply(valid: &str, m: &Mutation) -> (String, Option<String>) {
    let mut bytes = valid.as_bytes().to_vec();
    match m {
        Mutation::Flip { at, bit } => {
            let i = at % bytes.len();
            bytes[i] ^= 1 << bit;
        }
        Mutation::Truncate(n) => bytes.truncate(n % bytes.len()),
        Mutation::Append(s) => bytes.extend_from_slice(s.as_bytes()),
        Mutation::Replace(s) => bytes = s.as_bytes().to_vec(),
        Mutation::Duplicate(other) => return (valid.to_string(), Some(other.clone())),
        Mutation::Oversize(n) => bytes = valid.repeat(n / valid.len() + 1).into_bytes(),
    }
    (String::from_utf8_lossy(&bytes).into_owned(), None)
}

fn run(mode: Mode) {
    let rt = rocket::tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let app = rt.block_on(TestApp::spawn(mode));
    let (valid, csrf_cookie, csrf_token) = rt.block_on(async {
        let b = app.browser();
        b.post(
            "/signup",
            &[("username", "alice"), ("password", "correct horse")],
        )
        .await;
        b.post("/notes", &[("note", "a note")]).await;
        // The CSRF pair as the Browser holds it after a page: the sealed cookie and the token its
        // forms carry. The pair is not bound to the session, so it stays valid whatever is done
        // to the session cookie below.
        let token = b.csrf_token().await;
        let cookie = b.cookie(mode.csrf_cookie_name()).expect("a CSRF cookie");
        (b.session_cookie().unwrap(), cookie, token)
    });
    let decoded = |encoded: &str| {
        Cookie::parse_encoded(format!("x={encoded}"))
            .unwrap()
            .value()
            .to_string()
    };
    let decoded_valid = decoded(&valid);
    let decoded_csrf = decoded(&csrf_cookie);
    let name = mode.cookie_name();
    let csrf_name = mode.csrf_cookie_name();
    let form = format!("color=red&csrf_token={}", urlencode(&csrf_token));
    let posts = std::cell::Cell::new(0u32);
    let paths = [
        "/",
        "/color",
        "/notes",
        "/session",
        "/session.json",
        "/account",
        "/account/sessions",
    ];
    let mut runner = TestRunner::new(Config {
        cases: 160,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(
            &(mutation(), 0..paths.len(), any::<bool>()),
            |(m, path, post)| {
                let (value, duplicate) = apply(&decoded_valid, &m);
                let (status, trace) = rt.block_on(async {
                    let client = &app.client;
                    let path = paths[path];
                    let mut req = if post {
                        client
                            .post("/color")
                            .header(rocket::http::ContentType::Form)
                            .body(form.clone())
                    } else {
                        client.get(path)
                    };
                    let mut header = format!("{name}={value}");
                    if let Some(other) = &duplicate {
                        header.push_str(&format!("; {name}={other}"));
                    }
                    if post {
                        // Like the harness's Browser: in the header (what the inspector reads)
                        // and in Rocket's jar (what the app reads).
                        header.push_str(&format!("; {csrf_name}={csrf_cookie}"));
                        req = req.cookie(Cookie::new(csrf_name, decoded_csrf.clone()));
                    }
                    req = req
                        .header(Header::new("Cookie", header))
                        .cookie(Cookie::new(name, value.clone()));
                    if let Some(other) = duplicate {
                        req = req.cookie(Cookie::new(name, other));
                    }
                    let res = req.dispatch().await;
                    let trace = res.headers().get_one("Session-Trace").map(str::to_string);
                    (res.status().code, trace)
                });
                prop_assert!(status < 500, "{m:?} on {} gave {status}", paths[path]);
                if post {
                    // The pair is valid, so the POST passes the CSRF check and the handler loads
                    // the session: with a session cookie present, a load is a hit or a miss.
                    prop_assert_ne!(status, 403, "{:?}: the CSRF check refused a valid pair", m);
                    let trace = trace.unwrap_or_default();
                    prop_assert!(
                        trace.contains("load=hit") || trace.contains("load=miss"),
                        "{:?}: the POST never reached the session layer ({})",
                        m,
                        trace
                    );
                    posts.set(posts.get() + 1);
                }
                Ok(())
            },
        )
        .unwrap();
    assert!(
        posts.get() > 0,
        "no case was a POST: the session layer's write path went unfuzzed"
    );
    // Random cookies under every name the app reads, as raw headers.
    let mut runner = TestRunner::new(Config {
        cases: 80,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(
            &(
                "[ -~]{0,3000}",
                prop::sample::select(vec![
                    "session_id",
                    "session_data",
                    "csrf_server",
                    "csrf_cookie",
                ]),
            ),
            |(raw, cookie_name)| {
                let status = rt.block_on(async {
                    app.client
                        .get("/session")
                        .header(Header::new("Cookie", format!("{cookie_name}={raw}")))
                        .cookie(Cookie::new(cookie_name, raw.clone()))
                        .dispatch()
                        .await
                        .status()
                        .code
                });
                prop_assert!(status < 500, "{cookie_name}={raw:?} gave {status}");
                Ok(())
            },
        )
        .unwrap();
    drop(app);
}

#[test]
fn random_and_mutated_cookies_never_cause_a_5xx_in_server_mode() {
    run(Mode::Server);
}

#[test]
fn random_and_mutated_cookies_never_cause_a_5xx_in_cookie_mode() {
    run(Mode::Cookie);
}
