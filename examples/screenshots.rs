//! Writes the README's screenshots: starts the app in each mode on a loopback port, walks headless
//! Chromium through the lessons at 1280 px and saves `docs/screenshots/<mode>-<page>.png`; then the
//! page a POST lands on and the inspector again on a 390 px phone (`<mode>-<page>-390.png`),
//! printing where the page's heading starts and how tall the page is. Run it through
//! `docs/take-screenshots`; rerunning replaces the pictures.

#[path = "../tests/browser/chrome.rs"]
mod chrome;

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrome::Chrome;
use fantoccini::Locator;
use session_lab::settings::Mode;
use sqlx::postgres::PgPoolOptions;

const WIDTH: u32 = 1280;
/// A phone's width (an iPhone 12 to 15's 390 × 844).
const PHONE: u32 = 390;
/// Long pages are captured whole up to this height; a taller one is cut there.
const MAX_HEIGHT: u32 = 9000;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    if let Some(why) = chrome::missing() {
        eprintln!("screenshots: {why}");
        return std::process::ExitCode::FAILURE;
    }
    let out = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/screenshots");
    if let Err(e) = std::fs::create_dir_all(&out) {
        eprintln!("screenshots: {}: {e}", out.display());
        return std::process::ExitCode::FAILURE;
    }
    for mode in [Mode::Server, Mode::Cookie] {
        // Bounded, so a browser that hangs does not hold the script forever.
        let shots = tokio::time::timeout(Duration::from_secs(300), lessons(mode, &out)).await;
        match shots {
            Ok(Ok(written)) => {
                for path in written {
                    println!("wrote {}", path.display());
                }
            }
            Ok(Err(e)) => {
                eprintln!("screenshots ({} mode): {e}", mode.as_str());
                return std::process::ExitCode::FAILURE;
            }
            Err(_) => {
                eprintln!("screenshots ({} mode): gave up after 300 s", mode.as_str());
                return std::process::ExitCode::FAILURE;
            }
        }
    }
    std::process::ExitCode::SUCCESS
}

/// The app in `mode` on its own throwaway database, dropped again at the end.
async fn lessons(mode: Mode, out: &Path) -> Result<Vec<PathBuf>, String> {
    let figment = session_lab::figment();
    let url: String = figment
        .extract_inner("databases.session_lab.url")
        .unwrap_or_else(|_| session_lab::settings::DEFAULT_DATABASE_URL.to_string());
    let (server, _) = url
        .rsplit_once('/')
        .ok_or_else(|| format!("no database name in {url}"))?;
    let db_name = format!("session_lab_screenshots_{}", mode.as_str());
    let admin = format!("{server}/postgres");
    drop_database(&admin, &db_name).await?;
    let port = chrome::free_port();
    let figment = figment
        .merge(("databases.session_lab.url", format!("{server}/{db_name}")))
        .merge(("session_mode", mode.as_str()))
        .merge(("secret_key", session_lab::crypto::random_bytes(64)))
        .merge(("address", "127.0.0.1"))
        .merge(("port", port))
        .merge(("log_level", "off"))
        .merge(("shutdown.ctrlc", false));
    let rocket = session_lab::build(figment)
        .ignite()
        .await
        .map_err(|e| format!("the app did not start: {e}"))?;
    let shutdown = rocket.shutdown();
    tokio::spawn(rocket.launch());
    chrome::wait_for_port(port, "the app", Duration::from_secs(30)).await?;

    let base = format!("http://127.0.0.1:{port}");
    let browser = Chrome::start(&base, WIDTH, 900).await?;
    let walked = walk(&browser, mode, out).await;
    browser.close().await;
    shutdown.notify();
    drop_database(&admin, &db_name).await?;
    walked
}

/// The lessons in the README's order, one picture each.
async fn walk(b: &Chrome, mode: Mode, out: &Path) -> Result<Vec<PathBuf>, String> {
    let mut written = Vec::new();
    let mode = mode.as_str();

    b.goto("/").await?;
    written.push(shot(b, out, mode, "home").await?);

    // The first exercise, predicted before the color step solves it.
    predict(b, "first-value", 1).await?;

    b.goto("/color").await?;
    b.submit_field("color", "rebeccapurple").await?;
    written.push(shot(b, out, mode, "color").await?);

    b.goto("/notes").await?;
    for note in [
        "Cookies are sent with every request",
        "4096 bytes is all a browser keeps for one cookie",
        "Watch the inspector's size bar",
    ] {
        b.submit_field("note", note).await?;
    }
    written.push(shot(b, out, mode, "notes").await?);

    b.goto("/session").await?;
    written.push(shot(b, out, mode, "inspector").await?);

    // The same two pages on a phone: a POST's landing page (the report is shown once, so a new
    // color) and the inspector.
    b.emulate_viewport(PHONE, 844, true).await?;
    b.goto("/color").await?;
    b.submit_field("color", "seagreen").await?;
    measure(b, mode, "after POST /color").await?;
    written.push(shot_at(b, out, mode, "color-390", PHONE).await?);
    b.goto("/session").await?;
    measure(b, mode, "/session").await?;
    written.push(shot_at(b, out, mode, "inspector-390", PHONE).await?);
    b.emulate_viewport(WIDTH, 900, false).await?;

    b.goto("/signup").await?;
    b.client
        .find(Locator::Id("username"))
        .await
        .map_err(|e| e.to_string())?
        .send_keys("ada")
        .await
        .map_err(|e| e.to_string())?;
    b.submit_field("password", "correct horse battery staple")
        .await?;
    b.goto("/account").await?;
    written.push(shot(b, out, mode, "account").await?);

    b.goto("/account/sessions").await?;
    written.push(shot(b, out, mode, "sessions").await?);

    // A second exercise, done as in devtools: one character of the session cookie changed.
    predict(b, "tamper", 1).await?;
    let name = if mode == "server" {
        "session_id"
    } else {
        "session_data"
    };
    let mut cookie = b
        .client
        .get_named_cookie(name)
        .await
        .map_err(|e| format!("no {name} cookie: {e}"))?;
    let mut value: Vec<char> = cookie.value().chars().collect();
    let middle = value.len() / 2;
    value[middle] = if value[middle] == 'A' { 'B' } else { 'A' };
    cookie.set_value(value.into_iter().collect::<String>());
    b.client
        .add_cookie(cookie)
        .await
        .map_err(|e| format!("editing {name}: {e}"))?;
    b.goto("/color").await?;
    b.goto("/").await?;
    let board = b
        .client
        .find(Locator::Css("section.score-board"))
        .await
        .map_err(|e| format!("no score board on the home page: {e}"))?;
    let png = board.screenshot().await.map_err(|e| e.to_string())?;
    let path = out.join(format!("{mode}-scoreboard.png"));
    std::fs::write(&path, png).map_err(|e| format!("{}: {e}", path.display()))?;
    written.push(path);
    Ok(written)
}

/// Answers exercise `id`'s prediction with choice `choice` on the exercises page.
async fn predict(b: &Chrome, id: &str, choice: usize) -> Result<(), String> {
    b.goto("/exercises").await?;
    b.tick(&format!("#{id} input[name=choice][value='{choice}']"))
        .await?;
    b.click(&format!(
        "#{id} form[action$='/predict'] button[type=submit]"
    ))
    .await
}

/// Prints where the page's `<h1>` starts and how tall the page is, at the viewport's width.
async fn measure(b: &Chrome, mode: &str, what: &str) -> Result<(), String> {
    let r = b
        .client
        .execute(
            "const h = document.querySelector('h1'); \
             return [window.innerWidth, h ? Math.round(h.getBoundingClientRect().top) : -1, \
                     document.documentElement.scrollHeight];",
            vec![],
        )
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "{mode} mode, {what} at {} px: heading at {} px, page {} px tall",
        r[0], r[1], r[2]
    );
    Ok(())
}

/// Saves the page, as tall as its content (up to [`MAX_HEIGHT`]), as `<out>/<mode>-<name>.png`.
async fn shot(b: &Chrome, out: &Path, mode: &str, name: &str) -> Result<PathBuf, String> {
    shot_at(b, out, mode, name, WIDTH).await
}

/// As [`shot`], at `width` (a phone's, below 600 px, emulated as one).
async fn shot_at(
    b: &Chrome,
    out: &Path,
    mode: &str,
    name: &str,
    width: u32,
) -> Result<PathBuf, String> {
    let phone = width < 600;
    let height = b
        .client
        .execute("return document.documentElement.scrollHeight;", vec![])
        .await
        .map_err(|e| e.to_string())?
        .as_u64()
        .unwrap_or(900)
        .clamp(600, MAX_HEIGHT as u64) as u32;
    b.emulate_viewport(width, height, phone).await?;
    let png = b.screenshot().await?;
    b.emulate_viewport(width, if phone { 844 } else { 900 }, phone)
        .await?;
    let path = out.join(format!("{mode}-{name}.png"));
    std::fs::write(&path, png).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path)
}

async fn drop_database(admin: &str, name: &str) -> Result<(), String> {
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect(admin)
        .await
        .map_err(|e| format!("PostgreSQL at {admin}: {e}"))?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
    )))
    .execute(&pool)
    .await
    .map_err(|e| format!("dropping {name}: {e}"))?;
    pool.close().await;
    Ok(())
}
