//! The debug profile's secret key, kept in a file of its own.
//!
//! Every cookie (sessions, CSRF, the learner's progress) is sealed with `secret_key`. Without one,
//! Rocket's debug profile makes up a random key at each start, so a restart or a mode switch
//! (`cargo run`, then `cargo run -- --mode cookie`) logged everyone out and showed "0 of 10"
//! exercises. Here the debug profile makes a key once and keeps it in a file; outside the debug
//! profile nothing is made up and Rocket refuses to launch without a key.
//!
//! The file is `target/session-lab-debug.key` in the clone the binary was built from: `target/`
//! is outside version control in every Cargo project (`.gitignore`), each clone (and CI's clean
//! one) gets a key of its own, nothing is written outside the project, and the key lives as long
//! as the build does — `cargo clean` starts over with a new one, which is what "clean" means.
//! `debug_key_file` (`ROCKET_DEBUG_KEY_FILE`) moves it; the tests point it at a temporary
//! directory so they never touch the developer's key.

use std::io::Write;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use rocket::config::SecretKey;
use rocket::fairing::AdHoc;
use rocket::figment::Figment;
use rocket::Config;
use serde::{Deserialize, Serialize};

/// The setting that names the file (`ROCKET_DEBUG_KEY_FILE` in the environment).
pub const KEY_FILE_SETTING: &str = "debug_key_file";

/// How to keep a key of one's own, as every message about a missing key says it: a key made
/// anew at each start ends every session and erases every learner's progress.
pub const KEEP_A_KEY: &str = "keep one in a file, once: `head -c64 /dev/urandom | base64 -w0 > \
    ~/session-lab.key && chmod 600 ~/session-lab.key`, and start with \
    ROCKET_SECRET_KEY=$(cat ~/session-lab.key)";

/// Where the key is kept when `debug_key_file` does not say.
pub fn default_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join("session-lab-debug.key")
}

/// Whether `figment` has no key of its own: none set, or Rocket's all-zero default.
pub fn key_missing(figment: &Figment) -> bool {
    figment.find_value("secret_key").is_err()
        || figment
            .extract_inner::<SecretKey>("secret_key")
            .is_ok_and(|k| k.is_zero())
}

/// Set in the figment by [`with_debug_key`], for [`notice`]: what it did with the file.
const MARK: &str = "session_lab_debug_key";

/// What [`with_debug_key`] did, said by [`notice`] once the app ignites.
#[derive(Serialize, Deserialize)]
struct Kept {
    path: String,
    /// `made`, `read`, `unwritable` (a random key for this run) or `unreadable` (no start).
    outcome: String,
    why: String,
}

/// In the debug profile without a `secret_key`, the key kept in the file (made and written there
/// at the first start). A file that cannot be written leaves a random key for this run; one that
/// holds no key stops the start at [`notice`], rather than replace a key someone put there. Any
/// other profile, or a key already set, is left alone. `--mode both` builds its two apps from
/// one figment, so they share the key.
pub fn with_debug_key(figment: Figment) -> Figment {
    let debug = *figment.profile() == Config::DEBUG_PROFILE;
    if !(debug && key_missing(&figment)) {
        return figment;
    }
    let path = figment
        .extract_inner::<PathBuf>(KEY_FILE_SETTING)
        .unwrap_or_else(|_| default_path());
    let kept = |outcome: &str, why: String| Kept {
        path: path.display().to_string(),
        outcome: outcome.into(),
        why,
    };
    match read_or_make(&path) {
        Ok((key, made)) => figment.merge(("secret_key", key)).merge((
            MARK,
            kept(if made { "made" } else { "read" }, String::new()),
        )),
        Err(Failed::Unreadable(why)) => figment.merge((MARK, kept("unreadable", why))),
        Err(Failed::Unwritable(why)) => figment
            .merge(("secret_key", crate::crypto::random_bytes(64)))
            .merge((MARK, kept("unwritable", why))),
    }
}

enum Failed {
    /// The file is there but holds no key, or cannot be read.
    Unreadable(String),
    /// There is no file and none can be made.
    Unwritable(String),
}

/// The key in `path` (base64, as `ROCKET_SECRET_KEY` takes it), and whether it was made now.
fn read_or_make(path: &Path) -> Result<(String, bool), Failed> {
    if let Some(key) = read(path)? {
        return Ok((key, false));
    }
    let key = STANDARD.encode(crate::crypto::random_bytes(64));
    match write_new(path, &key) {
        Ok(true) => Ok((key, true)),
        // Another start made it first: use that one, so both agree.
        Ok(false) => match read(path)? {
            Some(key) => Ok((key, false)),
            None => Err(Failed::Unreadable("it vanished while being read".into())),
        },
        Err(e) => Err(Failed::Unwritable(e.to_string())),
    }
}

/// The key in `path`; `None` when there is no file.
fn read(path: &Path) -> Result<Option<String>, Failed> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Failed::Unreadable(e.to_string())),
    };
    let key = text.trim();
    // Whatever Rocket takes as a key (32 or 64 bytes in base64 or hex), except all zeros.
    let usable = Figment::from(("key", key))
        .extract_inner::<SecretKey>("key")
        .is_ok_and(|k| !k.is_zero());
    if !usable {
        return Err(Failed::Unreadable(
            "it holds no key: 64 random bytes in base64 were expected".into(),
        ));
    }
    Ok(Some(key.to_string()))
}

/// Writes `key` to `path` readable by its owner only, unless the file exists already (then
/// `Ok(false)`). The key goes to a file of this process's own first and is linked into place:
/// a link is made only where no file is, so two first starts at once (two terminals) never
/// overwrite each other's key, and nobody reads a half-written one.
fn write_new(path: &Path, key: &str) -> std::io::Result<bool> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let own = path.with_extension(format!("new-{}", std::process::id()));
    let _ = std::fs::remove_file(&own);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options.open(&own).and_then(|mut file| {
        file.write_all(format!("{key}\n").as_bytes())?;
        file.sync_all()
    });
    let linked = written.and_then(|()| std::fs::hard_link(&own, path));
    let _ = std::fs::remove_file(&own);
    match linked {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e),
    }
}

/// Says in one line where the key came from (once per process: `--mode both` ignites two apps),
/// or stops the start when the file holds no key.
pub fn notice() -> AdHoc {
    AdHoc::try_on_ignite("Secret key", |rocket| async {
        let Ok(kept) = rocket.figment().extract_inner::<Kept>(MARK) else {
            return Ok(rocket);
        };
        let Kept { path, outcome, why } = kept;
        if outcome == "unreadable" {
            eprintln!(
                "session-lab: no secret_key is set, and the debug profile's key file {path} cannot \
                 be used ({why}). Delete it and a new key is made at the next start (every \
                 session and learner's progress sealed with the old one is then lost), or set \
                 ROCKET_SECRET_KEY."
            );
            return Err(rocket);
        }
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| match outcome.as_str() {
            "made" => rocket::info!(
                "No secret_key set: made one for the debug profile and kept it in {path} \
                 (readable by you only, outside git), so sessions and exercise progress outlive \
                 restarts and mode switches. Delete the file to end them all."
            ),
            "read" => rocket::info!(
                "No secret_key set: cookies are sealed with the debug profile's key kept in \
                 {path}, so sessions outlive restarts (delete the file to end them all)."
            ),
            _ => rocket::warn!(
                "No secret_key set, and none could be kept in {path} ({why}): this run seals \
                 cookies with a random key, so sessions end when it stops. Point \
                 ROCKET_DEBUG_KEY_FILE at a file you can write, or set ROCKET_SECRET_KEY."
            ),
        });
        Ok(rocket)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_path(name: &str) -> PathBuf {
        std::env::temp_dir()
            .join(format!(
                "session-lab-key-{}",
                crate::crypto::random_token(9)
            ))
            .join(name)
    }

    #[test]
    fn the_key_is_made_once_with_owner_only_permissions_and_read_back() {
        let path = temp_path("debug.key");
        let (first, made) = read_or_make(&path).ok().unwrap();
        assert!(made);
        let (again, made) = read_or_make(&path).ok().unwrap();
        assert!(!made);
        assert_eq!(first, again);
        assert_eq!(STANDARD.decode(&first).unwrap().len(), 64);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }

    #[test]
    fn a_file_without_a_key_is_not_replaced() {
        let path = temp_path("debug.key");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, "not a key\n").unwrap();
        assert!(matches!(read_or_make(&path), Err(Failed::Unreadable(_))));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "not a key\n");
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }

    #[test]
    fn only_the_debug_profile_without_a_key_uses_the_file() {
        let path = temp_path("debug.key");
        let at = |f: Figment| f.merge((KEY_FILE_SETTING, path.display().to_string()));
        let release = with_debug_key(at(Figment::new()).select(Config::RELEASE_PROFILE));
        assert!(key_missing(&release));
        let keyed = with_debug_key(
            at(Figment::new())
                .merge(("secret_key", vec![7u8; 64]))
                .select(Config::DEBUG_PROFILE),
        );
        assert!(keyed.find_value(MARK).is_err());
        assert!(!path.exists(), "neither wrote the file");
        let debug = with_debug_key(at(Figment::new()).select(Config::DEBUG_PROFILE));
        assert!(!key_missing(&debug));
        assert!(path.exists());
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }
}
