//! Property tests: random bytes, mutations of valid cookies, oversized and duplicated `Cookie`
//! headers, thrown at the app in both modes. Whatever comes in: never a 5xx, never a panic
//! (Rocket turns a handler's panic into a 500, so "no 5xx" covers both).

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
    let valid = rt.block_on(async {
        let b = app.browser();
        b.post(
            "/signup",
            &[("username", "alice"), ("password", "correct horse")],
        )
        .await;
        b.post("/notes", &[("note", "a note")]).await;
        b.session_cookie().unwrap()
    });
    let decoded_valid = Cookie::parse_encoded(format!("x={valid}"))
        .unwrap()
        .value()
        .to_string();
    let name = mode.cookie_name();
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
                let status = rt.block_on(async {
                    let client = &app.client;
                    let path = paths[path];
                    let mut req = if post {
                        client
                            .post("/color")
                            .header(rocket::http::ContentType::Form)
                            .body("color=red&csrf_token=x")
                    } else {
                        client.get(path)
                    };
                    let mut header = format!("{name}={value}");
                    if let Some(other) = &duplicate {
                        header.push_str(&format!("; {name}={other}"));
                    }
                    req = req
                        .header(Header::new("Cookie", header))
                        .cookie(Cookie::new(name, value.clone()));
                    if let Some(other) = duplicate {
                        req = req.cookie(Cookie::new(name, other));
                    }
                    req.dispatch().await.status().code
                });
                prop_assert!(status < 500, "{m:?} on {} gave {status}", paths[path]);
                Ok(())
            },
        )
        .unwrap();
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
