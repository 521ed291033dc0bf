//! Where the settings come from: Rocket's own figment (`Rocket.toml`, `ROCKET_*`,
//! `ROCKET_PROFILE`), with `Rocket.toml` found from any working directory.
//!
//! Rocket looks for `Rocket.toml` (or `ROCKET_CONFIG`) in the working directory and the ones above
//! it only, so the binary started anywhere else ran on the defaults and ignored
//! `ROCKET_PROFILE=classroom` without a word. The templates are already found beside the sources
//! (`CARGO_MANIFEST_DIR`), so the settings are too when no other `Rocket.toml` is in reach.

use std::path::{Path, PathBuf};

use rocket::figment::providers::{Env, Format, Toml};
use rocket::figment::{Figment, Profile, Source};
use rocket::Config;

/// The file Rocket reads its settings from.
pub const CONFIG_FILE: &str = "Rocket.toml";

/// Rocket's figment, built as [`Config::figment`] builds it, but reading [`config_file`].
pub fn rocket_figment() -> Figment {
    Figment::from(Config::default())
        .merge(Toml::file(config_file()).nested())
        .merge(Env::prefixed("ROCKET_").ignore(&["PROFILE"]).global())
        .select(Profile::from_env_or(
            "ROCKET_PROFILE",
            Config::DEFAULT_PROFILE,
        ))
}

/// `ROCKET_CONFIG` when set (searched for as Rocket does); else `Rocket.toml` in the working
/// directory or one above it; else the one beside the sources this binary was built from.
fn config_file() -> PathBuf {
    if let Some(asked) = Env::var("ROCKET_CONFIG") {
        return asked.into();
    }
    let in_reach = std::env::current_dir()
        .is_ok_and(|cwd| cwd.ancestors().any(|dir| dir.join(CONFIG_FILE).is_file()));
    let beside_sources = beside_sources();
    if in_reach || !beside_sources.is_file() {
        CONFIG_FILE.into()
    } else {
        beside_sources
    }
}

/// `Rocket.toml` in the clone this binary was built from.
pub(super) fn beside_sources() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(CONFIG_FILE)
}

/// The TOML files `figment` read, for messages that say where a setting came from (or did not).
pub(super) fn files_read(figment: &Figment) -> Vec<PathBuf> {
    figment
        .metadata()
        .filter_map(|m| match &m.source {
            Some(Source::File(path)) => Some(path.clone()),
            _ => None,
        })
        .collect()
}
