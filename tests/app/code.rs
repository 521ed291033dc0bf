//! "The code behind this page": each lesson page shows its handler's lines that touch the session,
//! exactly as they stand in the source, beside Django's; the Django-to-ours table; the favicon.

use crate::common::*;
use session_lab::lessons::{self, snippets, Snippet};
use session_lab::settings::Mode;

const PASSWORD: &str = "correct horse battery";

/// The build script itself, to feed its marker parser what a careless edit would leave.
#[allow(dead_code)]
#[path = "../../build.rs"]
mod build_script;

#[test]
fn broken_lesson_markers_stop_the_build_with_file_and_line() {
    let parse = |text: &str| {
        let mut blocks = Vec::new();
        build_script::blocks_of("src/x.rs", text, &mut blocks).map(|()| blocks)
    };
    let cases = [
        (
            "fn f() {\n    // lesson: a\n    g();\n}\n",
            "src/x.rs:2: `// lesson: a` has no `// end lesson` after it",
        ),
        (
            "g();\n// end lesson\n",
            "src/x.rs:2: `// end lesson` without a `// lesson: <id>` before it",
        ),
        (
            "// lesson: a\n// lesson: b\n",
            "src/x.rs:2: `// lesson: b` inside `a`",
        ),
        (
            "// lesson: a\n\n// end lesson\n",
            "src/x.rs:1: lesson `a` marks no code",
        ),
        (
            "// lesson: Set_Color\n",
            "src/x.rs:1: `Set_Color` is not a lesson id",
        ),
    ];
    for (text, error) in cases {
        let got = parse(text).err().unwrap_or_default();
        assert!(got.starts_with(error), "{text:?}: {got}");
    }
    let blocks = parse("    // lesson: ok\n        a();\n    b();\n    // end lesson\n").unwrap();
    assert_eq!(blocks.len(), 1);
    assert_eq!(blocks[0].id, "ok");
    assert_eq!(build_script::dedent(&blocks[0].lines), "    a();\nb();\n");
}

/// The page's text as a browser shows it: Tera escapes `&<>"'/` in the code.
fn shown(html: &str) -> String {
    html.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#x2F;", "/")
        .replace("&amp;", "&")
}

/// The box of `body`: from its `<details>` to the end of it.
fn code_box(body: &str) -> Option<&str> {
    let start = body.find("<details class=\"code-behind\">")?;
    let end = body[start..].find("</details>")?;
    Some(&body[start..start + end])
}

#[test]
fn every_snippet_is_the_source_lines_between_its_markers() {
    let root = env!("CARGO_MANIFEST_DIR");
    assert!(snippets::ALL.len() >= 15, "{}", snippets::ALL.len());
    for s in snippets::ALL {
        let text = std::fs::read_to_string(format!("{root}/{}", s.file)).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let marker = lines[s.first_line - 2].trim();
        assert_eq!(marker, format!("// lesson: {}", s.id), "{}", s.file);
        assert_eq!(lines[s.last_line()].trim(), "// end lesson", "{}", s.id);
        let source = &lines[s.first_line - 1..s.last_line()];
        let indent = source
            .iter()
            .filter(|l| !l.trim().is_empty())
            .map(|l| l.len() - l.trim_start().len())
            .min()
            .unwrap();
        let expected: Vec<&str> = source
            .iter()
            .map(|l| l.get(indent..).unwrap_or("").trim_end())
            .collect();
        let got: Vec<&str> = s.code.lines().collect();
        assert_eq!(got, expected, "{} ({}:{})", s.id, s.file, s.first_line);
    }
}

/// What each page must show: a few of its snippets and a line of Django's.
fn expected(page: &str) -> (Vec<Snippet>, &'static str) {
    let lesson = lessons::lesson(page).unwrap();
    let ours = lesson.parts.iter().flat_map(|p| p.ours).copied().collect();
    (ours, lesson.parts[0].django)
}

async fn each_lesson_page_shows_its_code_beside_djangos(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let b = app.browser();
    // Logged in, with a color and a note, so every page renders in full.
    assert_eq!(signup(&b, "codereader", PASSWORD).await.status, 303);
    assert_eq!(b.post("/color", &[("color", "teal")]).await.status, 303);
    assert_eq!(b.post("/notes", &[("note", "hello")]).await.status, 303);
    let anonymous = app.browser();
    let engine = match mode {
        Mode::Server => "django.contrib.sessions.backends.db",
        Mode::Cookie => "django.contrib.sessions.backends.signed_cookies",
        Mode::Redis => unreachable!("this suite runs in server and cookie mode"),
    };
    for (path, page, who) in [
        ("/", "home", &b),
        ("/color", "color", &b),
        ("/notes", "notes", &b),
        ("/signup", "signup", &anonymous),
        ("/login", "login", &anonymous),
        ("/account", "account", &b),
        ("/account/sessions", "sessions", &b),
        ("/session", "inspector", &b),
        ("/labs/replay", "replay", &b),
        ("/labs/tamper", "tamper", &b),
    ] {
        let res = who.get(path).await;
        assert_eq!(res.status, 200, "{path}");
        let boxed = code_box(&res.body).unwrap_or_else(|| panic!("{path}: no code box"));
        let text = shown(boxed);
        // Collapsed until asked for.
        assert!(
            !boxed.contains("<details class=\"code-behind\" open"),
            "{path}"
        );
        assert!(
            text.contains("The code behind this page, beside Django's"),
            "{path}"
        );
        let (ours, django) = expected(page);
        for s in ours {
            assert!(
                text.contains(s.code.trim_end()),
                "{path}: {} missing from\n{text}",
                s.id
            );
            let place = match s.last_line() - s.first_line {
                0 => format!("<code>{}</code>, line {}", s.file, s.first_line),
                _ => format!(
                    "<code>{}</code>, lines {}–{}",
                    s.file,
                    s.first_line,
                    s.last_line()
                ),
            };
            assert!(text.contains(&place), "{path}: {place}");
        }
        assert!(text.contains(django), "{path}: Django's {django:?}");
        assert!(text.contains(engine), "{path}: {engine}");
    }
    // The lines a student came for, spelled out.
    let color = shown(&b.get("/color").await.body);
    assert!(color.contains("request.session[\"color\"] = color"));
    assert!(color.contains("match page.session.insert(COLOR, color).await {"));
    let notes = shown(&b.get("/notes").await.body);
    assert!(notes.contains("request.session.modified = True"));
    let account = shown(&b.get("/account").await.body);
    assert!(account.contains("page.session.flush().await?;"));
    assert!(account.contains("logout(request)"));
    let login = shown(&anonymous.get("/login").await.body);
    assert!(login.contains("let renew = true;"));
    assert!(login.contains("request.session.cycle_key()"));
}

async fn the_inspector_maps_djangos_names_to_ours_and_explains_auth_hash(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let b = app.browser();
    let table = shown(&b.get("/session").await.body);
    for pair in [
        ["sessionid", "session_id"],
        ["django_session", "sessions"],
        ["_auth_user_hash", "auth_hash"],
        ["signed_cookies", "cookie mode"],
        ["SESSION_COOKIE_AGE", "session_absolute_timeout"],
        ["SESSION_SAVE_EVERY_REQUEST", "half"],
    ] {
        let row = table
            .split("<tr>")
            .find(|r| r.contains(pair[0]))
            .unwrap_or_else(|| panic!("no row for {}", pair[0]));
        assert!(row.contains(pair[1]), "{} → {}: {row}", pair[0], pair[1]);
    }
    assert!(table.contains("256 bits"));
    assert!(table.contains("not its encryption"));
    // auth_hash is explained where the map shows it, once there is a login.
    assert!(!table.contains("id=\"auth-hash\""));
    assert_eq!(signup(&b, "hashreader", PASSWORD).await.status, 303);
    let page = shown(&b.get("/session").await.body);
    assert!(page.contains("\"auth_hash\""), "the map shows the key");
    let why = page.split("id=\"auth-hash\"").nth(1).unwrap();
    assert!(why.contains("password hash"), "{why}");
    // And on the home page, which shows the map too.
    let home = shown(&b.get("/").await.body);
    let why = home.split("id=\"auth-hash\"").nth(1).unwrap();
    assert!(why.contains("password hash"), "{why}");
}

async fn the_favicon_is_an_icon_the_layout_links(mode: Mode) {
    let app = TestApp::spawn(mode).await;
    let res = app.client.get("/favicon.ico").dispatch().await;
    assert_eq!(res.status().code, 200);
    assert_eq!(res.headers().get_one("Content-Type"), Some("image/x-icon"));
    assert_eq!(
        res.headers().get_one("Cache-Control"),
        Some("public, max-age=86400")
    );
    // Viewing the icon sets no cookie and creates no session.
    assert_eq!(res.headers().get("Set-Cookie").count(), 0);
    let body = res.into_bytes().await.unwrap();
    // An ICO header (reserved 0, type 1) with two images, each a PNG.
    assert_eq!(&body[..4], &[0, 0, 1, 0]);
    assert_eq!(u16::from_le_bytes([body[4], body[5]]), 2);
    assert_eq!(body.windows(4).filter(|w| w == b"\x89PNG").count(), 2);
    assert_eq!(app.session_rows().await, 0);
    let home = app.browser().get("/").await;
    assert!(home
        .body
        .contains("<link rel=\"icon\" href=\"/favicon.ico\" sizes=\"16x16 32x32\">"));
}

both_modes!(
    each_lesson_page_shows_its_code_beside_djangos,
    the_inspector_maps_djangos_names_to_ours_and_explains_auth_hash,
    the_favicon_is_an_icon_the_layout_links,
);
