//! The `instance` setting: every response names the process that served it (`Served-By`, and the
//! footer of every page), so that behind a load balancer a student can see a session follow the
//! browser from one instance to the other — and see another key refuse it.

use crate::common::*;
use session_lab::settings::Mode;

/// The footer line a page carries for `name`.
fn footer(name: &str) -> String {
    format!("Served by instance <code>{name}</code>")
}

async fn every_response_names_the_instance_that_served_it(mode: Mode) {
    let app = TestApp::spawn_with(mode, |f| f.merge(("instance", "lab-a"))).await;
    let b = app.browser();
    for path in ["/", "/color", "/notes", "/session", "/login", "/nowhere"] {
        let res = b.get(path).await;
        assert_eq!(res.header("Served-By"), Some("lab-a"), "{path}");
        assert!(res.body.contains(&footer("lab-a")), "{path}: no footer");
        let sent = res
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("Served-By"))
            .count();
        assert_eq!(sent, 1, "{path}: Served-By sent {sent} times");
    }
    assert_eq!(b.get("/nowhere").await.status, 404);
    // JSON, a redirect and a refused POST carry the header too: devtools shows it on each.
    let json = b.get("/session.json").await;
    assert_eq!(json.header("Served-By"), Some("lab-a"));
    let posted = b.post("/color", &[("color", "red")]).await;
    assert_eq!(posted.status, 303);
    assert_eq!(posted.header("Served-By"), Some("lab-a"));
    let refused = b.post_raw("/color", &[("color", "red")], &[]).await;
    assert_eq!(refused.status, 403);
    assert_eq!(refused.header("Served-By"), Some("lab-a"));
    assert!(refused.body.contains(&footer("lab-a")));
}

async fn without_a_setting_the_instance_is_the_hostname_and_port(mode: Mode) {
    let app = TestApp::spawn_with(mode, |f| f.merge(("port", 8123))).await;
    let res = app.browser().get("/").await;
    let name = res.header("Served-By").expect("a Served-By header");
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").expect("a hostname");
    assert_eq!(name, format!("{}:8123", host.trim()));
    assert!(res.body.contains(&footer(name)));
}

async fn a_session_follows_the_browser_to_another_instance_with_the_same_key(mode: Mode) {
    let a = TestApp::spawn_with(mode, |f| f.merge(("instance", "lab-a"))).await;
    let b = TestApp::spawn_on(mode, &a.db_name, &a.db_url, |f| {
        f.merge(("instance", "lab-b"))
    })
    .await;
    let on_a = a.browser();
    let set = on_a.post("/color", &[("color", "teal")]).await;
    assert_eq!(set.status, 303);
    assert_eq!(set.header("Served-By"), Some("lab-a"));
    // The same browser (its whole cookie jar) now reaches the other instance.
    let on_b = b.browser();
    for (name, value) in on_a.cookies() {
        on_b.set_cookie(&name, &value);
    }
    let read = on_b.get("/color").await;
    assert_eq!(read.header("Served-By"), Some("lab-b"));
    assert!(read.body.contains("<strong>teal</strong>"), "{}", read.body);
    assert!(read.trace().contains("load=hit"), "{}", read.trace());
    assert!(read.body.contains(&footer("lab-b")));
    // And its forms post there too: the CSRF token is sealed with the same key.
    let changed = on_b.post("/color", &[("color", "navy")]).await;
    assert_eq!(changed.status, 303);
    if mode == Mode::Server {
        let rows = a
            .count("SELECT count(*) FROM sessions WHERE data->>'color' = 'navy'")
            .await;
        assert_eq!(rows, 1, "the one shared row holds the new color");
    }
}

async fn another_key_refuses_the_cookie_as_undecryptable(mode: Mode) {
    let a = TestApp::spawn_with(mode, |f| f.merge(("instance", "lab-a"))).await;
    let c = TestApp::spawn_on(mode, &a.db_name, &a.db_url, |f| {
        f.merge(("instance", "lab-c"))
            .merge(("secret_key", vec![9u8; 64]))
    })
    .await;
    let on_a = a.browser();
    assert_eq!(on_a.post("/color", &[("color", "teal")]).await.status, 303);
    let on_c = c.browser();
    for (name, value) in on_a.cookies() {
        on_c.set_cookie(&name, &value);
    }
    let read = on_c.get("/color").await;
    assert_eq!(read.status, 200);
    assert_eq!(read.header("Served-By"), Some("lab-c"));
    assert!(read.body.contains("You have not picked a color yet"));
    assert!(
        read.trace().contains("load=miss") && read.trace().contains("refused=undecryptable"),
        "{}",
        read.trace()
    );
}

both_modes!(
    every_response_names_the_instance_that_served_it,
    without_a_setting_the_instance_is_the_hostname_and_port,
    a_session_follows_the_browser_to_another_instance_with_the_same_key,
    another_key_refuses_the_cookie_as_undecryptable,
);
