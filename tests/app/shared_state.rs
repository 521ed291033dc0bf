//! `shared_state = "redis"`: two instances on one database and one Redis prefix (as behind
//! `deploy/scale-out`'s proxy) count the throttles once, find each other's reports and see each
//! other's class switches; with Redis down they answer 503 and say why.

use crate::common::*;
use crate::teacher::teacher;
use session_lab::settings::Mode;

const PW: &str = "correct horse battery";

/// The shared state on, and a login name limit of ten guesses then one every 30 s.
fn shared(f: rocket::figment::Figment) -> rocket::figment::Figment {
    f.merge(("shared_state", "redis"))
        .merge(("login_name_burst", 10))
        .merge(("login_name_interval", 30))
}

/// Two instances on one database; the test prefix comes from the database, so one prefix too.
async fn two(mode: Mode) -> (TestApp, TestApp) {
    let a =
        TestApp::spawn_with_manual_clock(mode, |f| shared(f).merge(("instance", "lab-a"))).await;
    let b = TestApp::spawn_on_clock(mode, &a.db_name, &a.db_url, Some(clock_of(&a)), |f| {
        shared(f).merge(("instance", "lab-b"))
    })
    .await;
    (a, b)
}

/// The manual clock `app` runs on, to run another instance on it: the instances of a fleet agree
/// on the time (the shared buckets are kept in the app clock's milliseconds).
fn clock_of(app: &TestApp) -> std::sync::Arc<session_lab::clock::Clock> {
    app.client
        .rocket()
        .state::<std::sync::Arc<session_lab::clock::Clock>>()
        .cloned()
        .expect("clock managed")
}

/// The same browser (its whole cookie jar) carried from `from` to `to`.
fn carry(from: &Browser<'_>, to: &Browser<'_>) {
    for (name, value) in from.cookies() {
        to.set_cookie(&name, &value);
    }
}

async fn ten_wrong_guesses_across_two_instances_then_the_eleventh_is_refused_on_either(mode: Mode) {
    let (a, b) = two(mode).await;
    let (on_a, on_b) = (a.browser(), b.browser());
    // Ten guesses at one name, alternating instances and addresses: one count for the fleet.
    for i in 0..10 {
        let (browser, ip) = if i % 2 == 0 {
            (&on_a, "10.0.0.1")
        } else {
            (&on_b, "10.0.0.2")
        };
        let res = login_from(browser, "alice", "wrong password here", ip).await;
        assert_eq!(res.status, 401, "guess {}: {}", i + 1, res.body);
    }
    for (browser, served) in [(&on_a, "lab-a"), (&on_b, "lab-b")] {
        let res = login_from(browser, "alice", "wrong password here", "10.0.0.3").await;
        assert_eq!(res.status, 429, "the eleventh on {served}: {}", res.body);
        assert_eq!(res.header("Served-By"), Some(served));
        assert_eq!(res.header("Retry-After"), Some("30"));
        assert!(res.body.contains("Too many login attempts"), "{}", res.body);
    }
    // The bucket is one Redis key under the prefix, hashed (no name in it), expiring.
    let prefix = redis::prefix_for(&a.db_url);
    let keys = redis::keys(&format!("{prefix}throttle:login_name:")).await;
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert!(!keys[0].contains("alice"), "{keys:?}");
    let ttl: i64 = redis::cmd(::redis::cmd("PTTL").arg(&keys[0])).await;
    assert!(ttl > 0, "the bucket's key expires: {ttl}");
    // Another name is not held back; and once the clock moves 30 s one more guess is let in.
    let res = login_from(&on_b, "bob", "wrong password here", "10.0.0.3").await;
    assert_eq!(res.status, 401);
    a.clock().advance(30);
    let res = login_from(&on_b, "alice", "wrong password here", "10.0.0.3").await;
    assert_eq!(res.status, 401, "{}", res.body);
    let res = login_from(&on_a, "alice", "wrong password here", "10.0.0.3").await;
    assert_eq!(res.status, 429);
}

async fn a_device_cookie_locked_out_on_one_instance_is_locked_out_on_both(mode: Mode) {
    let limit = |f: rocket::figment::Figment| {
        shared(f)
            .merge(("login_device_burst", 3))
            .merge(("login_device_interval", 3600))
    };
    let a = TestApp::spawn_with_manual_clock(mode, limit).await;
    let b = TestApp::spawn_on_clock(mode, &a.db_name, &a.db_url, Some(clock_of(&a)), limit).await;
    // Ann signs up on a: her browser gets a device cookie bound to her account (its bucket then
    // holds 3 attempts; the signup spent none of it).
    let owner = a.browser();
    assert_eq!(signup(&owner, "ann", PW).await.status, 303);
    owner.post("/logout", &[]).await;
    // A copy of her cookies guesses on both instances: three wrong guesses use the device's
    // burst, the third locks the device out — on the fleet, not on one instance.
    let (on_a, on_b) = (a.browser(), b.browser());
    carry(&owner, &on_a);
    carry(&owner, &on_b);
    for (i, thief) in [&on_a, &on_b, &on_a].into_iter().enumerate() {
        let res = login_from(thief, "ann", "a guess", "203.0.113.66").await;
        assert_eq!(res.status, 401, "guess {}: {}", i + 1, res.body);
    }
    let prefix = redis::prefix_for(&a.db_url);
    assert_eq!(
        redis::keys(&format!("{prefix}throttle:distrusted:"))
            .await
            .len(),
        1
    );
    for browser in [&on_b, &on_a] {
        let res = login_from(browser, "ann", PW, "203.0.113.66").await;
        assert_eq!(res.status, 429, "{}", res.body);
        assert_eq!(res.header("Retry-After"), Some("3600"));
    }
    // Once the interval has passed, one attempt comes back, on either instance.
    a.clock().advance(3600);
    let res = login_from(&on_b, "ann", PW, "203.0.113.66").await;
    assert_eq!(res.status, 303, "{}", res.body);
}

/// A form POST from a new browser at one address: a new session each time.
async fn post_new(app: &TestApp) -> u16 {
    let browser = app.browser();
    let token = browser.csrf_token().await;
    let fields = [("csrf_token", token.as_str()), ("color", "red")];
    let ip = [("X-Real-IP", "10.0.0.9")];
    browser.post_raw("/color", &fields, &ip).await.status
}

async fn new_sessions_from_one_address_are_counted_once_too(mode: Mode) {
    let limit = |f: rocket::figment::Figment| {
        shared(f)
            .merge(("new_session_address_burst", 2))
            .merge(("new_session_address_interval", 60))
    };
    let a = TestApp::spawn_with_manual_clock(mode, limit).await;
    let b = TestApp::spawn_on_clock(mode, &a.db_name, &a.db_url, Some(clock_of(&a)), limit).await;
    assert_eq!(post_new(&a).await, 303);
    assert_eq!(post_new(&b).await, 303);
    assert_eq!(
        post_new(&a).await,
        429,
        "the third new session from the address"
    );
    assert_eq!(post_new(&b).await, 429, "on the other instance too");
}

/// A browser that has been here before has one signup bucket on the fleet: its signups on either
/// instance spend it (`signup_device` in Redis, keyed by the browser id in its device cookie).
async fn a_browsers_signups_are_counted_once_across_instances(mode: Mode) {
    let limit = |f: rocket::figment::Figment| {
        shared(f)
            .merge(("signup_device_burst", 2))
            .merge(("signup_device_interval", 3600))
    };
    let a = TestApp::spawn_with_manual_clock(mode, limit).await;
    let b = TestApp::spawn_on_clock(mode, &a.db_name, &a.db_url, Some(clock_of(&a)), limit).await;
    let (on_a, on_b) = (a.browser(), b.browser());
    // New to the app: the address's bucket, and a device cookie with a browser id.
    assert_eq!(signup(&on_a, "first", PW).await.status, 303);
    carry(&on_a, &on_b);
    assert_eq!(signup(&on_b, "second", PW).await.status, 303);
    carry(&on_b, &on_a);
    assert_eq!(signup(&on_a, "third", PW).await.status, 303);
    carry(&on_a, &on_b);
    let res = signup(&on_b, "fourth", PW).await;
    assert_eq!(res.status, 429, "{}", res.body);
    assert!(res.body.contains("from this browser"), "{}", res.body);
    let prefix = redis::prefix_for(&a.db_url);
    let keys = redis::keys(&format!("{prefix}throttle:signup_device:")).await;
    assert_eq!(keys.len(), 1, "{keys:?}");
}

async fn a_report_made_on_one_instance_is_found_on_the_other(mode: Mode) {
    let (a, b) = two(mode).await;
    let on_a = a.browser();
    let res = on_a.post("/color", &[("color", "red")]).await;
    assert_eq!(res.status, 303);
    assert_eq!(res.header("Served-By"), Some("lab-a"));
    let on_b = b.browser();
    carry(&on_a, &on_b);
    let page = on_b.get("/color").await;
    assert_eq!(page.header("Served-By"), Some("lab-b"));
    let said = page
        .body
        .split("What just happened</strong>")
        .nth(1)
        .unwrap_or("");
    assert!(said.contains("(POST &#x2F;color)"), "{said}");
    assert!(said.contains("It created a session"), "{said}");
    // Taken once, from the one shared shelf: its key is gone.
    let prefix = redis::prefix_for(&a.db_url);
    assert!(redis::keys(&format!("{prefix}report:")).await.is_empty());
}

async fn a_class_outage_thrown_on_one_instance_reaches_the_other(mode: Mode) {
    let (a, b) = two(mode).await;
    let t = a.browser();
    teacher(&a, &t, "teach").await;
    let student = b.browser();
    assert_eq!(student.get("/healthz").await.status, 200);
    assert_eq!(
        t.post("/teacher/outage", &[("seconds", "60")]).await.status,
        303
    );
    let prefix = redis::prefix_for(&a.db_url);
    assert_eq!(redis::keys(&format!("{prefix}class")).await.len(), 1);
    // The other instance pulls the switches at most every quarter second.
    assert_eq!(until_status(&student, "/healthz", 503).await, 503);
    assert_eq!(t.post("/teacher/outage", &[]).await.status, 303);
    assert_eq!(until_status(&student, "/healthz", 200).await, 200);
}

/// GETs `path` until it answers `want` (at most 40 times, 100 ms apart: the pull interval is
/// 250 ms), returning the last status.
async fn until_status(b: &Browser<'_>, path: &str, want: u16) -> u16 {
    let mut status = 0;
    for _ in 0..40 {
        status = b.get(path).await.status;
        if status == want {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    status
}

async fn with_redis_down_logins_and_writes_answer_503_and_spend_nothing(mode: Mode) {
    let app = TestApp::spawn_with(mode, |f| {
        shared(f).merge(("redis_url", "redis://127.0.0.1:1/0"))
    })
    .await;
    let b = app.browser();
    // Pages that count nothing still answer.
    assert_eq!(b.get("/login").await.status, 200);
    let res = login_from(&b, "alice", "wrong password here", "10.0.0.1").await;
    assert_eq!(res.status, 503, "{}", res.body);
    assert_eq!(res.header("Retry-After"), Some("5"));
    assert!(res.body.contains("cannot be reached"), "{}", res.body);
    assert!(
        res.body.contains("nothing was checked or stored"),
        "{}",
        res.body
    );
    let res = signup(&b, "carol", PW).await;
    assert_eq!(res.status, 503, "{}", res.body);
    assert_eq!(app.count("SELECT count(*) FROM users").await, 0);
    let res = b.post("/color", &[("color", "red")]).await;
    assert_eq!(res.status, 503, "{}", res.body);
    assert!(res.body.contains("cannot be reached"), "{}", res.body);
    assert_eq!(app.count("SELECT count(*) FROM sessions").await, 0);
}

both_modes!(
    ten_wrong_guesses_across_two_instances_then_the_eleventh_is_refused_on_either,
    new_sessions_from_one_address_are_counted_once_too,
    a_browsers_signups_are_counted_once_across_instances,
    a_device_cookie_locked_out_on_one_instance_is_locked_out_on_both,
    a_report_made_on_one_instance_is_found_on_the_other,
    a_class_outage_thrown_on_one_instance_reaches_the_other,
    with_redis_down_logins_and_writes_answer_503_and_spend_nothing,
);

/// Redis mode, where the sessions are in Redis already: the throttles and reports join them.
mod redis_mode {
    use session_lab::settings::Mode;

    #[rocket::async_test]
    async fn ten_wrong_guesses_across_two_instances_then_the_eleventh_is_refused_on_either() {
        super::ten_wrong_guesses_across_two_instances_then_the_eleventh_is_refused_on_either(
            Mode::Redis,
        )
        .await
    }

    #[rocket::async_test]
    async fn a_report_made_on_one_instance_is_found_on_the_other() {
        super::a_report_made_on_one_instance_is_found_on_the_other(Mode::Redis).await
    }
}
