//! Start-up checks and keys (SPEC "Start-up checks"): settings that contradict each other stop the
//! start with one message naming them and the fix, the classroom profile says the URL students
//! type, and the debug profile keeps its generated key in a file so restarts and mode switches
//! keep sessions and progress. What a user sees: the exit code, the message, the page.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rocket::figment::Figment;
use rocket::local::asynchronous::Client;
use session_lab::settings::Settings;

use crate::common::*;

/// Nothing listens on port 1: a check that should stop the start must do so before any database.
const NO_DATABASE: &str = "postgres://postgres@127.0.0.1:1/unused";

/// A key as `ROCKET_SECRET_KEY` takes it: 64 bytes in base64.
fn key_text() -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(SECRET)
}

/// The binary in cookie mode with only the `ROCKET_*` variables a test gives (none from the
/// developer's shell), its debug key file in `keys`, on a port of its own, started in the temp
/// dir: no `Rocket.toml` there or above, so it must find the one beside the sources itself.
fn binary(keys: &TempDir, env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_session-lab"));
    for (key, _) in std::env::vars() {
        if key.starts_with("ROCKET_") {
            command.env_remove(key);
        }
    }
    command
        .args(["--mode", "cookie"])
        .current_dir(std::env::temp_dir())
        .env("DATABASE_URL", NO_DATABASE)
        .env("ROCKET_PORT", "0")
        .env("ROCKET_LOG_LEVEL", "critical")
        .env("ROCKET_CLI_COLORS", "false")
        .env("ROCKET_DEBUG_KEY_FILE", keys.key_file())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (name, value) in env {
        command.env(name, value);
    }
    command
}

/// Runs the binary expecting it to stop by itself; one that is still serving after 60 s is
/// stopped, and its exit code is then `None`.
fn refused(keys: &TempDir, env: &[(&str, &str)]) -> (Option<i32>, String) {
    let mut child = binary(keys, env).spawn().expect("the binary runs");
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let out = child.wait_with_output().expect("its output");
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let said = format!(
        "{stderr}\n(stdout:)\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        !stderr.contains("panicked") && !stderr.contains("backtrace"),
        "{said}"
    );
    // One message: the refusal, and nothing else on stderr.
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(
        out.status.code().is_none() || lines.len() == 1,
        "one message: {said}"
    );
    (out.status.code(), stderr)
}

#[rocket::async_test]
async fn contradictory_settings_are_refused_with_a_message_naming_them_and_the_fix() {
    type Tweak = fn(Figment) -> Figment;
    let cases: [(Tweak, &[&str]); 3] = [
        (
            |f| {
                f.merge(("session_cookie_secure", true))
                    .merge(("site_origin", "http://192.168.1.20:8000"))
            },
            &[
                "session_cookie_secure = true with site_origin = http://192.168.1.20:8000",
                "browsers drop Secure cookies sent over http",
                "403",
                "site_origin = \"https://…\"",
                "ROCKET_SESSION_COOKIE_SECURE=false",
            ],
        ),
        (
            |f| {
                f.merge(("address", "0.0.0.0"))
                    .merge(("site_origin", "http://localhost:8000"))
            },
            &[
                "site_origin = http://localhost:8000 is this machine's loopback",
                "address = 0.0.0.0 listens on every address",
                "403",
                "ROCKET_SITE_ORIGIN=http://",
                "ROCKET_ADDRESS=127.0.0.1",
            ],
        ),
        (
            |f| f.select("clasroom"),
            &[
                "ROCKET_PROFILE=clasroom names a profile that no Rocket.toml defines",
                "Rocket.toml defines only",
                "classroom",
                "listening on 127.0.0.1 only",
            ],
        ),
    ];
    for (tweak, said) in cases {
        let figment = tweak(test_figment(CookieMode, NO_DATABASE));
        let err = Settings::from_figment(&figment).expect_err("refused");
        for words in said {
            assert!(err.contains(words), "{words:?} in {err}");
        }
        // And the app built from it does not start.
        let Err(e) = Client::untracked(session_lab::build(figment)).await else {
            panic!("started despite: {err}");
        };
        assert!(
            matches!(e.kind(), rocket::error::ErrorKind::FailedFairings(_)),
            "{err}"
        );
    }
}

#[test]
fn secure_cookies_with_an_http_origin_stop_the_binary_with_exit_1_and_the_fix() {
    let keys = TempDir::fresh();
    let key = key_text();
    let (code, stderr) = refused(
        &keys,
        &[
            ("ROCKET_SECRET_KEY", &key),
            ("ROCKET_SESSION_COOKIE_SECURE", "true"),
            ("ROCKET_SITE_ORIGIN", "http://192.168.1.20:8000"),
        ],
    );
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.starts_with(
            "session-lab: bad setting: session_cookie_secure = true with site_origin = \
             http://192.168.1.20:8000"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("ROCKET_SESSION_COOKIE_SECURE=false"),
        "{stderr}"
    );
}

/// Run from a directory with no `Rocket.toml`, the binary still reads the one beside its
/// sources: the classroom profile's `address = "0.0.0.0"` is what makes a loopback origin wrong.
#[test]
fn the_classroom_profile_is_read_from_any_directory_and_refuses_a_loopback_origin() {
    let keys = TempDir::fresh();
    let key = key_text();
    let (code, stderr) = refused(
        &keys,
        &[
            ("ROCKET_PROFILE", "classroom"),
            ("ROCKET_SECRET_KEY", &key),
            ("ROCKET_SITE_ORIGIN", "http://127.0.0.1:8000"),
        ],
    );
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains(
            "site_origin = http://127.0.0.1:8000 is this machine's loopback, but address = 0.0.0.0"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("ROCKET_ADDRESS=127.0.0.1"), "{stderr}");
}

#[test]
fn a_profile_no_rocket_toml_defines_stops_the_binary() {
    let keys = TempDir::fresh();
    let key = key_text();
    let (code, stderr) = refused(
        &keys,
        &[("ROCKET_PROFILE", "clasroom"), ("ROCKET_SECRET_KEY", &key)],
    );
    assert_eq!(code, Some(1), "{stderr}");
    let beside_sources = concat!(env!("CARGO_MANIFEST_DIR"), "/Rocket.toml");
    assert!(
        stderr.contains(&format!(
            "ROCKET_PROFILE=clasroom names a profile that no Rocket.toml defines: \
             {beside_sources} defines only"
        )),
        "{stderr}"
    );

    // ROCKET_CONFIG naming no file: nothing defines the classroom profile either.
    let missing = keys.0.join("Rocket.toml");
    let missing = missing.to_str().expect("a UTF-8 temp path");
    let (code, stderr) = refused(
        &keys,
        &[
            ("ROCKET_PROFILE", "classroom"),
            ("ROCKET_CONFIG", missing),
            ("ROCKET_SECRET_KEY", &key),
            ("ROCKET_SITE_ORIGIN", "http://192.168.1.20:8000"),
        ],
    );
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "no Rocket.toml was found (ROCKET_CONFIG names {missing}, which is not there)"
        )),
        "{stderr}"
    );
}

#[test]
fn the_release_profile_without_a_key_is_refused_and_no_key_file_is_made() {
    let keys = TempDir::fresh();
    let (code, stderr) = refused(&keys, &[("ROCKET_PROFILE", "release")]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("the release profile needs a secret_key"),
        "{stderr}"
    );
    assert!(
        stderr.contains("head -c64 /dev/urandom | base64 -w0 > ~/session-lab.key")
            && stderr.contains("ROCKET_SECRET_KEY=$(cat ~/session-lab.key)"),
        "{stderr}"
    );
    assert!(
        !keys.key_file().exists(),
        "only the debug profile keeps one"
    );
}

#[test]
fn help_says_how_to_keep_a_key_in_a_file_not_to_make_one_at_each_start() {
    let out = Command::new(env!("CARGO_BIN_EXE_session-lab"))
        .arg("--help")
        .output()
        .expect("the binary runs");
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(
        help.contains("head -c64 /dev/urandom | base64 -w0 > ~/session-lab.key"),
        "{help}"
    );
    assert!(
        help.contains("ROCKET_SECRET_KEY=$(cat ~/session-lab.key)"),
        "{help}"
    );
    assert!(help.contains("target/session-lab-debug.key"), "{help}");
    assert!(!help.contains("=$(head -c64"), "{help}");
}

#[test]
fn the_classroom_profile_says_the_url_students_type() {
    let keys = TempDir::fresh();
    let key = key_text();
    let mut child = binary(
        &keys,
        &[
            ("ROCKET_PROFILE", "classroom"),
            ("ROCKET_SECRET_KEY", &key),
            ("ROCKET_SITE_ORIGIN", "http://192.168.1.20:8000"),
        ],
    )
    .stderr(Stdio::null())
    .spawn()
    .expect("the binary runs");
    let stdout = child.stdout.take().expect("piped");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seen = Vec::new();
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        let Ok(line) = rx.recv_timeout(left) else {
            break;
        };
        seen.push(line);
        if seen.iter().any(|l| l.contains("students open")) {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(
        seen.iter()
            .filter(|l| l.contains("students open"))
            .collect::<Vec<_>>(),
        ["session-lab: students open http://192.168.1.20:8000"],
        "{seen:#?}"
    );
}

/// `cargo run`, then `cargo run -- --mode cookie`, then `cargo run` again, with no key set: each
/// start reads the key the first one kept, so the browser's session and its exercise progress are
/// still there (before, each start made a new key and the cookies opened nowhere: "0 of 10").
#[rocket::async_test]
async fn the_debug_key_kept_in_a_file_keeps_sessions_and_progress_across_restarts_and_modes() {
    let keys = TempDir::fresh();
    let key_file = keys.key_file();
    let db_name = fresh_db_name();
    let db_url = url_for(&db_name);
    // The harness's fixed key replaced by Rocket's "no key" (all zeros), in the debug profile.
    let no_key = |f: Figment| {
        f.merge(("secret_key", vec![0u8; 64]))
            .merge(("debug_key_file", key_file.clone()))
            .select("debug")
    };
    let first = TestApp::spawn_on(ServerMode, &db_name, &db_url, no_key).await;
    let b = first.browser();
    let predict = b
        .post("/exercises/first-value/predict", &[("choice", "1")])
        .await;
    assert_eq!(predict.status, 303, "{}", predict.body);
    assert_eq!(b.post("/color", &[("color", "red")]).await.status, 303);
    assert!(solved(&b, "first-value").await);

    let kept = std::fs::read_to_string(&key_file).expect("the key was kept");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "readable by its owner only");
    }

    // The mode switch: the learner cookie opens (the page counts a solve in any mode), and is
    // not replaced by a new learner's.
    let switched = TestApp::spawn_on(CookieMode, &db_name, &db_url, no_key).await;
    let b2 = carried(&b, &switched);
    let page = b2.get("/exercises.json").await;
    assert_eq!(page.status, 200);
    assert!(page.set_cookie("learner").is_none(), "{:?}", page.headers);
    assert!(
        solved(&b2, "first-value").await,
        "progress after the switch"
    );
    assert_eq!(b2.post("/color", &[("color", "blue")]).await.status, 303);
    assert!(b2
        .get("/color")
        .await
        .body
        .contains("<strong>blue</strong>"));

    // Back to server mode: the row written under the first start is this browser's again.
    let again = TestApp::spawn_on(ServerMode, &db_name, &db_url, no_key).await;
    let b3 = carried(&b2, &again);
    let color = b3.get("/color").await;
    assert!(color.trace().contains("load=hit"), "{}", color.trace());
    assert!(color.body.contains("<strong>red</strong>"));
    assert!(solved(&b3, "first-value").await, "progress survived");
    assert_eq!(
        std::fs::read_to_string(&key_file).expect("still there"),
        kept,
        "one key for all three starts"
    );
}

/// A browser on `app` holding every cookie `from` holds: the same browser after a restart.
fn carried<'a>(from: &Browser<'_>, app: &'a TestApp) -> Browser<'a> {
    let b = app.browser();
    for (name, value) in from.cookies() {
        b.set_cookie(&name, &value);
    }
    b
}

async fn solved(b: &Browser<'_>, id: &str) -> bool {
    let res = b.get("/exercises.json").await;
    assert_eq!(res.status, 200, "{}", res.body);
    res.json()
        .as_array()
        .expect("a list")
        .iter()
        .any(|e| e["id"] == id && e["solved"] == true)
}
