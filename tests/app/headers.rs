//! What every response tells the browser (CSP, Referrer-Policy, nosniff, X-Frame-Options, HSTS with Secure
//! cookies), the `__Host-` cookie names with Secure cookies, pages without inline script or
//! style, the static files that replace them, and the origin check against the configured site.

use crate::common::*;
use session_lab::headers::{CONTENT_SECURITY_POLICY, STRICT_TRANSPORT_SECURITY};
use session_lab::settings::Mode;

const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
                   connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The headers every response carries, whatever made it.
fn assert_security_headers(res: &Res, what: &str, hsts: bool) {
    assert_eq!(res.header("Content-Security-Policy"), Some(CSP), "{what}");
    assert_eq!(res.header("Referrer-Policy"), Some("same-origin"), "{what}");
    assert_eq!(
        res.header("X-Content-Type-Options"),
        Some("nosniff"),
        "{what}"
    );
    let expected = hsts.then_some("max-age=31536000");
    assert_eq!(res.header("Strict-Transport-Security"), expected, "{what}");
    // The Shield's, named in lib.rs: older browsers' framing rule beside the CSP's.
    assert_eq!(res.header("X-Frame-Options"), Some("SAMEORIGIN"), "{what}");
    // One of each: a second, different value would leave the browser to pick.
    for name in [
        "Content-Security-Policy",
        "Referrer-Policy",
        "X-Content-Type-Options",
        "X-Frame-Options",
    ] {
        let n = res
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .count();
        assert_eq!(n, 1, "{what}: {name} sent {n} times");
    }
}

async fn every_response_carries_the_security_headers(mode: Mode) {
    // The constants the app uses are the values this test spells out.
    assert_eq!(CONTENT_SECURITY_POLICY, CSP);
    assert_eq!(STRICT_TRANSPORT_SECURITY, "max-age=31536000");
    let app = TestApp::spawn(mode).await;
    let b = app.browser();
    for path in [
        "/",
        "/color",
        "/notes",
        "/session",
        "/session.json",
        "/login",
        "/nowhere",
    ] {
        let res = b.get(path).await;
        assert_security_headers(&res, path, false);
    }
    let css = asset_url(&b.get("/").await.body, "site.css");
    assert_security_headers(&b.get(&css).await, "site.css", false);
    let posted = b.post("/color", &[("color", "red")]).await;
    assert_eq!(posted.status, 303);
    assert_security_headers(&posted, "POST /color", false);
    let refused = b.post_raw("/color", &[("color", "red")], &[]).await;
    assert_eq!(refused.status, 403);
    assert_security_headers(&refused, "a refused POST", false);
}

async fn secure_cookies_take_the_host_prefix_and_bring_hsts(mode: Mode) {
    let app = TestApp::spawn_with(mode, |f| f.merge(("session_cookie_secure", true))).await;
    let (session, csrf) = app.cookie_names();
    assert_eq!(session, format!("__Host-{}", mode.cookie_name()));
    assert_eq!(csrf, format!("__Host-{}", mode.csrf_cookie_name()));
    let b = app.browser();
    let page = b.get("/color").await;
    assert_security_headers(&page, "GET /color", true);
    let line = page.set_cookie(csrf).expect("a __Host- CSRF cookie");
    // What browsers demand of a __Host- cookie: Secure, Path=/, no Domain.
    for attr in ["Secure", "Path=/", "HttpOnly", "SameSite=Lax"] {
        assert!(line.split("; ").any(|a| a == attr), "{line}: {attr}");
    }
    assert!(!line.contains("Domain"), "{line}");
    let res = b.post("/color", &[("color", "teal")]).await;
    assert_eq!(res.status, 303);
    assert_security_headers(&res, "POST /color", true);
    let line = res.set_cookie(session).expect("a __Host- session cookie");
    for attr in ["Secure", "Path=/", "HttpOnly", "SameSite=Lax"] {
        assert!(line.split("; ").any(|a| a == attr), "{line}: {attr}");
    }
    assert!(!line.contains("Domain"), "{line}");
    // No cookie of the app goes out under a plain name.
    for line in res.set_cookies().into_iter().chain(page.set_cookies()) {
        assert!(line.starts_with("__Host-"), "{line}");
    }
    let json = b.get("/session.json").await.json();
    assert_eq!(json["cookie"]["name"], session);
    assert_eq!(json["data"]["color"], "teal");
    // A cookie under the plain name is not this app's any more: it opens nothing.
    let other = app.browser();
    other.set_cookie(
        mode.cookie_name(),
        &b.session_cookie().expect("session cookie"),
    );
    assert_eq!(
        other.get("/session.json").await.json()["data"]["color"],
        serde_json::Value::Null
    );
}

async fn without_secure_cookies_the_names_stay_plain(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    assert_eq!(
        app.cookie_names(),
        (mode.cookie_name(), mode.csrf_cookie_name())
    );
    let b = app.browser();
    let res = b.post("/color", &[("color", "red")]).await;
    assert!(
        res.set_cookie(mode.cookie_name()).is_some(),
        "{:?}",
        res.set_cookies()
    );
    assert!(res.set_cookies().iter().all(|l| !l.starts_with("__Host-")));
}

/// The `href`/`src` of the asset the page links, as the page wrote it.
fn asset_url(html: &str, name: &str) -> String {
    let marker = format!("/static/{name}?v=");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no link to {name}:\n{html}"));
    let end = start + html[start..].find('"').expect("a quoted URL");
    html[start..end].to_string()
}

/// No inline script, `<style>` or `style=`/`on…=` attribute: what the CSP would block.
fn assert_no_inline_code(html: &str, what: &str) {
    let lower = html.to_ascii_lowercase();
    assert!(!lower.contains("<style"), "{what}: a <style> element");
    assert!(!lower.contains(" style="), "{what}: a style attribute");
    for (i, _) in lower.match_indices("<script") {
        let tag = &lower[i..i + lower[i..].find('>').expect("a closed tag")];
        assert!(tag.contains(" src="), "{what}: an inline script: {tag}");
    }
    let bytes = lower.as_bytes();
    for (i, _) in lower.match_indices(" on") {
        // ` onclick=`, ` onload=`…: letters up to an `=`.
        let rest = &bytes[i + 3..];
        let letters = rest.iter().take_while(|c| c.is_ascii_lowercase()).count();
        assert!(
            letters == 0 || rest.get(letters) != Some(&b'='),
            "{what}: an event-handler attribute near {}",
            &lower[i..(i + 30).min(lower.len())]
        );
    }
}

async fn pages_carry_no_inline_script_or_style(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let b = app.browser();
    assert_eq!(
        b.post("/color", &[("color", "rebeccapurple")]).await.status,
        303
    );
    assert_eq!(b.post("/notes", &[("note", "hello")]).await.status, 303);
    let color = b.get("/color").await;
    // The swatch is an SVG attribute now, which the CSP allows, and still the stored color.
    assert!(
        color.body.contains("fill=\"rebeccapurple\""),
        "{}",
        color.body
    );
    assert_eq!(
        signup(&b, "inline", "correct horse battery").await.status,
        303
    );
    let inspector = b.get("/session").await;
    assert!(
        inspector
            .body
            .contains("<svg class=\"drawing cookie-drawing\""),
        "the cookie drawn"
    );
    assert!(
        inspector.body.contains("class=\"countdown\""),
        "the countdowns"
    );
    for path in [
        "/",
        "/color",
        "/notes",
        "/session",
        "/account",
        "/account/sessions",
        "/login",
        "/signup",
        "/nowhere",
    ] {
        let res = b.get(path).await;
        assert_no_inline_code(&res.body, path);
        assert!(
            res.body.contains("/static/site.css?v="),
            "{path}: no stylesheet"
        );
    }
    assert!(
        inspector.body.contains("/static/inspector.js?v="),
        "the countdown script"
    );
}

#[rocket::async_test]
async fn static_files_come_with_their_type_and_a_year_of_cache() {
    let app = TestApp::spawn(CookieMode).await;
    let b = app.browser();
    let page = b.get("/session").await;
    for (name, content_type, sample) in [
        ("site.css", "text/css; charset=utf-8", "body {"),
        ("inspector.js", "text/javascript", ".countdown"),
    ] {
        let url = asset_url(&page.body, name);
        let res = b.get(&url).await;
        assert_eq!(res.status, 200, "{url}");
        assert_eq!(res.header("Content-Type"), Some(content_type), "{url}");
        assert_eq!(
            res.header("Cache-Control"),
            Some("public, max-age=31536000, immutable"),
            "{url}"
        );
        assert!(res.body.contains(sample), "{url}");
        // Static files touch no session.
        assert!(res.set_cookies().is_empty(), "{url}");
        assert_eq!(res.trace(), "mode=cookie; load=none; save=none; queries=0");
    }
    assert_eq!(b.get("/static/Rocket.toml").await.status, 404);
    assert_eq!(b.get("/static/..%2FCargo.toml").await.status, 404);
}

/// A POST of `color=red` from a fresh browser with its token and `headers`; the status, and
/// whether the color was kept.
async fn post_color_with(b: &Browser<'_>, headers: &[(&str, &str)]) -> (u16, bool) {
    b.get("/color").await;
    let token = b.csrf_token().await;
    let res = b
        .post_raw(
            "/color",
            &[("csrf_token", &token), ("color", "red")],
            headers,
        )
        .await;
    let kept = b.get("/session.json").await.json()["data"]["color"] == "red";
    (res.status, kept)
}

async fn an_https_origin_over_http_is_403(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    // The test figment serves 127.0.0.1:8000 over http, as `cargo run` does.
    for (origin, host, expected) in [
        ("https://127.0.0.1:8000", "127.0.0.1:8000", (403, false)),
        ("https://localhost:8000", "localhost:8000", (403, false)),
        ("http://127.0.0.1:8001", "127.0.0.1:8001", (403, false)),
        // A Host header that agrees with the Origin vouches for nothing: both come from the client.
        ("http://evil.example", "evil.example", (403, false)),
        ("http://127.0.0.1:8000", "127.0.0.1:8000", (303, true)),
        ("http://localhost:8000", "localhost:8000", (303, true)),
        ("http://LOCALHOST:8000/", "anything", (303, true)),
    ] {
        let b = app.browser();
        let got = post_color_with(&b, &[("Origin", origin), ("Host", host)]).await;
        assert_eq!(got, expected, "Origin: {origin}, Host: {host}");
    }
}

async fn the_configured_site_origin_is_the_only_one_accepted(mode: Mode) {
    let app = TestApp::spawn_with(mode, |f| f.merge(("site_origin", "https://lab.example"))).await;
    for (origin, expected) in [
        ("https://lab.example", (303, true)),
        ("https://lab.example:443", (303, true)),
        ("http://lab.example", (403, false)),
        ("https://lab.example:8443", (403, false)),
        ("http://127.0.0.1:8000", (403, false)),
        ("https://evil.example", (403, false)),
    ] {
        let b = app.browser();
        let got = post_color_with(&b, &[("Origin", origin), ("Host", "lab.example")]).await;
        assert_eq!(got, expected, "Origin: {origin}");
    }
    // A request without Origin (curl, an old browser) still needs only its token.
    let b = app.browser();
    assert_eq!(post_color_with(&b, &[]).await, (303, true));
}

#[test]
fn an_unreadable_site_origin_stops_the_launch_with_its_name() {
    let err = session_lab::settings::Settings::from_figment(
        &rocket::figment::Figment::new().merge(("site_origin", "lab.example")),
    )
    .unwrap_err();
    assert!(err.contains("site_origin"), "{err}");
}

both_modes!(
    every_response_carries_the_security_headers,
    secure_cookies_take_the_host_prefix_and_bring_hsts,
    without_secure_cookies_the_names_stay_plain,
    pages_carry_no_inline_script_or_style,
    an_https_origin_over_http_is_403,
    the_configured_site_origin_is_the_only_one_accepted,
);
