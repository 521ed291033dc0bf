//! Fair shares behind one address (issue 22): a device cookie is worth its own bucket of attempts,
//! right or wrong, and one place in the hash queue; its failures lock out only that device; it is
//! bound to the account, so one minted before a reset is no device; a 503 (shed, or this
//! browser's outage lab) spends no token at login or signup; a browser holding a device cookie
//! spends its own signup bucket, not its address's; and learners are bounded per address.
//! (The per-account session limit: `session_limit.rs`.) Every test runs on the manual clock:
//! nothing refills unless the test moves it.

use rocket::figment::Figment;
use session_lab::auth::queue::HashQueue;
use session_lab::settings::Mode;

use crate::common::*;

const PW: &str = "correct horse battery";
const OWNER_IP: &str = "192.0.2.1";

both_modes![
    a_device_cookie_spends_its_own_bucket_on_right_passwords_too,
    a_stolen_device_cookie_locks_out_that_device_only,
    a_device_cookie_minted_before_a_reset_is_no_device,
    a_signup_answered_503_spends_no_token,
    a_browser_with_a_device_cookie_spends_its_own_signup_bucket,
    browser_ids_minted_by_logging_in_share_one_bucket_per_address,
    a_login_refused_by_the_outage_lab_spends_no_token,
    new_learners_are_bounded_per_address,
    a_signup_leaves_a_device_cookie_bound_to_the_new_account,
];

fn limits(pairs: &'static [(&'static str, u64)]) -> impl FnOnce(Figment) -> Figment {
    move |mut f| {
        for (key, value) in pairs {
            f = f.merge((*key, *value));
        }
        f
    }
}

const TIGHT: &[(&str, u64)] = &[
    ("login_name_burst", 2),
    ("login_name_interval", 3600),
    ("login_address_burst", 3),
    ("login_address_interval", 3600),
    ("login_device_burst", 3),
    ("login_device_interval", 3600),
];

/// Two signups per address bucket and per browser, none back within a test.
const SIGNUPS: &[(&str, u64)] = &[
    ("signup_address_burst", 2),
    ("signup_address_interval", 3600),
    ("signup_device_burst", 2),
    ("signup_device_interval", 3600),
];

fn device_cookie(mode: Mode) -> String {
    format!("device_{}", mode.as_str())
}

/// A form POST from `ip` (the `X-Real-IP` the tests' proxy setting believes), with this browser's
/// CSRF token.
async fn post_from(b: &Browser<'_>, path: &str, fields: &[(&str, &str)], ip: &str) -> Res {
    let token = b.csrf_token().await;
    let mut all: Vec<(&str, &str)> = vec![("csrf_token", token.as_str())];
    all.extend_from_slice(fields);
    b.post_raw(path, &all, &[("X-Real-IP", ip)]).await
}

/// `alice` signed up from a setup browser (whose device cookie is thrown away), then logged in
/// once from her own browser at `OWNER_IP`: that browser holds her device cookie, one attempt of
/// its bucket spent.
async fn owner<'a>(app: &'a TestApp) -> Browser<'a> {
    let setup = app.browser();
    let res = post_from(
        &setup,
        "/signup",
        &[("username", "alice"), ("password", PW)],
        "203.0.113.9",
    )
    .await;
    assert_eq!(res.status, 303, "{}", res.body);
    let owner = app.browser();
    let res = login_from(&owner, "alice", PW, OWNER_IP).await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert!(owner.cookie(&device_cookie(app.mode)).is_some());
    owner.post("/logout", &[]).await;
    owner
}

async fn a_device_cookie_spends_its_own_bucket_on_right_passwords_too(mode: Mode) {
    let app = TestApp::spawn_with_manual_clock(mode, limits(TIGHT)).await;
    let owner = owner(&app).await;
    // The device's burst is 3 attempts (the login that issued it was judged like anyone's):
    // three right passwords get in...
    for _ in 0..3 {
        let res = login_from(&owner, "alice", PW, OWNER_IP).await;
        assert_eq!(res.status, 303, "{}", res.body);
        owner.post("/logout", &[]).await;
    }
    // ...and the fourth is 429, however right its password: a device cookie is no free pass.
    let res = login_from(&owner, "alice", PW, OWNER_IP).await;
    assert_eq!(res.status, 429, "{}", res.body);
    assert!(res.header("Retry-After").is_some());
    assert!(res.body.contains("Too many login attempts"), "{}", res.body);
    assert_eq!(owner.get("/account").await.status, 303, "not logged in");
    // Only the device paid: the name (burst 2) and the address (burst 3) are untouched, so a
    // classmate behind the same address, and alice from a new browser, still get in.
    let fresh = app.browser();
    let res = login_from(&fresh, "alice", PW, OWNER_IP).await;
    assert_eq!(res.status, 303, "{}", res.body);
    // One more token after one interval.
    app.clock().advance(3600);
    let res = login_from(&owner, "alice", PW, OWNER_IP).await;
    assert_eq!(res.status, 303, "{}", res.body);
}

async fn a_stolen_device_cookie_locks_out_that_device_only(mode: Mode) {
    // The name's burst is 3: her first logins on the laptop and the phone use two of them.
    let app =
        TestApp::spawn_with_manual_clock(mode, |f| limits(TIGHT)(f).merge(("login_name_burst", 3)))
            .await;
    let owner = owner(&app).await;
    // Her phone: a second device of hers.
    let phone = app.browser();
    assert_eq!(
        login_from(&phone, "alice", PW, "198.51.100.7").await.status,
        303
    );
    phone.post("/logout", &[]).await;
    let name = device_cookie(mode);
    let thief = app.browser();
    thief.set_cookie(&name, &owner.cookie(&name).expect("her device cookie"));
    // Three wrong guesses use the device's burst; each is checked (401).
    for _ in 0..3 {
        let res = login_from(&thief, "alice", "a guess", "203.0.113.66").await;
        assert_eq!(res.status, 401, "{}", res.body);
    }
    // Then that device is locked out, the copy and the original alike, with no hash checked.
    for b in [&thief, &owner] {
        let res = login_from(b, "alice", PW, "203.0.113.66").await;
        assert_eq!(res.status, 429, "{}", res.body);
    }
    // The guesses spent no token of the name (its last one is left) nor of the thief's address:
    // her phone, a browser without any device cookie, and strangers at that address get in.
    assert_eq!(
        login_from(&phone, "alice", PW, "198.51.100.7").await.status,
        303
    );
    let fresh = app.browser();
    assert_eq!(
        login_from(&fresh, "alice", PW, "198.51.100.8").await.status,
        303
    );
    let neighbour = app.browser();
    for _ in 0..3 {
        let res = login_from(&neighbour, "nobody", "wrong", "203.0.113.66").await;
        assert_eq!(res.status, 401, "the address's own three: {}", res.body);
    }
}

async fn a_device_cookie_minted_before_a_reset_is_no_device(mode: Mode) {
    let app = TestApp::spawn_with_manual_clock(mode, limits(TIGHT)).await;
    let owner = owner(&app).await;
    let before: String =
        sqlx::query_scalar("SELECT device_secret FROM users WHERE username = 'alice'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    // The class is reset, and someone signs up as alice again.
    session_lab::class::reset(&app.pool, &session_lab::class::Keep::default(), 0)
        .await
        .unwrap();
    let newcomer = app.browser();
    let res = post_from(
        &newcomer,
        "/signup",
        &[
            ("username", "alice"),
            ("password", "another fine passphrase"),
        ],
        "203.0.113.10",
    )
    .await;
    assert_eq!(res.status, 303, "{}", res.body);
    let after: String =
        sqlx::query_scalar("SELECT device_secret FROM users WHERE username = 'alice'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_ne!(before, after);
    // The old cookie names the name, but not this account: its attempts are judged like anyone's
    // and spend the name's burst of 2 (her first login used one) — the second is 429, where a
    // device would have had all 3 of its own.
    for expected in [401, 429] {
        let res = login_from(&owner, "alice", PW, OWNER_IP).await;
        assert_eq!(res.status, expected, "{}", res.body);
    }
    // A teacher kept by a reset gets a new secret too.
    sqlx::query("UPDATE users SET is_teacher = true WHERE username = 'alice'")
        .execute(&app.pool)
        .await
        .unwrap();
    session_lab::class::reset(&app.pool, &session_lab::class::Keep::default(), 0)
        .await
        .unwrap();
    let kept: String =
        sqlx::query_scalar("SELECT device_secret FROM users WHERE username = 'alice'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_ne!(kept, after);
}

async fn a_signup_leaves_a_device_cookie_bound_to_the_new_account(mode: Mode) {
    let app = TestApp::spawn_with_manual_clock(mode, limits(TIGHT)).await;
    let b = app.browser();
    let res = post_from(
        &b,
        "/signup",
        &[("username", "carol"), ("password", PW)],
        OWNER_IP,
    )
    .await;
    assert_eq!(res.status, 303, "{}", res.body);
    let line = res
        .set_cookie(&device_cookie(mode))
        .unwrap_or_else(|| panic!("a device cookie: {:?}", res.set_cookies()));
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=31536000"] {
        assert!(line.contains(attribute), "{attribute} in {line}");
    }
    assert!(!line.to_lowercase().contains("carol"), "sealed: {line}");
    b.post("/logout", &[]).await;
    // The address is used up by someone else behind it: carol's browser still gets in.
    let neighbour = app.browser();
    for _ in 0..3 {
        login_from(&neighbour, "nobody", "guess", OWNER_IP).await;
    }
    assert_eq!(
        login_from(&neighbour, "nobody", "guess", OWNER_IP)
            .await
            .status,
        429
    );
    let res = login_from(&b, "carol", PW, OWNER_IP).await;
    assert_eq!(res.status, 303, "{}", res.body);
}

async fn a_signup_answered_503_spends_no_token(mode: Mode) {
    let app = TestApp::spawn_with_manual_clock(mode, |f| {
        f.merge(("signup_address_burst", 2))
            .merge(("signup_address_interval", 3600))
            .merge(("hash_queue", 0))
    })
    .await;
    let b = app.browser();
    let signup_as = |name: &'static str| {
        let b = &b;
        async move {
            let fields = [("username", name), ("password", PW)];
            post_from(b, "/signup", &fields, OWNER_IP).await
        }
    };
    // This browser's outage lab cuts the database off: 503, five times over.
    assert_eq!(b.post("/labs/outage", &[("cut", "true")]).await.status, 303);
    for _ in 0..5 {
        let res = signup_as("dora").await;
        assert_eq!(res.status, 503, "{}", res.body);
    }
    assert_eq!(
        b.post("/labs/outage", &[("cut", "false")]).await.status,
        303
    );
    // The hash queue full (every core's place taken): 503 with Retry-After, five times over.
    let queue = app.client.rocket().state::<HashQueue>().unwrap();
    let held: Vec<_> = std::iter::from_fn(|| queue.admit().ok()).collect();
    for _ in 0..5 {
        let res = signup_as("dora").await;
        assert_eq!(res.status, 503, "{}", res.body);
        assert_eq!(res.header("Retry-After"), Some("1"));
        assert!(
            res.body.contains("busy checking other passwords"),
            "{}",
            res.body
        );
    }
    drop(held);
    // Ten 503s spent nothing: the address's burst of 2 is whole. (Each signup from a browser new
    // to the app: one holding a device cookie would spend its own bucket instead.)
    assert_eq!(signup_as("dora").await.status, 303);
    for (name, status) in [("emil", 303), ("fern", 429)] {
        let fresh = app.browser();
        let fields = [("username", name), ("password", PW)];
        let res = post_from(&fresh, "/signup", &fields, OWNER_IP).await;
        assert_eq!(res.status, status, "{name}: {}", res.body);
    }
    assert_eq!(app.count("SELECT count(*) FROM users").await, 2);
}

/// A signup from `OWNER_IP` through the form, with this browser's cookies.
async fn signup_from(b: &Browser<'_>, name: &str) -> Res {
    post_from(
        b,
        "/signup",
        &[("username", name), ("password", PW)],
        OWNER_IP,
    )
    .await
}

/// Issue 22's signup finding: a script that keeps its cookie jar signs up again and again from
/// the class's address. Its first signup is the address's; every later one carries the device
/// cookie the last gave it (for another account each time, the same browser id in each) and
/// spends that browser's bucket, so classmates new to the app still find the address's.
async fn a_browser_with_a_device_cookie_spends_its_own_signup_bucket(mode: Mode) {
    let app = TestApp::spawn_with_manual_clock(mode, limits(SIGNUPS)).await;
    let script = app.browser();
    // The script's first signup (no device cookie yet: the address's first token), then two
    // from its own browser's bucket, then 429 — naming the browser, not the address.
    for name in ["bot1", "bot2", "bot3"] {
        let res = signup_from(&script, name).await;
        assert_eq!(res.status, 303, "{name}: {}", res.body);
    }
    let res = signup_from(&script, "bot4").await;
    assert_eq!(res.status, 429, "{}", res.body);
    assert!(res.body.contains("from this browser"), "{}", res.body);
    assert!(res.header("Retry-After").is_some());
    // Logging out keeps the device cookie, and so the browser: still 429.
    assert_eq!(script.post("/logout", &[]).await.status, 303);
    assert_eq!(signup_from(&script, "bot5").await.status, 429);
    // A login to another account gives this browser that account's device cookie, with the same
    // browser id in it: still 429.
    let res = login_from(&script, "bot1", PW, OWNER_IP).await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert!(res.set_cookie(&device_cookie(mode)).is_some());
    assert_eq!(signup_from(&script, "bot6").await.status, 429);
    // A classmate new to the app, behind the same address: the address's second token is theirs.
    let classmate = app.browser();
    let res = signup_from(&classmate, "mate").await;
    assert_eq!(res.status, 303, "{}", res.body);
    // The next new browser finds the address's burst used: 429, naming the address.
    let res = signup_from(&app.browser(), "late").await;
    assert_eq!(res.status, 429, "{}", res.body);
    assert!(res.body.contains("from your address"), "{}", res.body);
    assert_eq!(app.count("SELECT count(*) FROM users").await, 4);
}

async fn a_login_refused_by_the_outage_lab_spends_no_token(mode: Mode) {
    let app = TestApp::spawn_with_manual_clock(mode, limits(TIGHT)).await;
    let setup = app.browser();
    let res = post_from(
        &setup,
        "/signup",
        &[("username", "alice"), ("password", PW)],
        "203.0.113.9",
    )
    .await;
    assert_eq!(res.status, 303);
    let b = app.browser();
    assert_eq!(b.post("/labs/outage", &[("cut", "true")]).await.status, 303);
    // Ten attempts against a name whose burst is 2, from an address whose burst is 3.
    for _ in 0..10 {
        let res = login_from(&b, "alice", "wrong", OWNER_IP).await;
        assert_eq!(res.status, 503, "{}", res.body);
    }
    assert_eq!(
        b.post("/labs/outage", &[("cut", "false")]).await.status,
        303
    );
    let res = login_from(&b, "alice", PW, OWNER_IP).await;
    assert_eq!(res.status, 303, "the name's tokens are whole: {}", res.body);
}

async fn predict(b: &Browser<'_>, ip: &str) -> Res {
    post_from(b, "/exercises/first-value/predict", &[("choice", "0")], ip).await
}

async fn new_learners_are_bounded_per_address(mode: Mode) {
    let app = TestApp::spawn_with_manual_clock(mode, |f| {
        f.merge(("learner_address_burst", 2))
            .merge(("learner_address_interval", 3600))
    })
    .await;
    let browsers: Vec<Browser<'_>> = (0..3).map(|_| app.browser()).collect();
    assert_eq!(predict(&browsers[0], OWNER_IP).await.status, 303);
    assert_eq!(predict(&browsers[1], OWNER_IP).await.status, 303);
    let res = predict(&browsers[2], OWNER_IP).await;
    assert_eq!(res.status, 429, "{}", res.body);
    assert!(res.header("Retry-After").is_some());
    assert!(
        res.body.contains("Too many new learners from your address"),
        "{}",
        res.body
    );
    assert!(
        res.set_cookie("learner").is_none(),
        "{:?}",
        res.set_cookies()
    );
    assert_eq!(app.count("SELECT count(*) FROM learners").await, 2);
    // A browser that already is a learner costs nothing: its hints and predictions go on.
    assert_eq!(predict(&browsers[0], OWNER_IP).await.status, 303);
    // (A hint for the exercise it predicted: hints open after a prediction.)
    let res = post_from(&browsers[1], "/exercises/first-value/hint", &[], OWNER_IP).await;
    assert_eq!(res.status, 303, "{}", res.body);
    // Another address has its own bound; and after one interval, one more here.
    assert_eq!(predict(&browsers[2], "198.51.100.1").await.status, 303);
    let late = app.browser();
    assert_eq!(predict(&late, OWNER_IP).await.status, 429);
    app.clock().advance(3600);
    assert_eq!(predict(&late, OWNER_IP).await.status, 303);
    assert_eq!(app.count("SELECT count(*) FROM learners").await, 4);
}

/// A script minting browser ids — each new browser that logs in to one of its own accounts is
/// given a device cookie with a browser id of its own — gains no signups past the address's
/// second bucket, the one every browser that has been here before shares (the same size as the
/// first). Browsers new to the app keep the first.
async fn browser_ids_minted_by_logging_in_share_one_bucket_per_address(mode: Mode) {
    let app = TestApp::spawn_with_manual_clock(mode, limits(SIGNUPS)).await;
    let setup = app.browser();
    let fields = [("username", "bot0"), ("password", PW)];
    let res = post_from(&setup, "/signup", &fields, "203.0.113.9").await;
    assert_eq!(res.status, 303, "{}", res.body);
    let mut made = 0;
    for round in 1..=3 {
        let jar = app.browser();
        let res = login_from(&jar, "bot0", PW, OWNER_IP).await;
        assert_eq!(res.status, 303, "{}", res.body);
        for n in 1..=2 {
            let res = signup_from(&jar, &format!("bot{round}x{n}")).await;
            if res.status == 303 {
                made += 1;
            } else {
                assert_eq!(res.status, 429, "{}", res.body);
                assert!(res.body.contains("from your address"), "{}", res.body);
            }
        }
    }
    assert_eq!(
        made, 2,
        "three browser ids, one bucket of 2 for all of them"
    );
    // A classmate new to the app: the address's first bucket is whole.
    let res = signup_from(&app.browser(), "mate").await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(app.count("SELECT count(*) FROM users").await, 4);
}
