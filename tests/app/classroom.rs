//! One server for a class: the labs act on the browser that asked and nobody else (in the release
//! profile, as a class server runs), and the `classroom` profile lets a room behind one address
//! sign up and log in while the per-name guessing limit stays.

use crate::common::*;
use rocket::figment::Figment;
use session_lab::settings::Mode;

const PW: &str = "correct horse battery";

both_modes![
    a_fast_forward_past_the_idle_window_ends_only_this_browsers_session,
    what_is_written_while_fast_forwarded_carries_real_time,
    cutting_the_database_fails_only_this_browsers_requests,
    a_forged_or_tampered_lab_cookie_changes_nothing,
];

/// The release profile, as a class server runs it (a test build is a debug build: nothing may
/// depend on that).
fn release(f: Figment) -> Figment {
    f.select("release")
}

/// This browser's lab cookie as it came, with every attribute a browser would keep.
fn lab_cookie(res: &Res) -> &str {
    res.set_cookie("__Host-lab").expect("a lab cookie")
}

fn idle_left(b_json: &serde_json::Value) -> i64 {
    b_json["idle_seconds_left"]
        .as_i64()
        .expect("a live session")
}

async fn a_fast_forward_past_the_idle_window_ends_only_this_browsers_session(mode: Mode) {
    let app = TestApp::spawn_with(mode, release).await;
    let (a, b) = (app.browser(), app.browser());
    a.post("/color", &[("color", "red")]).await;
    b.post("/color", &[("color", "red")]).await;

    let res = a
        .post("/session/fast-forward", &[("seconds", "1800")])
        .await;
    assert_eq!(res.status, 303);
    assert_eq!(res.location(), Some("/session"));
    let cookie = lab_cookie(&res);
    for attribute in ["HttpOnly", "SameSite=Lax", "Secure", "Path=/"] {
        assert!(cookie.contains(attribute), "{attribute} in {cookie}");
    }
    assert!(
        !cookie.contains("Expires"),
        "ends with the browser: {cookie}"
    );
    let refused = a.get("/session").await;
    assert!(refused.body.contains("runs 1800 s ahead of real time"));
    assert!(
        refused.trace().contains("refused=expired-idle"),
        "{}",
        refused.trace()
    );
    assert!(a
        .get("/color")
        .await
        .body
        .contains("You have not picked a color yet"));
    let other = b.get("/color").await;
    assert!(other.body.contains("<strong>red</strong>"));
    assert!(other.trace().contains("load=hit"), "{}", other.trace());
    assert!(idle_left(&b.get("/session.json").await.json()) > 1700);

    // The clock only moves forward; a reset brings this browser back to real time.
    let backwards = a.post("/session/fast-forward", &[("seconds", "-5")]).await;
    assert_eq!(backwards.status, 422);
    let res = a.post("/session/fast-forward", &[("reset", "true")]).await;
    assert_eq!(res.status, 303);
    assert!(
        lab_cookie(&res).contains("Max-Age=0"),
        "the lab cookie goes"
    );
    a.post("/color", &[("color", "blue")]).await;
    let again = a.get("/color").await;
    assert!(again.body.contains("<strong>blue</strong>"));
    assert!(idle_left(&a.get("/session.json").await.json()) > 1700);
}

/// A session begun while this browser's clock runs ahead is stored with real times: once back at
/// real time it has its whole idle window, neither more (a shifted creation) nor less.
async fn what_is_written_while_fast_forwarded_carries_real_time(mode: Mode) {
    let app = TestApp::spawn_with(mode, release).await;
    let a = app.browser();
    a.post("/session/fast-forward", &[("seconds", "1000")])
        .await;
    assert_eq!(a.post("/color", &[("color", "red")]).await.status, 303);
    let ahead = a.get("/session.json").await.json();
    let left = idle_left(&ahead);
    assert!((790..=800).contains(&left), "counted on this clock: {left}");
    if mode == Mode::Server {
        let skew: f64 = sqlx::query_scalar(
            "SELECT greatest(abs(extract(epoch FROM created_at - now())), \
             abs(extract(epoch FROM updated_at - now())))::float8 FROM sessions",
        )
        .fetch_one(&app.pool)
        .await
        .expect("one row");
        assert!(skew < 60.0, "the row holds real times, {skew} s off");
    }
    a.post("/session/fast-forward", &[("reset", "true")]).await;
    let left = idle_left(&a.get("/session.json").await.json());
    assert!((1790..=1800).contains(&left), "back at real time: {left}");
}

async fn cutting_the_database_fails_only_this_browsers_requests(mode: Mode) {
    let app = TestApp::spawn_with(mode, release).await;
    let (a, b) = (app.browser(), app.browser());
    a.post("/color", &[("color", "red")]).await;
    b.post("/color", &[("color", "red")]).await;

    let res = a.post("/labs/outage", &[("cut", "true")]).await;
    assert_eq!(res.status, 303);
    assert_eq!(res.location(), Some("/labs/outage"));
    assert!(lab_cookie(&res).contains("Secure"));
    assert!(a
        .get("/labs/outage")
        .await
        .body
        .contains("Bring the database back"));
    let color = a.get("/color").await;
    if mode == Mode::Server {
        assert_eq!(color.status, 503);
        assert!(color.body.contains("outage lab has cut the database off"));
    } else {
        assert_eq!(color.status, 200);
        assert!(color.body.contains("<strong>red</strong>"));
    }
    let signup = a
        .post("/signup", &[("username", "alice"), ("password", PW)])
        .await;
    assert_eq!(signup.status, 503);
    assert_eq!(a.get("/healthz").await.status, 503);
    assert_eq!(app.count("SELECT count(*) FROM users").await, 0);

    // Everyone else is untouched.
    assert!(b
        .get("/labs/outage")
        .await
        .body
        .contains("Cut the database off"));
    assert!(b.get("/color").await.body.contains("<strong>red</strong>"));
    assert_eq!(signup_status(&b, "bob").await, 303);
    assert_eq!(b.get("/healthz").await.status, 200);

    let res = a.post("/labs/outage", &[("cut", "false")]).await;
    assert!(lab_cookie(&res).contains("Max-Age=0"));
    assert!(a.get("/color").await.body.contains("<strong>red</strong>"));
    assert_eq!(signup_status(&a, "alice").await, 303);
    assert_eq!(a.get("/healthz").await.status, 200);
}

async fn signup_status(b: &Browser<'_>, name: &str) -> u16 {
    b.post("/signup", &[("username", name), ("password", PW)])
        .await
        .status
}

async fn a_forged_or_tampered_lab_cookie_changes_nothing(mode: Mode) {
    let app = TestApp::spawn_with(mode, release).await;
    let a = app.browser();
    a.post("/color", &[("color", "red")]).await;
    // A real one, sealed for another browser, with one byte changed.
    let other = app.browser();
    let sealed = other.post("/labs/outage", &[("cut", "true")]).await;
    let value = lab_cookie(&sealed)
        .split(';')
        .next()
        .and_then(|pair| pair.split_once('='))
        .map(|(_, v)| v.to_string())
        .expect("a value");
    let mut tampered = value.clone().into_bytes();
    tampered[20] = if tampered[20] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).expect("ascii");
    for forged in [
        tampered.as_str(),
        r#"{"offset":100000,"cut":true}"#,
        "eyJvZmZzZXQiOjEwMDAwMCwiY3V0Ijp0cnVlfQ",
    ] {
        a.set_cookie("__Host-lab", &urlencode(forged));
        let color = a.get("/color").await;
        assert_eq!(color.status, 200, "{forged}");
        assert!(color.body.contains("<strong>red</strong>"), "{forged}");
        assert!(a
            .get("/labs/outage")
            .await
            .body
            .contains("Cut the database off"));
        assert_eq!(a.get("/healthz").await.status, 200);
    }
    // The genuine one, in the browser it was sealed for, does cut.
    assert_eq!(other.get("/healthz").await.status, 503);
}

/// The cleanup task deletes by real time: a browser that fast-forwarded past its idle window
/// loses its session, but its row stays until real time has passed the deadline.
#[rocket::async_test]
async fn the_cleanup_task_keeps_real_time_whatever_a_browser_fast_forwarded() {
    let app = TestApp::spawn_with(Mode::Server, |f| {
        release(f).merge(("session_cleanup_interval", 1))
    })
    .await;
    let a = app.browser();
    a.post("/color", &[("color", "red")]).await;
    a.post("/session/fast-forward", &[("seconds", "1800")])
        .await;
    assert!(a
        .get("/color")
        .await
        .trace()
        .contains("refused=expired-idle"));
    // A row expired by real time: once it is gone, a pass of the task has run.
    sqlx::query(
        "INSERT INTO sessions (id, data, created_at, updated_at, expires_at, absolute_expires_at) \
         VALUES ('expired', '{}', now() - interval '1 hour', now() - interval '1 hour', \
         now() - interval '1 second', now() + interval '1 day')",
    )
    .execute(&app.pool)
    .await
    .expect("insert");
    let mut gone = false;
    for _ in 0..50 {
        if app
            .count("SELECT count(*) FROM sessions WHERE id = 'expired'")
            .await
            == 0
        {
            gone = true;
            break;
        }
        rocket::tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(gone, "the cleanup task ran");
    assert_eq!(
        app.count("SELECT count(*) FROM sessions WHERE data->>'color' = 'red'")
            .await,
        1,
        "the fast-forwarded browser's row is alive by real time"
    );
    // Real time passing (the test's clock) does end it.
    app.clock().advance(1801);
    let mut left = 1;
    for _ in 0..50 {
        left = app.session_rows().await;
        if left == 0 {
            break;
        }
        rocket::tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(left, 0);
}

/// The `classroom` profile of Rocket.toml as a class server runs it, on a test database. The
/// local client gives no peer address, so every request counts against one address: the room's.
/// The clock stands still (the whole class at one instant, the throttles' worst case): no token
/// comes back however long the hashes take.
async fn classroom_app() -> TestApp {
    let db_name = fresh_db_name();
    let db_url = url_for(&db_name);
    let figment = |_| {
        session_lab::figment()
            .merge(("databases.session_lab.url", db_url.as_str()))
            .merge(("secret_key", SECRET.to_vec()))
            .merge(("site_origin", "http://192.168.1.20:8000"))
            .merge(("log_level", "off"))
            .select("classroom")
    };
    TestApp::spawn_on_manual_clock(Mode::Server, &db_name, &db_url, figment).await
}

#[rocket::async_test]
async fn a_class_behind_one_address_signs_up_and_logs_in_while_guessing_one_name_is_stopped() {
    let app = classroom_app().await;
    for i in 0..30 {
        let name = format!("student{i:02}");
        let b = app.browser();
        assert_eq!(signup_status(&b, &name).await, 303, "signup {i}");
        let again = app.browser();
        assert_eq!(login(&again, &name, PW).await.status, 303, "login {i}");
    }
    assert_eq!(app.count("SELECT count(*) FROM users").await, 30);

    let guesser = app.browser();
    let mut statuses = Vec::new();
    for i in 0..40 {
        let guess = format!("wrong password {i}");
        statuses.push(login(&guesser, "student29", &guess).await.status);
    }
    // Ten attempts at one name, and student29's own login just before was one of them (on the
    // standing clock, no token comes back: the name's interval is 30 s).
    assert!(statuses[..9].iter().all(|s| *s == 401), "{statuses:?}");
    assert!(statuses[9..].iter().all(|s| *s == 429), "{statuses:?}");
    // Then one more guess per 30 s.
    app.clock().advance(29);
    assert_eq!(login(&guesser, "student29", "not yet").await.status, 429);
    app.clock().advance(1);
    assert_eq!(login(&guesser, "student29", "one more").await.status, 401);
    assert_eq!(login(&guesser, "student29", "and again").await.status, 429);
}

/// Seventy learners behind the room's one address post at once, before any of them follows
/// the redirect: every one still finds what its own POST did (the default profile's per-address
/// bound, 64, would have let the six oldest go).
#[rocket::async_test]
async fn a_class_behind_one_address_finds_every_report_waiting_at_once() {
    let app = classroom_app().await;
    let class: Vec<Browser> = (0..70).map(|_| app.browser()).collect();
    for (i, b) in class.iter().enumerate() {
        let color = format!("#00{i:02x}00");
        assert_eq!(b.post("/color", &[("color", &color)]).await.status, 303);
    }
    for (i, b) in class.iter().enumerate() {
        let page = b.get("/color").await;
        let said = page
            .body
            .split("What just happened</strong>")
            .nth(1)
            .and_then(|rest| rest.split("</section>").next())
            .unwrap_or("");
        assert!(
            said.contains("(POST &#x2F;color)") && said.contains("Changed: <code>color</code>"),
            "learner {i}: {said}"
        );
    }
}

fn serve_classroom(env: &[(&str, &str)]) -> std::process::Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_session-lab"));
    command
        .args(["--mode", "cookie"])
        .env("ROCKET_PROFILE", "classroom")
        // Nothing listens there: the refusal must come before any database is needed.
        .env("DATABASE_URL", "postgres://postgres@127.0.0.1:1/unused")
        .env_remove("ROCKET_SITE_ORIGIN")
        .env_remove("ROCKET_SECRET_KEY");
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().expect("the binary runs")
}

#[rocket::async_test]
async fn the_classroom_profile_refuses_to_start_without_an_origin_or_a_key() {
    let key = SECRET
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>();
    let no_origin = serve_classroom(&[("ROCKET_SECRET_KEY", &key)]);
    let stderr = String::from_utf8_lossy(&no_origin.stderr);
    assert_eq!(no_origin.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("needs site_origin"), "{stderr}");
    assert!(stderr.contains("hostname -I"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");

    let no_key = serve_classroom(&[("ROCKET_SITE_ORIGIN", "http://192.168.1.20:8000")]);
    let stderr = String::from_utf8_lossy(&no_key.stderr);
    assert_eq!(no_key.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("needs a secret_key"), "{stderr}");
    assert!(
        stderr.contains("head -c64 /dev/urandom | base64 -w0"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}
