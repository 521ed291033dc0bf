//! Takes the lines each lesson page shows ("the code behind this page") out of the handlers at
//! build time, so the page cannot show code that no longer runs.
//!
//! A handler marks the lines with two comment lines, `// lesson: <id>` before and
//! `// end lesson` after. Every marked block under `src/` becomes a constant in
//! `$OUT_DIR/snippets.rs` (id `set-color` → `SET_COLOR`), which `src/lessons.rs` includes: a page
//! that asks for a block no source marks does not compile. A marker without its end, an end
//! without a marker, a nested or repeated id, or an empty block stops the build with the file and
//! line.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    // A directory here means "anything under it changed" to Cargo.
    println!("cargo:rerun-if-changed=src");
    // sqlx::migrate!() reads migrations/ at compile time; a new migration must rebuild the crate.
    println!("cargo:rerun-if-changed=migrations");
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by Cargo"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    files.sort();
    let mut blocks = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file)
            .unwrap_or_else(|e| panic!("reading {}: {e}", file.display()));
        let shown = file
            .strip_prefix(&root)
            .unwrap_or(file)
            .to_string_lossy()
            .replace('\\', "/");
        if let Err(e) = blocks_of(&shown, &text, &mut blocks) {
            panic!("lesson markers: {e}");
        }
    }
    let mut seen = std::collections::BTreeMap::new();
    for b in &blocks {
        if let Some(first) = seen.insert(b.id.clone(), format!("{}:{}", b.file, b.marker_line)) {
            panic!(
                "lesson markers: `{}` is marked twice, at {first} and {}:{}",
                b.id, b.file, b.marker_line
            );
        }
    }
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("set by Cargo")).join("snippets.rs");
    let code = generate(&blocks);
    // Rewritten only when it changes, so an unrelated edit does not touch it.
    if std::fs::read_to_string(&out).ok().as_deref() != Some(code.as_str()) {
        std::fs::write(&out, code).unwrap_or_else(|e| panic!("writing {}: {e}", out.display()));
    }
}

fn rust_files(dir: &Path, into: &mut Vec<PathBuf>) {
    let entries =
        std::fs::read_dir(dir).unwrap_or_else(|e| panic!("listing {}: {e}", dir.display()));
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, into);
        } else if path.extension().is_some_and(|e| e == "rs") {
            into.push(path);
        }
    }
}

/// `pub(crate)` so that `tests/app/code.rs`, which includes this file, can feed it bad markers.
pub(crate) struct Block {
    pub(crate) id: String,
    file: String,
    /// 1-based line of the `// lesson:` marker; the code starts on the next line.
    marker_line: usize,
    pub(crate) lines: Vec<String>,
}

const START: &str = "// lesson:";
const END: &str = "// end lesson";

pub(crate) fn blocks_of(file: &str, text: &str, into: &mut Vec<Block>) -> Result<(), String> {
    let mut open: Option<Block> = None;
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let trimmed = line.trim();
        if let Some(rest) = trimmed.strip_prefix(START) {
            let id = rest.trim();
            if let Some(b) = &open {
                return Err(format!(
                    "{file}:{n}: `{trimmed}` inside `{}` (opened at line {}): close it with \
                     `{END}` first",
                    b.id, b.marker_line
                ));
            }
            let valid = !id.is_empty()
                && id
                    .bytes()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
                && !id.starts_with(|c: char| c.is_ascii_digit() || c == '-');
            if !valid {
                return Err(format!(
                    "{file}:{n}: `{id}` is not a lesson id (lower-case letters, digits and `-`, \
                     starting with a letter)"
                ));
            }
            open = Some(Block {
                id: id.to_string(),
                file: file.to_string(),
                marker_line: n,
                lines: Vec::new(),
            });
        } else if trimmed == END {
            let Some(b) = open.take() else {
                return Err(format!(
                    "{file}:{n}: `{END}` without a `{START} <id>` before it"
                ));
            };
            if b.lines.iter().all(|l| l.trim().is_empty()) {
                return Err(format!(
                    "{file}:{}: lesson `{}` marks no code",
                    b.marker_line, b.id
                ));
            }
            into.push(b);
        } else if let Some(b) = &mut open {
            b.lines.push(line.to_string());
        }
    }
    match open {
        Some(b) => Err(format!(
            "{file}:{}: `{START} {}` has no `{END}` after it",
            b.marker_line, b.id
        )),
        None => Ok(()),
    }
}

/// The lines without the indentation they share.
pub(crate) fn dedent(lines: &[String]) -> String {
    let indent = lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    let mut out = String::new();
    for l in lines {
        out.push_str(l.get(indent..).unwrap_or("").trim_end());
        out.push('\n');
    }
    out
}

fn generate(blocks: &[Block]) -> String {
    let mut code =
        String::from("// Generated by build.rs from the `// lesson:` markers. Do not edit.\n\n");
    for b in blocks {
        let name = b.id.to_ascii_uppercase().replace('-', "_");
        let _ = writeln!(
            code,
            "/// `{id}`: {file}, lines {first}–{last}.\npub const {name}: Snippet = Snippet {{ id: {id:?}, file: {file:?}, first_line: {first}, code: {text:?} }};",
            id = b.id,
            file = b.file,
            first = b.marker_line + 1,
            last = b.marker_line + b.lines.len(),
            text = dedent(&b.lines),
        );
    }
    let _ = writeln!(
        code,
        "\n/// Every marked block, in file order.\npub const ALL: &[Snippet] = &["
    );
    for b in blocks {
        let _ = writeln!(code, "    {},", b.id.to_ascii_uppercase().replace('-', "_"));
    }
    code.push_str("];\n");
    code
}
