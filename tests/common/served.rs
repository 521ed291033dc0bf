//! The real binary on a real socket, and a bare HTTP/1.1 client for it: for what only the wire
//! and the process show — the log it writes, and how Rocket reads a `Cookie` header that names a
//! cookie twice (the local client never parses a `Cookie` header at all).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use session_lab::settings::Mode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::Res;

/// `session-lab serve` as a child process, its stdout and stderr in one file.
pub struct Served {
    child: Child,
    pub port: u16,
    log: PathBuf,
    /// The debug profile's key file, this process's own (see [`super::TempDir`]).
    key: PathBuf,
}

impl Served {
    /// Starts the binary in `mode` on `db_url` (a database the test owns), at `log_level`, and
    /// waits until it answers `/healthz`.
    pub async fn start(mode: Mode, db_url: &str, log_level: &str) -> Served {
        // A port the OS just handed out; free again for the child a moment later.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let tag = session_lab::crypto::random_token(9);
        let log = std::env::temp_dir().join(format!("session-lab-served-{tag}.log"));
        let key = std::env::temp_dir().join(format!("session-lab-served-{tag}.key"));
        let out = std::fs::File::create(&log).expect("log file");
        let err = out.try_clone().expect("log file");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_session-lab"));
        // Only what the test sets: no ROCKET_* from the developer's shell.
        for (key, _) in std::env::vars() {
            if key.starts_with("ROCKET_") {
                cmd.env_remove(key);
            }
        }
        let child = cmd
            .args(["--mode", mode.as_str()])
            .env("DATABASE_URL", db_url)
            .env("ROCKET_ADDRESS", "127.0.0.1")
            .env("ROCKET_PORT", port.to_string())
            .env("ROCKET_LOG_LEVEL", log_level)
            .env("ROCKET_CLI_COLORS", "false")
            .env("ROCKET_DEBUG_KEY_FILE", &key)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("the binary starts");
        let mut served = Served {
            child,
            port,
            log,
            key,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = served.child.try_wait() {
                panic!("the app exited with {status}:\n{}", served.log_text());
            }
            if served
                .try_request("GET", "/healthz", &[], None)
                .await
                .is_some()
            {
                return served;
            }
            assert!(
                Instant::now() < deadline,
                "the app did not answer /healthz within 60 s:\n{}",
                served.log_text()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The origin the app serves (and, with no `site_origin`, accepts forms from).
    pub fn origin(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// One request on its own connection.
    pub async fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> Res {
        self.try_request(method, path, headers, body)
            .await
            .unwrap_or_else(|| panic!("{method} {path}: no answer"))
    }

    async fn try_request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> Option<Res> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).await.ok()?;
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n",
            self.port
        );
        for (n, v) in headers {
            head.push_str(&format!("{n}: {v}\r\n"));
        }
        if let Some(body) = body {
            head.push_str("Content-Type: application/x-www-form-urlencoded\r\n");
            head.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        head.push_str("\r\n");
        head.push_str(body.unwrap_or(""));
        stream.write_all(head.as_bytes()).await.ok()?;
        let mut raw = Vec::new();
        tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut raw))
            .await
            .ok()?
            .ok()?;
        parse_response(&raw)
    }

    /// Everything the process wrote so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Stops the process and returns everything it wrote.
    pub fn stop(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.log_text()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
        let _ = std::fs::remove_file(&self.key);
    }
}

fn parse_response(raw: &[u8]) -> Option<Res> {
    let text = String::from_utf8_lossy(raw);
    let (head, rest) = text.split_once("\r\n\r\n")?;
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    let chunked = headers.iter().any(|(n, v)| {
        n.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    let body = if chunked {
        let mut body = String::new();
        let mut rest = rest;
        while let Some((size, after)) = rest.split_once("\r\n") {
            let size = usize::from_str_radix(size.trim(), 16).ok()?;
            if size == 0 {
                break;
            }
            body.push_str(after.get(..size)?);
            rest = after.get(size + 2..)?;
        }
        body
    } else {
        rest.to_string()
    };
    Some(Res {
        status,
        headers,
        body,
    })
}
