//! The replay and tamper labs in both modes: what a kept copy of the session cookie gets after a
//! logout, a color change and a sign-out everywhere else; that replaying writes nothing; that a
//! changed byte is refused while the signed-only and plain demonstrations behave as they should;
//! and that looking at a lab creates no session.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use crate::common::*;
use session_lab::settings::Mode;

const PW: &str = "correct horse battery";

all_modes![
    a_copy_replayed_after_logout,
    a_copy_replayed_after_a_color_change_and_put_back,
    putting_a_copy_back_is_written_by_the_session_layer_byte_for_byte,
    a_copy_replayed_after_signing_out_everywhere_else,
    keeping_and_replaying_a_copy_write_nothing,
    the_replay_forms_refuse_what_they_cannot_do,
    flipping_any_byte_of_the_sealed_cookie_is_refused,
    a_signed_only_cookie_is_readable_but_unforgeable,
    a_plain_cookie_is_anyones_to_forge,
    viewing_the_labs_creates_no_row_and_no_session_cookie,
];

/// The text of the element with `id`, up to the end of its paragraph or cell.
fn part<'a>(body: &'a str, id: &str) -> &'a str {
    let marker = format!("id=\"{id}\"");
    let start = body
        .find(&marker)
        .unwrap_or_else(|| panic!("no {id} in:\n{body}"));
    let rest = &body[start..];
    let end = rest
        .find("</p>")
        .into_iter()
        .chain(rest.find("</td>"))
        .min()
        .unwrap_or(rest.len());
    &rest[..end]
}

/// Keeps a copy, checking the answer: a 303 to the lab, the lab cookie, nothing else.
async fn keep_copy(b: &Browser<'_>) {
    let res = b.post("/labs/replay/keep", &[]).await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(res.location(), Some("/labs/replay"));
    assert!(res.set_cookie(b.app.mode.cookie_name()).is_none());
    // Only the lab cookie (the landing page's one-time report cookie aside, which it removes).
    let set: Vec<&str> = res
        .set_cookies()
        .into_iter()
        .filter(|c| !c.starts_with(b.app.mode.report_cookie_name()))
        .collect();
    assert_eq!(set.len(), 1, "{set:?}");
}

/// Replays the kept copy the way the button does and returns the page that shows it.
async fn replay(b: &Browser<'_>) -> Res {
    let res = b.post("/labs/replay/replay", &[]).await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(res.location(), Some("/labs/replay?replay=1"));
    let page = b.get("/labs/replay?replay=1").await;
    assert_eq!(page.status, 200, "{}", page.body);
    page
}

async fn set_color(b: &Browser<'_>, color: &str) {
    let res = b.post("/color", &[("color", color)]).await;
    assert_eq!(res.status, 303, "{}", res.body);
}

async fn a_copy_replayed_after_logout(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let b = app.browser();
    assert_eq!(signup(&b, "alice", PW).await.status, 303);
    set_color(&b, "red").await;
    keep_copy(&b).await;
    assert_eq!(b.post("/logout", &[]).await.status, 303);
    let page = replay(&b).await;
    let (color, account) = (
        part(&page.body, "replay-color"),
        part(&page.body, "replay-account"),
    );
    if can_revoke_one_session(mode) {
        // The row is gone, and every copy of the id with it.
        assert!(color.contains("Refused: <code>unknown</code>"), "{color}");
        assert!(
            account.contains("Refused: <code>unknown</code>"),
            "{account}"
        );
    } else {
        // Logout only told this browser to drop its cookie; the copy still holds the session.
        assert!(color.contains("<strong>red</strong>"), "{color}");
        assert!(account.contains("Logged in as alice"), "{account}");
    }
}

async fn a_copy_replayed_after_a_color_change_and_put_back(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let b = app.browser();
    set_color(&b, "red").await;
    keep_copy(&b).await;
    let kept = b.session_cookie().expect("a session cookie");
    set_color(&b, "blue").await;
    let page = replay(&b).await;
    let color = part(&page.body, "replay-color");
    // A cookie that is the session carries its old data; an id reads the row as it is now.
    let seen = if the_cookie_is_the_session(mode) {
        "red"
    } else {
        "blue"
    };
    assert!(
        color.contains(&format!("<strong>{seen}</strong>")),
        "{color}"
    );
    let res = b.post("/labs/replay/put-back", &[]).await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(res.location(), Some("/labs/replay"));
    let line = res
        .set_cookie(mode.cookie_name())
        .expect("put-back sets the session cookie");
    assert!(
        line.starts_with(&format!("{}={kept};", mode.cookie_name())),
        "{line}"
    );
    assert!(
        line.contains("HttpOnly") && line.contains("Path=/"),
        "{line}"
    );
    let res = b.get("/color").await;
    assert!(
        res.body.contains(&format!("<strong>{seen}</strong>")),
        "after put-back the color page shows {seen}"
    );
}

/// "Put back" is the session layer's write, not the handler's: one `Set-Cookie` for the session
/// cookie, the kept value byte for byte with exactly the session cookie's attributes, the trace's
/// `save=write`, no row written, and the report on the page it lands on.
async fn putting_a_copy_back_is_written_by_the_session_layer_byte_for_byte(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let b = app.browser();
    set_color(&b, "red").await;
    keep_copy(&b).await;
    let kept = b.session_cookie().expect("a session cookie");
    set_color(&b, "blue").await;
    let rows = app.session_rows().await;
    let name = mode.cookie_name();
    let res = b.post("/labs/replay/put-back", &[]).await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(res.location(), Some("/labs/replay"));
    let lines: Vec<&str> = res
        .set_cookies()
        .into_iter()
        .filter(|l| l.starts_with(&format!("{name}=")))
        .collect();
    assert_eq!(
        lines,
        vec![format!("{name}={kept}; HttpOnly; SameSite=Lax; Path=/").as_str()]
    );
    assert!(res.trace().contains("save=write"), "{}", res.trace());
    assert_eq!(app.session_rows().await, rows, "no row written or deleted");
    assert_eq!(b.session_cookie().as_deref(), Some(kept.as_str()));
    let page = b.get("/labs/replay").await;
    assert!(
        page.body.contains("Put the kept copy back as your"),
        "{}",
        page.body
    );
}

async fn a_copy_replayed_after_signing_out_everywhere_else(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let b = app.browser();
    assert_eq!(signup(&b, "alice", PW).await.status, 303);
    set_color(&b, "red").await;
    keep_copy(&b).await;
    let res = b.post("/account/sessions/end-others", &[]).await;
    assert_eq!(res.status, 303, "{}", res.body);
    let page = replay(&b).await;
    let (color, account) = (
        part(&page.body, "replay-color"),
        part(&page.body, "replay-account"),
    );
    assert!(color.contains("<strong>red</strong>"), "{color}");
    if can_revoke_one_session(mode) {
        // "All others" deleted the other rows; the copy carries this session's id, which stays.
        assert!(account.contains("Logged in as alice"), "{account}");
    } else {
        // The epoch moved on; only the account page reads it, so the color page still accepts.
        assert!(
            account.contains("Refused: <code>old-epoch</code>"),
            "{account}"
        );
        assert!(page
            .body
            .contains("Only account pages read <code>users</code>"));
    }
    // The browser itself, re-stamped with the new epoch, stays logged in.
    assert_eq!(b.get("/account").await.status, 200);
}

/// Every row as it stands, to compare before and after.
async fn rows(app: &TestApp) -> Vec<(String, String, String)> {
    sqlx::query_as(
        "SELECT id, data::text, updated_at::text || ' ' || expires_at::text FROM sessions ORDER BY id",
    )
    .fetch_all(&app.pool)
    .await
    .expect("rows")
}

async fn keeping_and_replaying_a_copy_write_nothing(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let b = app.browser();
    assert_eq!(signup(&b, "alice", PW).await.status, 303);
    set_color(&b, "red").await;
    let before = rows(&app).await;
    let cookie = b.session_cookie();
    let res = b.post("/labs/replay/keep", &[]).await;
    assert_eq!(res.status, 303);
    // Keeping a copy never opened the session.
    assert!(
        res.trace().contains("load=none; save=none; queries=0"),
        "{}",
        res.trace()
    );
    let res = b.post("/labs/replay/replay", &[]).await;
    assert_eq!(res.status, 303);
    // Only the report of what it did, for the page it lands on.
    let report = mode.report_cookie_name();
    for line in res.set_cookies() {
        assert!(line.starts_with(&format!("{report}=")), "{line}");
    }
    assert!(res.trace().contains("save=none"), "{}", res.trace());
    for _ in 0..2 {
        let page = b.get("/labs/replay?replay=1").await;
        assert!(page.body.contains("Logged in as alice"));
        assert!(page.set_cookie(mode.cookie_name()).is_none());
        assert!(page.trace().contains("save=none"), "{}", page.trace());
        // The page's own session read, then the replay's: the copy's row (server mode) and the
        // users read of the account check — all counted, as the request ran them.
        // (In redis mode the two session reads are Redis commands.)
        let queries = match mode {
            Mode::Server => "queries=3",
            Mode::Cookie => "queries=1",
            Mode::Redis => "queries=1; redis=2",
        };
        assert!(page.trace().ends_with(queries), "{}", page.trace());
    }
    assert_eq!(rows(&app).await, before);
    assert_eq!(b.session_cookie(), cookie);
    // After logout, a replay does not bring the row back either.
    assert_eq!(b.post("/logout", &[]).await.status, 303);
    replay(&b).await;
    assert_eq!(app.session_rows().await, 0);
    assert_eq!(b.session_cookie(), None);
}

async fn the_replay_forms_refuse_what_they_cannot_do(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let b = app.browser();
    let res = b.post("/labs/replay/keep", &[]).await;
    assert_eq!(res.status, 422);
    assert!(
        res.body.contains("no session cookie to copy"),
        "{}",
        res.body
    );
    for action in ["replay", "put-back"] {
        let res = b.post(&format!("/labs/replay/{action}"), &[]).await;
        assert_eq!(res.status, 422, "{action}");
        assert!(res.body.contains("no kept copy"), "{action}");
        assert!(res.set_cookie(mode.cookie_name()).is_none());
    }
    let res = b
        .post_raw("/labs/replay/keep", &[("csrf_token", "wrong")], &[])
        .await;
    assert_eq!(res.status, 403);
    // A session too large to copy: a sealed copy of a near-full cookie passes 4096 bytes.
    set_color(&b, "red").await;
    for i in 0..30 {
        let res = b.post("/notes", &[("note", &"n".repeat(90 + i))]).await;
        if res.status != 303 {
            break;
        }
    }
    let size = b.session_cookie().map_or(0, |v| v.len());
    let res = b.post("/labs/replay/keep", &[]).await;
    if the_cookie_is_the_session(mode) {
        assert!(size > 3000, "{size}");
        assert_eq!(res.status, 413, "{}", res.body);
        assert!(res.body.contains("over the 4096"), "{}", res.body);
        assert!(res.set_cookies().is_empty());
    } else {
        assert_eq!(res.status, 303, "an id is small to copy");
    }
    // Forgetting removes the lab cookie, and there is nothing left to replay.
    let c = app.browser();
    set_color(&c, "red").await;
    keep_copy(&c).await;
    let res = c.post("/labs/replay/forget", &[]).await;
    assert_eq!(res.status, 303);
    let removal = res.set_cookies().join("\n");
    assert!(removal.contains("Max-Age=0"), "{removal}");
    assert_eq!(c.post("/labs/replay/replay", &[]).await.status, 422);
}

async fn flipping_any_byte_of_the_sealed_cookie_is_refused(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let b = app.browser();
    set_color(&b, "red").await;
    let page = b.get("/labs/tamper").await;
    assert_eq!(page.status, 200);
    let last: usize = page
        .body
        .split("Byte to change (0 to ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .expect("the index range");
    let cookie = b.session_cookie();
    for i in 0..=last {
        let res = b.get(&format!("/labs/tamper?flip={i}")).await;
        assert_eq!(res.status, 200, "byte {i}");
        let verdict = part(&res.body, "sealed-flipped");
        assert!(
            verdict.contains("<strong>refused</strong>: <code>undecryptable</code>"),
            "byte {i}: {verdict}"
        );
        assert!(res.set_cookie(mode.cookie_name()).is_none(), "byte {i}");
    }
    assert_eq!(b.session_cookie(), cookie);
    assert!(b.get("/color").await.body.contains("<strong>red</strong>"));
    let res = b.post("/labs/tamper/flip", &[("index", "3")]).await;
    assert_eq!(res.status, 303);
    assert_eq!(res.location(), Some("/labs/tamper?flip=3"));
    let past = (last + 1).to_string();
    for (bad, why) in [(past.as_str(), "past the end"), ("x", "not a byte index")] {
        let res = b.post("/labs/tamper/flip", &[("index", bad)]).await;
        assert_eq!(res.status, 422, "{bad}");
        assert!(res.body.contains(why), "{bad}: {}", res.body);
    }
    // Without a session, the example is sealed and refused just the same.
    let fresh = app.browser();
    let res = fresh.get("/labs/tamper?flip=0").await;
    assert!(res.body.contains("an example session"));
    assert!(part(&res.body, "sealed-flipped").contains("undecryptable"));
}

async fn a_signed_only_cookie_is_readable_but_unforgeable(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let b = app.browser();
    assert_eq!(signup(&b, "alice", PW).await.status, 303);
    set_color(&b, "rebeccapurple").await;
    let page = b.get("/labs/tamper?flip=2").await;
    // Readable: the payload decodes without any key.
    let payload = page
        .body
        .split("<pre id=\"signed-payload\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .expect("the signed payload");
    let json: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url")).unwrap();
    assert_eq!(json["color"], "rebeccapurple");
    assert_eq!(json["username"], "alice");
    let alice: i64 = sqlx::query_scalar("SELECT id FROM users WHERE username = 'alice'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(json["user_id"], alice);
    // Unforgeable: a new user_id, or one changed byte, breaks the tag.
    assert!(part(&page.body, "signed-forged").contains("<strong>refused</strong>: the HMAC tag"));
    assert!(part(&page.body, "signed-flipped").contains("<strong>refused</strong>: the HMAC tag"));
}

async fn a_plain_cookie_is_anyones_to_forge(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let b = app.browser();
    assert_eq!(signup(&b, "alice", PW).await.status, 303);
    let page = b.get("/labs/tamper").await;
    let alice: i64 = sqlx::query_scalar("SELECT id FROM users WHERE username = 'alice'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    // The forgery claims user 1 (often the administrator), or 2 when that is alice herself.
    let target = if alice == 1 { 2 } else { 1 };
    let forged = format!("<strong>believed</strong>: user_id {target}");
    assert!(
        part(&page.body, "plain-forged").contains(&forged),
        "{}",
        part(&page.body, "plain-forged")
    );
}

async fn viewing_the_labs_creates_no_row_and_no_session_cookie(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let b = app.browser();
    for path in [
        "/labs/replay",
        "/labs/replay?replay=1",
        "/labs/tamper",
        "/labs/tamper?flip=0",
        "/labs/tamper?flip=9999",
    ] {
        let res = b.get(path).await;
        assert!(
            res.status == 200 || res.status == 422,
            "{path}: {}",
            res.status
        );
        assert!(res.set_cookie(mode.cookie_name()).is_none(), "{path}");
        assert!(res.trace().contains("save=none"), "{path}: {}", res.trace());
        assert!(res.body.contains("labs/"), "each lab links to the other");
    }
    assert_eq!(app.session_rows().await, 0);
    assert_eq!(b.session_cookie(), None);
    // With a session, looking still adds nothing.
    set_color(&b, "red").await;
    let rows_before = app.session_rows().await;
    for path in ["/labs/replay", "/labs/tamper"] {
        let res = b.get(path).await;
        assert!(res.set_cookie(mode.cookie_name()).is_none(), "{path}");
    }
    assert_eq!(app.session_rows().await, rows_before);
}
