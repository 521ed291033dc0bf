//! The session layer stands on the ground floor: `src/session/` and `src/cookies/` import only
//! each other and the modules below them (settings, clock, crypto, the database pool, logging),
//! never a feature above them (reports, exercises, labs, routes, error pages). A feature that
//! needs something of the layer reads its `Summary` or hands it `Conditions`; this test fails the
//! day someone reaches down through a side door instead.

use std::path::{Path, PathBuf};

/// What the layer may import from the rest of the crate.
const GROUND: &[&str] = &[
    "session",
    "cookies",
    "settings",
    "clock",
    "crypto",
    "db",
    "logging",
    "unavailable",
    "session_map_keys",
];

fn rust_files(dir: &Path, into: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, into);
        } else if path.extension().is_some_and(|x| x == "rs") {
            into.push(path);
        }
    }
}

/// Every `crate::name` a source text mentions.
fn crate_paths(source: &str) -> Vec<&str> {
    source
        .match_indices("crate::")
        .map(|(at, m)| {
            let rest = &source[at + m.len()..];
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            &rest[..end]
        })
        .collect()
}

#[test]
fn the_session_layer_imports_nothing_from_the_features_above_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    for layer in ["session", "cookies"] {
        rust_files(&root.join(layer), &mut files);
    }
    assert!(files.len() > 10, "the layer's files were found: {files:?}");
    let mut reaching_up = Vec::new();
    for file in &files {
        let source = std::fs::read_to_string(file).unwrap_or_default();
        for name in crate_paths(&source) {
            if !GROUND.contains(&name) {
                reaching_up.push(format!("{}: crate::{name}", file.display()));
            }
        }
    }
    assert!(
        reaching_up.is_empty(),
        "the session layer reaches up into features:\n{}",
        reaching_up.join("\n")
    );
}

#[test]
fn the_checker_sees_an_import_that_reaches_up() {
    let text =
        "use crate::report::Story;\nuse crate::settings::Mode;\nfn f() { crate::clock::now() }";
    assert_eq!(crate_paths(text), ["report", "settings", "clock"]);
}
