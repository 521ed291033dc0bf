//! Real users get in during a flood, in both modes: a shed attempt (503) spends no throttle
//! token; device cookies (OWASP's "Slow Down Online Guessing Attacks with Device Cookies") let a
//! browser that logged in before past the name's lockout and the address limit, judged by its own
//! bucket instead, in a lane of the hash queue a flood cannot fill, for its own name only; the deny-list takes only logins and a
//! bounded number per address; and `--mode both` has one limiter for its two apps.

use rocket::figment::Figment;
use session_lab::auth::queue::HashQueue;
use session_lab::settings::Mode;

use crate::common::*;

const PW: &str = "correct horse battery";
const BOB_PW: &str = "staple battery horse";
const OWNER_IP: &str = "192.0.2.1";

both_modes![
    a_shed_attempt_spends_no_token_so_the_owner_retrying_through_a_full_queue_gets_in,
    a_successful_login_leaves_a_sealed_long_lived_device_cookie_for_that_name,
    a_secure_site_sends_the_device_cookie_with_the_host_prefix_and_secure,
    a_device_cookie_lets_its_owner_in_while_the_name_and_the_address_are_locked_out,
    a_device_cookie_is_useless_for_another_name_and_a_forged_one_for_any,
    wrong_passwords_from_a_device_spend_its_own_bucket_then_only_that_device_is_locked_out,
    a_device_login_waits_in_a_lane_that_anonymous_attempts_cannot_fill,
];

fn limits(pairs: &'static [(&'static str, u64)]) -> impl FnOnce(Figment) -> Figment {
    move |mut f| {
        for (key, value) in pairs {
            f = f.merge((*key, *value));
        }
        f
    }
}

/// Small limits that stay used up for the whole test (the tests using them run on a manual clock:
/// nothing refills unless a test moves it).
const TIGHT: &[(&str, u64)] = &[
    ("login_name_burst", 2),
    ("login_name_interval", 3600),
    ("login_address_burst", 3),
    ("login_address_interval", 3600),
    ("login_device_burst", 3),
    ("login_device_interval", 3600),
];

fn device_cookie_name(mode: Mode) -> String {
    format!("device_{}", mode.as_str())
}

/// `alice` (and `bob`) signed up from another browser and address, and alice's own browser that
/// logged in once from `OWNER_IP`, so it holds her device cookie.
async fn owner_with_device<'a>(app: &'a TestApp) -> Browser<'a> {
    let setup = app.browser();
    for (name, pw) in [("alice", PW), ("bob", BOB_PW)] {
        setup.forget_csrf();
        let token = setup.csrf_token().await;
        let res = setup
            .post_raw(
                "/signup",
                &[("csrf_token", &token), ("username", name), ("password", pw)],
                &[("X-Real-IP", "203.0.113.9")],
            )
            .await;
        assert_eq!(res.status, 303, "{}", res.body);
        setup.post("/logout", &[]).await;
    }
    let owner = app.browser();
    let res = login_from(&owner, "alice", PW, OWNER_IP).await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert!(owner.cookie(&device_cookie_name(app.mode)).is_some());
    owner
}

/// Wrong guesses at `name` from other addresses until the name itself is locked (429).
async fn lock_out_name(app: &TestApp, name: &str) {
    let attacker = app.browser();
    for i in 0..10 {
        let res = login_from(&attacker, name, "wrong guess", &format!("198.51.100.{i}")).await;
        if res.status == 429 {
            return;
        }
        assert_eq!(res.status, 401);
    }
    panic!("the name {name} was never locked out");
}

/// Takes every anonymous place in the hash queue, as a flood in progress does.
fn fill_anonymous_lane(app: &TestApp) -> Vec<session_lab::auth::queue::Admitted<'_>> {
    let queue = app
        .client
        .rocket()
        .state::<HashQueue>()
        .expect("the hash queue is managed");
    std::iter::from_fn(|| queue.admit().ok()).collect()
}

async fn a_shed_attempt_spends_no_token_so_the_owner_retrying_through_a_full_queue_gets_in(
    mode: Mode,
) {
    let app = TestApp::spawn_with_manual_clock(mode, |f| {
        limits(TIGHT)(f)
            .merge(("hash_queue", 1))
            .merge(("hash_queue_devices", 0))
    })
    .await;
    signup(&app.browser(), "alice", PW).await;
    let b = app.browser();
    let held = fill_anonymous_lane(&app);
    assert!(!held.is_empty());
    // Far more retries than the name's (2) or the address's (3) burst.
    for _ in 0..8 {
        let res = login_from(&b, "alice", PW, OWNER_IP).await;
        assert_eq!(res.status, 503, "{}", res.body);
        assert_eq!(res.header("Retry-After"), Some("1"));
        assert!(res.body.contains("busy checking other passwords"));
        assert!(res.trace().contains("queries=0"), "{}", res.trace());
    }
    drop(held);
    let res = login_from(&b, "alice", PW, OWNER_IP).await;
    assert_eq!(
        res.status, 303,
        "not 429'd by its own shed retries: {}",
        res.body
    );
    assert_eq!(b.get("/account").await.status, 200);
}

async fn a_successful_login_leaves_a_sealed_long_lived_device_cookie_for_that_name(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    signup(&app.browser(), "alice", PW).await;
    let b = app.browser();
    let res = login(&b, "alice", PW).await;
    assert_eq!(res.status, 303);
    let name = device_cookie_name(mode);
    let line = res
        .set_cookie(&name)
        .unwrap_or_else(|| panic!("a {name} cookie: {:?}", res.set_cookies()));
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=31536000"] {
        assert!(line.contains(attribute), "{attribute} in {line}");
    }
    assert!(!line.contains("Secure"), "plain http in the debug profile");
    assert!(!line.to_lowercase().contains("alice"), "sealed: {line}");
    // A wrong password does not replace or remove it; a later login keeps the same one.
    let res = login(&b, "alice", "not the password").await;
    assert_eq!(res.status, 401);
    assert!(res.set_cookie(&name).is_none());
    let kept = b.cookie(&name).unwrap();
    let res = login(&b, "alice", PW).await;
    assert_eq!(res.status, 303);
    assert!(res.set_cookie(&name).is_none(), "{:?}", res.set_cookies());
    assert_eq!(b.cookie(&name).unwrap(), kept);
    // Failing gives none; signing up gives one (the new account's first device: see fairshare).
    let other = app.browser();
    assert_eq!(login(&other, "carol", PW).await.status, 401);
    assert!(other.cookie(&name).is_none());
}

async fn a_secure_site_sends_the_device_cookie_with_the_host_prefix_and_secure(mode: Mode) {
    let app = TestApp::spawn_with(mode, |f| f.merge(("session_cookie_secure", true))).await;
    signup(&app.browser(), "alice", PW).await;
    let b = app.browser();
    let res = login(&b, "alice", PW).await;
    assert_eq!(res.status, 303, "{}", res.body);
    let name = format!("__Host-{}", device_cookie_name(mode));
    let line = res
        .set_cookie(&name)
        .unwrap_or_else(|| panic!("a {name} cookie: {:?}", res.set_cookies()));
    for attribute in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(line.contains(attribute), "{attribute} in {line}");
    }
    assert!(!line.contains("Domain"), "{line}");
}

async fn a_device_cookie_lets_its_owner_in_while_the_name_and_the_address_are_locked_out(
    mode: Mode,
) {
    let app = TestApp::spawn_with_manual_clock(mode, limits(TIGHT)).await;
    let owner = owner_with_device(&app).await;
    owner.post("/logout", &[]).await;
    lock_out_name(&app, "alice").await;
    // The owner's address is used up too (someone else behind it, trying other names).
    let neighbour = app.browser();
    for _ in 0..3 {
        login_from(&neighbour, "nobody-here", "guess", OWNER_IP).await;
    }
    assert_eq!(
        login_from(&neighbour, "nobody-here", "guess", OWNER_IP)
            .await
            .status,
        429
    );
    // A browser without the device cookie, with the right password: the documented lockout.
    let stranger = app.browser();
    let res = login_from(&stranger, "alice", PW, "203.0.113.77").await;
    assert_eq!(res.status, 429, "{}", res.body);
    assert!(res.header("Retry-After").is_some());
    // The owner's browser: judged against its own bucket, not the name's or the address's.
    let res = login_from(&owner, "alice", PW, OWNER_IP).await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert!(res.trace().contains("queries="), "{}", res.trace());
    assert_eq!(owner.get("/account").await.status, 200);
    // Its name typed in another case or with spaces is the same name.
    owner.post("/logout", &[]).await;
    let res = login_from(&owner, "  Alice ", PW, OWNER_IP).await;
    assert_eq!(res.status, 303, "{}", res.body);
}

async fn a_device_cookie_is_useless_for_another_name_and_a_forged_one_for_any(mode: Mode) {
    let app = TestApp::spawn_with_manual_clock(mode, limits(TIGHT)).await;
    let owner = owner_with_device(&app).await;
    owner.post("/logout", &[]).await;
    lock_out_name(&app, "bob").await;
    // Alice's device cookie, with bob's right password: bob's lockout applies.
    let res = login_from(&owner, "bob", BOB_PW, "203.0.113.50").await;
    assert_eq!(res.status, 429, "{}", res.body);
    // Copied into a browser that never logged in as alice, it still names alice only; and a
    // value sealed for another cookie, or junk, is no device at all.
    lock_out_name(&app, "alice").await;
    let name = device_cookie_name(mode);
    let forger = app.browser();
    let session_value = owner.session_cookie().or_else(|| {
        // Logged out in server mode: any sealed value of this app will do.
        owner.cookie(&format!("csrf_{}", mode.as_str()))
    });
    for value in [
        session_value.expect("a sealed cookie of this app"),
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".to_string(),
        "not base64 at all".replace(' ', "_"),
    ] {
        forger.set_cookie(&name, &value);
        let res = login_from(&forger, "alice", PW, "203.0.113.51").await;
        assert_eq!(res.status, 429, "{value}: {}", res.body);
    }
}

async fn wrong_passwords_from_a_device_spend_its_own_bucket_then_only_that_device_is_locked_out(
    mode: Mode,
) {
    let app = TestApp::spawn_with_manual_clock(mode, limits(TIGHT)).await;
    let owner = owner_with_device(&app).await;
    owner.post("/logout", &[]).await;
    lock_out_name(&app, "alice").await;
    // The device's burst is 3 wrong passwords: each is checked (401, one lookup), none is 429.
    for _ in 0..3 {
        let res = login_from(&owner, "alice", "a wrong one", "203.0.113.60").await;
        assert_eq!(res.status, 401, "{}", res.body);
        assert!(res.trace().contains("queries=1"), "{}", res.trace());
    }
    // The wrong password that used its burst put the device on the lockout list: the right one is
    // 429 too, with no hash checked (the lookup that tells whether the cookie is bound to the
    // account comes first), and nothing of the name's or another device's was spent.
    let res = login_from(&owner, "alice", PW, "203.0.113.60").await;
    assert_eq!(res.status, 429, "{}", res.body);
    assert!(res.trace().contains("queries=1"), "{}", res.trace());
    assert!(res.header("Retry-After").is_some());
}

async fn a_device_login_waits_in_a_lane_that_anonymous_attempts_cannot_fill(mode: Mode) {
    let app = TestApp::spawn_with(mode, |f| {
        f.merge(("hash_queue", 1)).merge(("hash_queue_devices", 1))
    })
    .await;
    let owner = owner_with_device(&app).await;
    owner.post("/logout", &[]).await;
    let held = fill_anonymous_lane(&app);
    let stranger = app.browser();
    let res = login_from(&stranger, "alice", PW, "203.0.113.70").await;
    assert_eq!(res.status, 503, "the anonymous lane is full: {}", res.body);
    let res = login_from(&owner, "alice", PW, OWNER_IP).await;
    assert_eq!(res.status, 303, "the device lane is free: {}", res.body);
    // The lane is for the device's own name: typing another name with it is anonymous.
    owner.post("/logout", &[]).await;
    let res = login_from(&owner, "bob", BOB_PW, OWNER_IP).await;
    assert_eq!(res.status, 503, "{}", res.body);
    drop(held);
}

/// `cookie_revocation = "denylist"`: an anonymous session's logout adds nothing (it has nothing
/// to revoke), and one address adds at most its burst of rows; past it the logout is 429 and the
/// session stays logged in.
#[rocket::async_test]
async fn the_denylist_takes_only_logins_and_a_bounded_number_per_address() {
    let app = TestApp::spawn_with_manual_clock(CookieMode, |f| {
        f.merge(("cookie_revocation", "denylist"))
            .merge(("denylist_address_burst", 2))
            .merge(("denylist_address_interval", 3600))
    })
    .await;
    let rows = || app.count("SELECT count(*) FROM revoked_sessions");
    let anonymous = app.browser();
    for _ in 0..5 {
        assert_eq!(
            anonymous.post("/color", &[("color", "red")]).await.status,
            303
        );
        assert_eq!(anonymous.post("/logout", &[]).await.status, 303);
    }
    assert_eq!(
        rows().await,
        0,
        "an anonymous session has nothing to revoke"
    );
    let b = app.browser();
    assert_eq!(signup(&b, "alice", PW).await.status, 303);
    assert_eq!(b.post("/logout", &[]).await.status, 303);
    assert_eq!(login(&b, "alice", PW).await.status, 303);
    assert_eq!(b.post("/logout", &[]).await.status, 303);
    assert_eq!(rows().await, 2);
    assert_eq!(login(&b, "alice", PW).await.status, 303);
    let res = b.post("/logout", &[]).await;
    assert_eq!(res.status, 429, "{}", res.body);
    assert!(res.header("Retry-After").is_some());
    assert!(
        res.body.contains("Too many sign-outs from your address"),
        "{}",
        res.body
    );
    assert_eq!(rows().await, 2, "nothing added past the bound");
    assert_eq!(
        b.get("/account").await.status,
        200,
        "the session was not ended half-way"
    );
}

/// `--mode both`: one limiter for both apps, so a name's guesses add up across the two ports.
#[rocket::async_test]
async fn mode_both_counts_one_names_guesses_across_both_ports() {
    let (server, cookie) = crate::compare::spawn_both(|figment| {
        figment
            .merge(("hash_queue", 1))
            .merge(("login_name_burst", 10))
            .merge(("login_name_interval", 3600))
    })
    .await;
    let on_server = server.browser();
    for i in 0..10 {
        let res = login_from(&on_server, "alice", "guess", &format!("198.51.100.{i}")).await;
        assert_eq!(res.status, 401, "guess {i}: {}", res.body);
    }
    let on_cookie = cookie.browser();
    let res = login_from(&on_cookie, "alice", "guess", "198.51.100.99").await;
    assert_eq!(res.status, 429, "the eleventh guess, on the other port");
    // One hash queue too: taking every place on one port leaves none on the other.
    let held = fill_anonymous_lane(&server);
    assert!(!held.is_empty());
    let res = login_from(&on_cookie, "bob", "guess", "198.51.100.98").await;
    assert_eq!(res.status, 503, "one hash queue: {}", res.body);
    drop(held);
    drop(cookie);
}

/// Server mode: each write rewrites the session's whole row, so one session's form writes are
/// rated (`session_write_burst`); past it the write is 429 and the row is unchanged. Cookie mode
/// keeps nothing on the server, and is not rated.
#[rocket::async_test]
async fn a_session_past_its_write_burst_gets_429_and_its_row_is_unchanged() {
    for mode in [ServerMode, CookieMode] {
        let app = TestApp::spawn_with_manual_clock(mode, |f| {
            f.merge(("session_write_burst", 3))
                .merge(("session_write_interval", 3600))
        })
        .await;
        let b = app.browser();
        // The first write creates the session (counted per address, not per session).
        assert_eq!(b.post("/notes", &[("note", "first")]).await.status, 303);
        for i in 0..3 {
            let res = b.post("/notes", &[("note", &format!("note {i}"))]).await;
            assert_eq!(res.status, 303, "{mode}: write {i}: {}", res.body);
        }
        let res = b.post("/notes", &[("note", "one too many")]).await;
        if mode == ServerMode {
            assert_eq!(res.status, 429, "{}", res.body);
            assert!(res.header("Retry-After").is_some());
            assert!(
                res.body.contains("Too many changes to your session"),
                "{}",
                res.body
            );
            let stored = app
                .count("SELECT jsonb_array_length(data->'notes')::bigint FROM sessions")
                .await;
            assert_eq!(stored, 4, "the refused note was not written");
            // Another session is rated on its own.
            let other = app.browser();
            assert_eq!(other.post("/color", &[("color", "red")]).await.status, 303);
            assert_eq!(other.post("/color", &[("color", "blue")]).await.status, 303);
        } else {
            assert_eq!(res.status, 303, "cookie mode is not rated: {}", res.body);
        }
    }
}
