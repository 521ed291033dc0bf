//! Browser tests: headless Chromium, driven through chromedriver, uses the app on a real loopback
//! port in each mode and checks what a person would see in the page and in devtools' cookie list.
//!
//! A binary of its own (`cargo test --test browser`) with libtest-mimic as its harness: it reads
//! like libtest's output, and where chromedriver is missing every test is reported *ignored* with
//! the reason, plus one test, `browser_tests_skipped_because_chromedriver_is_missing`, that passes
//! only then and says why — never a silent pass without a browser. With `CI=true` a missing
//! chromedriver fails instead: CI installs it.

#[path = "../common/mod.rs"]
mod common;

mod a11y;
mod chrome;
mod drawings;
mod exercises;
mod fits;
mod labs;
mod served;
mod third_store;

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use cookie::SameSite;
use fantoccini::Locator;
use libtest_mimic::{Arguments, Completion, Failed, Trial};
use session_lab::settings::Mode;
use time::OffsetDateTime;

use chrome::Chrome;
use served::{ServedApp, ServedBoth};

/// How long one test may take, app and browser start-up included: a guard against a hang, not a
/// speed check. A test takes seconds alone; three `cargo test` runs sharing two cores (each with
/// its Chromium) made the longest take about a minute.
const LIMIT: Duration = Duration::from_secs(300);

type TestFn = for<'a> fn(&'a Chrome, &'a ServedApp) -> Pin<Box<dyn Future<Output = ()> + 'a>>;
type BothFn = for<'a> fn(&'a Chrome, &'a ServedBoth) -> Pin<Box<dyn Future<Output = ()> + 'a>>;

/// `[(name, boxed test)]` for a list of `async fn NAME(&Chrome, &ServedApp)`.
macro_rules! tests {
    ($($name:path),* $(,)?) => {
        [$({
            fn boxed<'a>(
                b: &'a Chrome,
                app: &'a ServedApp,
            ) -> Pin<Box<dyn Future<Output = ()> + 'a>> {
                Box::pin($name(b, app))
            }
            (stringify!($name).rsplit(':').next().unwrap_or_default().trim(), boxed as TestFn)
        }),*]
    };
}

fn main() {
    let args = Arguments::from_args();
    let missing = chrome::missing();
    let in_ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
    if let Some(why) = &missing {
        eprintln!("browser tests skipped: {why}");
    }
    let mut trials = Vec::new();
    for mode in [Mode::Server, Mode::Cookie] {
        let mut list: Vec<(&str, TestFn)> = tests![
            a_color_shows_in_the_page_and_the_cookie_as_devtools_lists_it,
            deleting_the_session_cookie_forgets_the_color,
            a_tampered_cookie_is_refused_and_the_inspector_says_why,
            signup_logout_and_login_with_remember_me,
            fast_forward_past_the_idle_deadline_ends_the_session,
            fits::every_page_fits_at_390_and_1280_px,
            labs::replay_lab_a_copy_kept_before_logging_out,
            labs::tamper_lab_a_flipped_byte_is_undecryptable,
            exercises::exercises_a_full_run_with_devtools_like_cookie_edits,
            a11y::axe_finds_nothing_serious_on_the_pages_a_visitor_opens,
            a11y::axe_finds_nothing_serious_in_the_guide,
            a11y::axe_finds_nothing_serious_after_forms_logins_and_labs,
            a11y::keyboard_only_through_the_color_lesson,
            drawings::the_drawings_say_what_they_show_and_pages_fit_a_phone,
        ]
        .to_vec();
        match mode {
            Mode::Cookie => list.extend(tests![notes_fill_the_cookie_up_to_the_413]),
            // Only a store that keeps sessions can list them.
            Mode::Server => list.extend(tests![your_sessions_read_in_words]),
            Mode::Redis => unreachable!("the browser tests run in server and cookie mode"),
        }
        for (name, test) in list {
            let missing = missing.clone();
            trials.push(Trial::ignorable_test(
                format!("{}::{name}", mode.as_str()),
                move || match missing {
                    Some(why) if in_ci => Err(Failed::from(format!("CI=true: {why}"))),
                    Some(_) => Ok(Completion::ignored_with(
                        "no chromedriver: see browser_tests_skipped_because_chromedriver_is_missing",
                    )),
                    None => run(mode, test).map(|()| Completion::Completed),
                },
            ));
        }
    }
    let both: [(&str, BothFn); 3] = [
        (
            "both_modes_a_color_set_on_compare_shows_in_both_columns",
            |b, apps| {
                Box::pin(labs::both_modes_a_color_set_on_compare_shows_in_both_columns(b, apps))
            },
        ),
        (
            "compare_fits_at_390_and_1280_px_and_shows_both_sides_in_an_outage",
            |b, apps| {
                Box::pin(
                    fits::compare_fits_at_390_and_1280_px_and_shows_both_sides_in_an_outage(
                        b, apps,
                    ),
                )
            },
        ),
        (
            "axe_finds_nothing_serious_on_compare_with_both_modes",
            |b, apps| {
                Box::pin(a11y::axe_finds_nothing_serious_on_compare_with_both_modes(
                    b, apps,
                ))
            },
        ),
    ];
    for (name, test) in both {
        let missing = missing.clone();
        trials.push(Trial::ignorable_test(
            format!("both::{name}"),
            move || match missing {
                Some(why) if in_ci => Err(Failed::from(format!("CI=true: {why}"))),
                Some(_) => Ok(Completion::ignored_with(
                    "no chromedriver: see browser_tests_skipped_because_chromedriver_is_missing",
                )),
                None => run_side_by_side(test, false).map(|()| Completion::Completed),
            },
        ));
    }
    {
        let missing = missing.clone();
        let test: BothFn = |b, apps| {
            Box::pin(third_store::compare_with_all_three_modes_fits_a_390_px_phone(b, apps))
        };
        trials.push(Trial::ignorable_test(
            "all::compare_with_all_three_modes_fits_a_390_px_phone",
            move || match missing {
                Some(why) if in_ci => Err(Failed::from(format!("CI=true: {why}"))),
                Some(_) => Ok(Completion::ignored_with(
                    "no chromedriver: see browser_tests_skipped_because_chromedriver_is_missing",
                )),
                None => run_side_by_side(test, true).map(|()| Completion::Completed),
            },
        ));
    }
    if let Some(why) = missing {
        trials.push(Trial::test(
            "browser_tests_skipped_because_chromedriver_is_missing",
            move || {
                if in_ci {
                    return Err(format!("CI=true, so the browser tests must run: {why}").into());
                }
                eprintln!("the browser tests did not run: {why}");
                Ok(())
            },
        ));
    }
    libtest_mimic::run(&args, trials).exit();
}

/// One test: a fresh app (and database) in `mode`, a fresh Chromium at 1280 px, the test body,
/// everything stopped after, all within [`LIMIT`].
fn run(mode: Mode, test: TestFn) -> Result<(), Failed> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("runtime: {e}"))?;
    rt.block_on(async move {
        let started = Instant::now();
        let app = ServedApp::start(mode).await?;
        let browser = Chrome::start(&app.base, 1280, 900).await?;
        let outcome = tokio::time::timeout(LIMIT, test(&browser, &app)).await;
        browser.close().await;
        drop(app);
        outcome.map_err(|_| format!("gave up after {:?}", started.elapsed()))?;
        Ok(())
    })
}

/// `--mode both` (two apps, one database; `all`: three) and a fresh Chromium at 1280 px browsing
/// the server-mode one, within [`LIMIT`].
fn run_side_by_side(test: BothFn, all: bool) -> Result<(), Failed> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("runtime: {e}"))?;
    rt.block_on(async move {
        let started = Instant::now();
        let apps = if all {
            ServedBoth::start_all().await?
        } else {
            ServedBoth::start().await?
        };
        let browser = Chrome::start(&apps.server, 1280, 900).await?;
        let outcome = tokio::time::timeout(LIMIT, test(&browser, &apps)).await;
        browser.close().await;
        drop(apps);
        outcome.map_err(|_| format!("gave up after {:?}", started.elapsed()))?;
        Ok(())
    })
}

/// The session cookie of the app's mode as the browser holds it, if any.
async fn session_cookie(b: &Chrome, app: &ServedApp) -> Option<cookie::Cookie<'static>> {
    b.client
        .get_all_cookies()
        .await
        .expect("the cookie list")
        .into_iter()
        .find(|c| c.name() == app.mode.cookie_name())
}

/// Devtools' "Size" column: name + value, as the browser stores them.
fn devtools_size(c: &cookie::Cookie<'_>) -> usize {
    c.name().len() + c.value().len()
}

async fn set_color(b: &Chrome, color: &str) {
    b.goto("/color").await.unwrap();
    b.submit_field("color", color).await.unwrap();
}

async fn a_color_shows_in_the_page_and_the_cookie_as_devtools_lists_it(
    b: &Chrome,
    app: &ServedApp,
) {
    b.goto("/color").await.unwrap();
    assert!(b
        .text()
        .await
        .unwrap()
        .contains("You have not picked a color yet."));
    assert!(
        session_cookie(b, app).await.is_none(),
        "viewing a page sets no session cookie"
    );

    b.submit_field("color", "rebeccapurple").await.unwrap();
    let text = b.text().await.unwrap();
    assert!(
        text.contains("Your favorite color is rebeccapurple."),
        "the page after saving: {text}"
    );

    let c = session_cookie(b, app)
        .await
        .expect("a session cookie after saving a color");
    assert_eq!(c.name(), app.mode.cookie_name());
    assert_eq!(c.http_only(), Some(true), "HttpOnly: {c:?}");
    assert_eq!(c.same_site(), Some(SameSite::Lax), "SameSite: {c:?}");
    assert_eq!(c.path(), Some("/"));
    let size = devtools_size(&c);
    assert!(size < 4096, "size {size}");
    // The raw exchange on the page says the size devtools shows: the POST's Set-Cookie line in
    // "What just happened" (folded under its drawing), and the landing request's Cookie header at
    // the page's foot (folded too): both opened as a student would.
    for folded in [
        "section.happened details.story > summary",
        ".this-page summary",
    ] {
        b.client
            .find(Locator::Css(folded))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
    }
    let text = b.text().await.unwrap();
    let name = app.mode.cookie_name();
    assert!(
        text.contains(&format!("(session cookie, {size} bytes)")),
        "the POST's Set-Cookie line with {size} bytes: {text}"
    );
    assert!(
        text.contains(&format!("the session cookie {name} ({size} bytes)")),
        "the page's own Cookie header with {size} bytes: {text}"
    );

    // The inspector states the same size devtools shows.
    b.goto("/session").await.unwrap();
    let text = b.text().await.unwrap();
    assert!(
        text.contains(&format!("{size} of 4096 bytes")),
        "the inspector should show {size} bytes: {text}"
    );
    assert!(text.contains("rebeccapurple"), "decoded map: {text}");
}

async fn deleting_the_session_cookie_forgets_the_color(b: &Chrome, app: &ServedApp) {
    set_color(b, "teal").await;
    assert!(b
        .text()
        .await
        .unwrap()
        .contains("Your favorite color is teal."));

    b.client
        .delete_cookie(app.mode.cookie_name())
        .await
        .unwrap();
    assert!(session_cookie(b, app).await.is_none());
    b.goto("/color").await.unwrap();
    let text = b.text().await.unwrap();
    assert!(
        text.contains("You have not picked a color yet."),
        "without its cookie the session is gone: {text}"
    );
    assert!(!text.contains("teal"), "{text}");
}

async fn a_tampered_cookie_is_refused_and_the_inspector_says_why(b: &Chrome, app: &ServedApp) {
    set_color(b, "orange").await;
    let original = session_cookie(b, app).await.expect("a session cookie");
    let value = original.value().to_string();

    // One base64 character changed in the middle of the ciphertext, as a student would in
    // devtools' Cookies panel.
    let at = value.len() / 2;
    let old = value.as_bytes()[at];
    let new = if old == b'A' { 'B' } else { 'A' };
    let tampered = format!("{}{new}{}", &value[..at], &value[at + 1..]);
    let forged = cookie::Cookie::build((app.mode.cookie_name(), tampered.clone()))
        // chromedriver wants a domain; for an IP address the cookie stays host-only, so this
        // replaces the app's cookie rather than adding a second one.
        .domain("127.0.0.1")
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .build();
    b.client.add_cookie(forged).await.unwrap();
    let held: Vec<String> = b
        .client
        .get_all_cookies()
        .await
        .unwrap()
        .into_iter()
        .filter(|c| c.name() == app.mode.cookie_name())
        .map(|c| c.value().to_string())
        .collect();
    assert_eq!(
        held,
        [tampered],
        "the browser now holds only the changed value"
    );

    b.goto("/session").await.unwrap();
    let text = b.text().await.unwrap();
    assert!(
        text.contains("the server refused it because"),
        "the inspector explains the refusal: {text}"
    );
    assert!(text.contains("refused=undecryptable"), "{text}");
    assert!(
        session_cookie(b, app).await.is_none(),
        "the refused cookie was deleted from the browser"
    );
    b.goto("/color").await.unwrap();
    assert!(b
        .text()
        .await
        .unwrap()
        .contains("You have not picked a color yet."));
}

const PASSWORD: &str = "correct horse battery staple";

/// Fills in the signup form (which also logs in).
async fn sign_up(b: &Chrome, name: &str) {
    fill_credentials(b, "/signup", name).await;
}

/// Opens the form at `path` (signup or login), types `name` and the tests' password, submits.
async fn fill_credentials(b: &Chrome, path: &str, name: &str) {
    b.goto(path).await.unwrap();
    b.client
        .find(Locator::Id("username"))
        .await
        .unwrap()
        .send_keys(name)
        .await
        .unwrap();
    b.submit_field("password", PASSWORD).await.unwrap();
}

async fn signup_logout_and_login_with_remember_me(b: &Chrome, app: &ServedApp) {
    let (name, password) = ("ada_browser", PASSWORD);
    sign_up(b, name).await;
    let text = b.text().await.unwrap();
    assert!(
        text.contains(&format!("Logged in as {name}")),
        "after signup: {text}"
    );
    let c = session_cookie(b, app).await.expect("a session cookie");
    assert_eq!(
        c.expires_datetime(),
        None,
        "without remember me the cookie ends with the browser"
    );

    b.click("form[action='/logout'] button[type=submit]")
        .await
        .unwrap();
    let text = b.text().await.unwrap();
    assert!(!text.contains("Logged in as"), "after logout: {text}");
    assert!(text.contains("Not logged in"), "after logout: {text}");

    b.goto("/login").await.unwrap();
    b.client
        .find(Locator::Id("username"))
        .await
        .unwrap()
        .send_keys(name)
        .await
        .unwrap();
    b.tick("input[name=remember]").await.unwrap();
    b.submit_field("password", password).await.unwrap();
    let text = b.text().await.unwrap();
    assert!(
        text.contains(&format!("Logged in as {name}")),
        "after login: {text}"
    );
    let c = session_cookie(b, app).await.expect("a session cookie");
    let expires = c
        .expires_datetime()
        .expect("remember me: the cookie has an expiry");
    let days = (expires - OffsetDateTime::now_utc()).as_seconds_f64() / 86_400.0;
    assert!(
        (13.9..=14.01).contains(&days),
        "remember me keeps the cookie to the absolute deadline, 14 days out: {days:.3} days"
    );

    b.goto("/account").await.unwrap();
    let text = b.text().await.unwrap();
    assert!(text.contains(name), "the account page: {text}");
}

async fn fast_forward_past_the_idle_deadline_ends_the_session(b: &Chrome, app: &ServedApp) {
    set_color(b, "gold").await;
    b.goto("/session").await.unwrap();
    assert!(b.text().await.unwrap().contains("gold"));

    // The fast-forward: this browser's clock jumps a whole idle window.
    let button = b
        .client
        .find(Locator::XPath(
            "//button[@name='seconds' and normalize-space(.)='+the idle window']",
        ))
        .await
        .expect("the fast-forward buttons");
    b.click_and_wait(button, "+the idle window").await.unwrap();
    let text = b.text().await.unwrap();
    assert!(
        text.contains("the server refused it because"),
        "after fast-forwarding: {text}"
    );
    assert!(text.contains("refused=expired-idle"), "{text}");
    assert!(session_cookie(b, app).await.is_none());
    b.goto("/color").await.unwrap();
    assert!(b
        .text()
        .await
        .unwrap()
        .contains("You have not picked a color yet."));
}

/// Cookie mode: notes until the cookie would pass 4096 bytes; that note is refused (413) with an
/// explanation, nothing changes, and the browser still holds a cookie under the limit.
async fn notes_fill_the_cookie_up_to_the_413(b: &Chrome, app: &ServedApp) {
    b.goto("/notes").await.unwrap();
    let note = "a note that takes room in the cookie ".repeat(3);
    let mut kept = 0;
    let refused = loop {
        assert!(kept < 60, "60 notes and no 413");
        b.submit_field("note", &note).await.unwrap();
        let text = b.text().await.unwrap();
        if text.contains("Refused with 413 (Payload Too Large): with this note") {
            break text;
        }
        kept += 1;
        assert!(
            text.contains(&format!("{kept} note")),
            "note {kept} kept: {text}"
        );
    };
    assert!(kept > 3, "several notes fit before the limit: {kept}");
    assert!(
        refused.contains(&format!("{kept} note")),
        "nothing changed: still {kept} notes: {refused}"
    );
    let c = session_cookie(b, app).await.expect("the session cookie");
    let size = devtools_size(&c);
    assert!(
        size <= 4096 && size > 4096 - 400,
        "the cookie stays under the limit, close to it: {size}"
    );
    b.goto("/session").await.unwrap();
    assert!(b
        .text()
        .await
        .unwrap()
        .contains(&format!("{size} of 4096 bytes")));
}

/// "Your sessions" names the browser in a few words and says when in words, the exact time on
/// hover, where it used to print the whole User-Agent and microsecond timestamps.
async fn your_sessions_read_in_words(b: &Chrome, _app: &ServedApp) {
    sign_up(b, "grace_browser").await;
    b.goto("/account/sessions").await.unwrap();
    let text = b.text().await.unwrap();
    let ua = b
        .client
        .execute("return navigator.userAgent;", vec![])
        .await
        .unwrap();
    let ua = ua.as_str().unwrap_or_default();
    let major = ua
        .split("Chrome/")
        .nth(1)
        .and_then(|v| v.split('.').next())
        .unwrap_or("?");
    assert!(
        text.contains(&format!("Chrome {major} on Linux (this one)")),
        "the browser in words: {text}"
    );
    assert!(!text.contains("Mozilla/5.0"), "no raw User-Agent: {text}");
    // A loaded machine can take a second or more between the signup and this page.
    assert!(
        ["just now", "1 second ago", "seconds ago"]
            .iter()
            .any(|w| text.contains(w)),
        "times in words: {text}"
    );
    let times = b.client.find_all(Locator::Css("td time")).await.unwrap();
    assert_eq!(times.len(), 2, "created and last seen");
    for t in times {
        let exact = t.attr("title").await.unwrap().unwrap_or_default();
        // 2026-11-27 06:10:17 UTC: to the second, no microseconds.
        assert_eq!(exact.len(), 23, "{exact}");
        assert!(exact.ends_with(" UTC"), "{exact}");
    }
    let hover = b
        .client
        .find(Locator::XPath("//td/span[@title]"))
        .await
        .unwrap()
        .attr("title")
        .await
        .unwrap();
    assert_eq!(hover.as_deref(), Some(ua), "the full User-Agent on hover");
}
