//! Headless Chromium driven through chromedriver: one chromedriver on a free loopback port and one
//! Chromium with a fresh profile directory per `Chrome`, for the browser tests and
//! `docs/screenshots` alike.

#![allow(dead_code)]

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::elements::Element;
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;

/// Chromium's flags: headless, and nothing that reaches for the network (this machine has none) or
/// needs a sandbox (CI runs as root).
pub const CHROMIUM_FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
];

/// How long a form's answer may take to arrive and load.
const PAGE_LIMIT: Duration = Duration::from_secs(30);

/// Where Debian's `chromium-driver` puts chromedriver; `CHROMEDRIVER` may point elsewhere.
pub fn chromedriver_path() -> PathBuf {
    std::env::var_os("CHROMEDRIVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromedriver"))
}

/// Debian's `chromium`; `CHROME` may point elsewhere.
pub fn chromium_path() -> PathBuf {
    std::env::var_os("CHROME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"))
}

/// Why the browser cannot be driven here, or `None` when chromedriver and Chromium are installed.
pub fn missing() -> Option<String> {
    let absent: Vec<String> = [chromedriver_path(), chromium_path()]
        .iter()
        .filter(|p| !p.is_file())
        .map(|p| p.display().to_string())
        .collect();
    if absent.is_empty() {
        return None;
    }
    Some(format!(
        "{} not found: install Debian's `chromium` and `chromium-driver` (as .ci/run does), \
         or point CHROMEDRIVER / CHROME at them",
        absent.join(" and ")
    ))
}

/// A port nobody listens on right now. The kernel hands out ephemeral ports in turn, so two
/// tests asking at once get different ones.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// Waits until something accepts connections on `port`, or says what ran out.
pub async fn wait_for_port(port: u16, what: &str, limit: Duration) -> Result<(), String> {
    let started = Instant::now();
    while started.elapsed() < limit {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(format!(
        "{what} did not listen on 127.0.0.1:{port} within {limit:?}"
    ))
}

/// One chromedriver and the Chromium it drives, browsing one app at `base`. `close()` ends both;
/// dropping a `Chrome` without it (a failed test) kills them by process id.
pub struct Chrome {
    pub client: Client,
    pub base: String,
    driver: Child,
    profile: PathBuf,
}

impl Chrome {
    /// Starts chromedriver and a headless Chromium whose viewport is `width` × `height` px, to
    /// browse `base` (`http://127.0.0.1:PORT`).
    pub async fn start(base: &str, width: u32, height: u32) -> Result<Chrome, String> {
        let port = free_port();
        let mut driver = Command::new(chromedriver_path())
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("chromedriver did not start: {e}"))?;
        let profile = std::env::temp_dir().join(format!(
            "session-lab-chromium-{}-{}",
            std::process::id(),
            session_lab::crypto::random_token(6).replace(['-', '_'], "x")
        ));
        let session = async {
            wait_for_port(port, "chromedriver", Duration::from_secs(20)).await?;
            let mut args: Vec<String> = CHROMIUM_FLAGS.iter().map(|f| f.to_string()).collect();
            args.push(format!("--user-data-dir={}", profile.display()));
            args.push(format!("--window-size={width},{height}"));
            let mut caps = serde_json::Map::new();
            caps.insert("browserName".into(), "chrome".into());
            caps.insert(
                "goog:chromeOptions".into(),
                serde_json::json!({ "binary": chromium_path(), "args": args }),
            );
            ClientBuilder::new(HttpConnector::new())
                .capabilities(caps)
                .connect(&format!("http://127.0.0.1:{port}"))
                .await
                .map_err(|e| format!("no Chromium session from chromedriver: {e}"))
        };
        match session.await {
            Ok(client) => {
                let chrome = Chrome {
                    client,
                    base: base.trim_end_matches('/').to_string(),
                    driver,
                    profile,
                };
                // --window-size sizes the window; the viewport is what a page lays out in.
                chrome.set_viewport(width, height).await?;
                Ok(chrome)
            }
            Err(e) => {
                let _ = driver.kill();
                let _ = driver.wait();
                kill_chromium_using(&profile);
                let _ = std::fs::remove_dir_all(&profile);
                Err(e)
            }
        }
    }

    /// Makes the viewport (what `window.innerWidth` says) exactly `width` × `height`.
    pub async fn set_viewport(&self, width: u32, height: u32) -> Result<(), String> {
        let inner = self
            .client
            .execute("return [window.innerWidth, window.innerHeight];", vec![])
            .await
            .map_err(|e| e.to_string())?;
        let (w, h) = self
            .client
            .get_window_size()
            .await
            .map_err(|e| e.to_string())?;
        let iw = inner[0].as_u64().unwrap_or(w);
        let ih = inner[1].as_u64().unwrap_or(h);
        let (w, h) = (w + width as u64 - iw, h + height as u64 - ih);
        self.client
            .set_window_size(w as u32, h as u32)
            .await
            .map_err(|e| e.to_string())
    }

    /// Gives the page a viewport of exactly `width` × `height` CSS pixels through the DevTools
    /// protocol (`Emulation.setDeviceMetricsOverride`, sent with chromedriver's
    /// `goog/cdp/execute`), as a phone (`mobile`: the page's viewport meta applies, scrollbars
    /// overlay) or a desktop. Unlike resizing the window, this reaches below the 500 px that
    /// headless Chromium keeps a window at, and lasts until changed.
    pub async fn emulate_viewport(
        &self,
        width: u32,
        height: u32,
        mobile: bool,
    ) -> Result<(), String> {
        let params = serde_json::json!({
            "width": width,
            "height": height,
            "deviceScaleFactor": 1,
            "mobile": mobile,
        });
        self.client
            .issue_cmd(Cdp {
                cmd: "Emulation.setDeviceMetricsOverride",
                params,
            })
            .await
            .map(|_| ())
            .map_err(|e| format!("Emulation.setDeviceMetricsOverride: {e}"))
    }

    /// Opens `path` on the app.
    pub async fn goto(&self, path: &str) -> Result<(), String> {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .map_err(|e| format!("GET {path}: {e}"))
    }

    /// The text of the page as a person reads it: hidden elements left out, and every run of
    /// white space (the line breaks between a header's parts) one space.
    pub async fn text(&self) -> Result<String, String> {
        let text = self
            .client
            .find(Locator::Css("body"))
            .await
            .map_err(|e| e.to_string())?
            .text()
            .await
            .map_err(|e| e.to_string())?;
        Ok(text.split_whitespace().collect::<Vec<_>>().join(" "))
    }

    /// Types `value` into the field `#id` (emptied first) and clicks its form's submit button.
    pub async fn submit_field(&self, id: &str, value: &str) -> Result<(), String> {
        let field = self
            .client
            .find(Locator::Id(id))
            .await
            .map_err(|e| format!("no field #{id}: {e}"))?;
        field.clear().await.map_err(|e| e.to_string())?;
        field.send_keys(value).await.map_err(|e| e.to_string())?;
        self.click(&format!("form:has(#{id}) button[type=submit]"))
            .await
    }

    /// Clicks the element `css` and waits for the page it leads to (a form's answer).
    pub async fn click(&self, css: &str) -> Result<(), String> {
        let target = self
            .client
            .find(Locator::Css(css))
            .await
            .map_err(|e| format!("nothing matches {css}: {e}"))?;
        self.click_and_wait(target, css).await
    }

    /// Clicks `target` and waits until the document it was in is gone and the next one has
    /// loaded. A click returns as soon as the form is sent, so without this the next command may
    /// still find the old page (or an element of it that goes stale under it). The old page gets
    /// a mark on its `window`; a new document starts with a fresh `window`, without it.
    pub async fn click_and_wait(&self, target: Element, what: &str) -> Result<(), String> {
        self.mark_leaving().await?;
        target
            .click()
            .await
            .map_err(|e| format!("clicking {what}: {e}"))?;
        self.wait_for_next_page(&format!("clicking {what}")).await
    }

    /// Presses `key` on the keyboard, as a person would, wherever the focus is.
    pub async fn press(&self, key: Key) -> Result<(), String> {
        let key: char = key.into();
        let keys = KeyActions::new("keyboard".into())
            .then(KeyAction::Down { value: key })
            .then(KeyAction::Up { value: key });
        self.client
            .perform_actions(keys)
            .await
            .map_err(|e| format!("pressing {key:?}: {e}"))
    }

    /// Presses `key` where it sends a form or follows a link, and waits for the page it leads to
    /// (as [`Chrome::click_and_wait`]).
    pub async fn press_and_wait(&self, key: Key, what: &str) -> Result<(), String> {
        self.mark_leaving().await?;
        self.press(key).await?;
        self.wait_for_next_page(what).await
    }

    /// Marks the page now open, so [`Chrome::wait_for_next_page`] can tell it from the next.
    async fn mark_leaving(&self) -> Result<(), String> {
        self.client
            .execute("window.__sessionLabLeaving = true;", vec![])
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    /// Waits until the page [`Chrome::mark_leaving`] marked is gone and the next has loaded.
    async fn wait_for_next_page(&self, what: &str) -> Result<(), String> {
        let started = Instant::now();
        let mut last = String::from("the old page is still there");
        while started.elapsed() < PAGE_LIMIT {
            // Mid-navigation, Chromium may answer with an error: that is "not yet" too.
            match self
                .client
                .execute(
                    "return !window.__sessionLabLeaving && document.readyState === 'complete';",
                    vec![],
                )
                .await
            {
                Ok(serde_json::Value::Bool(true)) => return Ok(()),
                Ok(_) => {}
                Err(e) => last = e.to_string(),
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        Err(format!(
            "{what} led to no loaded page in {PAGE_LIMIT:?} ({last})"
        ))
    }

    /// Clicks the element `css` where no new page follows (a checkbox).
    pub async fn tick(&self, css: &str) -> Result<(), String> {
        self.client
            .find(Locator::Css(css))
            .await
            .map_err(|e| format!("nothing matches {css}: {e}"))?
            .click()
            .await
            .map_err(|e| format!("clicking {css}: {e}"))
    }

    /// A PNG of the viewport.
    pub async fn screenshot(&self) -> Result<Vec<u8>, String> {
        self.client.screenshot().await.map_err(|e| e.to_string())
    }

    /// Ends the WebDriver session (Chromium exits) and chromedriver.
    pub async fn close(mut self) {
        let client = self.client.clone();
        let _ = tokio::time::timeout(Duration::from_secs(10), client.close()).await;
        self.stop();
    }

    fn stop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        kill_chromium_using(&self.profile);
        // A Chromium child may still be writing into the profile for a moment after its parent
        // went: try again briefly rather than leave the directory behind.
        for _ in 0..20 {
            if std::fs::remove_dir_all(&self.profile).is_ok() || !self.profile.exists() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Chrome {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Kills the Chromium processes started with `profile` as their `--user-data-dir`: ours, found by
/// that flag in /proc, so a failed test leaves no browser behind (chromedriver killed mid-session
/// does not end its Chromium).
fn kill_chromium_using(profile: &std::path::Path) {
    let flag = format!("--user-data-dir={}", profile.display());
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return;
    };
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        if cmdline.split(|b| *b == 0).any(|arg| arg == flag.as_bytes()) {
            // SAFETY: kill(2) on a process id we read just now; at worst the process is gone.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
            }
        }
    }
}

/// A DevTools protocol command, sent through chromedriver's vendor endpoint
/// `POST /session/{id}/goog/cdp/execute` with `{"cmd", "params"}`.
#[derive(Debug)]
struct Cdp {
    cmd: &'static str,
    params: serde_json::Value,
}

impl fantoccini::wd::WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/goog/cdp/execute",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (http::Method, Option<String>) {
        let body = serde_json::json!({ "cmd": self.cmd, "params": self.params });
        (http::Method::POST, Some(body.to_string()))
    }
}
