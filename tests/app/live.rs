//! The inspector's live view: `static/inspector.js` polls `/session.json` every few seconds while
//! the page stays open. A poll is an ordinary read of the session: with no session it creates
//! nothing (no row, no cookie of any kind), and with one it pushes the idle deadline only once
//! less than half of the idle window is left — at most once per half window, however often it
//! polls.

use crate::common::*;
use session_lab::settings::Mode;
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

both_modes![
    polling_without_a_session_creates_nothing,
    polling_a_session_moves_the_idle_deadline_at_most_once_per_half_window,
];

/// The idle window of these tests, in seconds.
const IDLE: i64 = 600;

fn idle_deadline(res: &Res) -> OffsetDateTime {
    let text = res.json()["idle_expires_at"]
        .as_str()
        .expect("a session has an idle deadline")
        .to_string();
    OffsetDateTime::parse(&text, &Rfc3339).expect("an RFC 3339 time")
}

/// Whether the deadline moved forward. Cookie mode seals whole seconds, so the response that
/// refreshes shows the deadline with its fraction and later reads without: less than a second is
/// no move.
fn moved(before: OffsetDateTime, after: OffsetDateTime) -> bool {
    assert!(
        after > before - Duration::seconds(1),
        "the deadline went back: {before} → {after}"
    );
    after - before >= Duration::seconds(1)
}

async fn polling_without_a_session_creates_nothing(mode: Mode) {
    let app = TestApp::spawn_with(mode, |f| f.merge(("session_idle_timeout", IDLE))).await;
    let b = app.browser();
    for poll in 0..20 {
        let res = b.get("/session.json").await;
        assert_eq!(res.status, 200, "poll {poll}");
        // Not even the CSRF cookie: that one comes only with HTML pages that carry a form.
        assert!(
            res.set_cookies().is_empty(),
            "poll {poll} set {:?}",
            res.set_cookies()
        );
        assert!(
            res.trace().contains("load=none") && res.trace().contains("save=none"),
            "poll {poll}: {}",
            res.trace()
        );
        let json = res.json();
        assert!(json["cookie"].is_null(), "poll {poll}: {json}");
        assert!(json["expires_at"].is_null(), "poll {poll}: {json}");
        app.clock().advance(IDLE / 4);
    }
    assert!(b.cookies().is_empty(), "{:?}", b.cookies());
    assert_eq!(app.session_rows().await, 0);
}

async fn polling_a_session_moves_the_idle_deadline_at_most_once_per_half_window(mode: Mode) {
    let app = TestApp::spawn_with(mode, |f| f.merge(("session_idle_timeout", IDLE))).await;
    let b = app.browser();
    assert_eq!(b.post("/color", &[("color", "teal")]).await.status, 303);
    let rows = app.session_rows().await;
    assert_eq!(rows, if stores_rows(mode) { 1 } else { 0 });
    let (session_name, _) = app.cookie_names();
    let first = b.get("/session.json").await;
    let mut deadline = idle_deadline(&first);
    let cookie = b.session_cookie().expect("a session cookie");

    // 20 polls in a row, as the page makes them a few seconds apart: nothing is written.
    for poll in 0..20 {
        let res = b.get("/session.json").await;
        assert_eq!(res.status, 200, "poll {poll}");
        assert!(
            res.set_cookies().is_empty(),
            "poll {poll}: {:?}",
            res.set_cookies()
        );
        assert_eq!(
            res.trace(),
            format!(
                "mode={}; load=hit; save=none; queries={}",
                mode.as_str(),
                if stores_rows(mode) { 1 } else { 0 }
            ),
            "poll {poll}"
        );
        assert_eq!(
            idle_deadline(&res),
            deadline,
            "poll {poll} moved the deadline"
        );
    }
    assert_eq!(b.session_cookie().as_deref(), Some(cookie.as_str()));

    // 20 polls spread over two idle windows, one every tenth of it: the deadline moves only
    // once half the window has gone since it last moved.
    let step = IDLE / 10;
    let mut since_move = 0;
    let mut moves = 0;
    for poll in 0..20 {
        app.clock().advance(step);
        since_move += step;
        let res = b.get("/session.json").await;
        assert_eq!(res.status, 200, "poll {poll}");
        let json = res.json();
        assert!(json["refused"].is_null(), "poll {poll}: {json}");
        assert_eq!(json["data"]["color"], "teal", "poll {poll}");
        for line in res.set_cookies() {
            assert!(
                line.starts_with(&format!("{session_name}=")),
                "poll {poll} set {line}"
            );
        }
        let now = idle_deadline(&res);
        if !moved(deadline, now) {
            assert!(
                since_move <= IDLE / 2,
                "poll {poll}: no refresh past half the window"
            );
            assert!(
                res.trace().contains("save=none"),
                "poll {poll}: {}",
                res.trace()
            );
            assert!(res.set_cookies().is_empty(), "poll {poll}");
        } else {
            // The layer's clock is the wall clock plus the test's offset, so a few milliseconds
            // more than `since_move` have passed: at exactly half the window it may refresh.
            assert!(
                since_move >= IDLE / 2,
                "poll {poll}: refreshed with {} of {IDLE} s left",
                IDLE - since_move
            );
            assert!(
                res.trace().contains("save=write"),
                "poll {poll}: {}",
                res.trace()
            );
            if stores_rows(mode) {
                // The row's times change; the cookie (only the id) does not.
                assert!(res.set_cookies().is_empty(), "poll {poll}");
            }
            moves += 1;
            since_move = 0;
            deadline = now;
        }
        assert_eq!(app.session_rows().await, rows, "poll {poll} created a row");
    }
    // Over two windows: at most one move per half window, and sliding expiry did happen.
    assert!((1..=4).contains(&moves), "{moves} moves");
    if stores_rows(mode) {
        assert_eq!(b.session_cookie().as_deref(), Some(cookie.as_str()));
    }
}
