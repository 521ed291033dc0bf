//! "The code behind this page": the few lines of each lesson page's handler that touch the
//! session, beside what a Django project writes for the same step.
//!
//! Our side is never typed here. `build.rs` copies each block marked `// lesson: <id>` …
//! `// end lesson` in `src/` into a constant of [`snippets`], so a page shows the code that runs,
//! and a page that names a block no source marks does not compile. The Django side is written
//! here, since it is the comparison, not our code.
//!
//! Each page's box is assembled into HTML once per mode (the first time it is shown) and handed to
//! the templates, already wrapped in its collapsed `<details>`, by the Tera function
//! `code_behind(page=…, mode=…)`: a loop over the parts in Tera (or a macro around it) would cost
//! every page render more than the rest of its template.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::LazyLock;

use rocket_dyn_templates::tera::{self, escape_html};
use serde_json::Value;

/// A block of source lines between two lesson markers, as `build.rs` found it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Snippet {
    /// The marker's id: `// lesson: color-set`.
    pub id: &'static str,
    /// The file, relative to the crate's root (`src/routes/color.rs`).
    pub file: &'static str,
    /// The 1-based line of the first shown line (the one after the marker).
    pub first_line: usize,
    /// The lines, without the indentation they share, each ending in `\n`.
    pub code: &'static str,
}

impl Snippet {
    /// The 1-based line of the last shown line.
    pub fn last_line(&self) -> usize {
        self.first_line + self.code.lines().count() - 1
    }

    /// Where it is, in words: `line 12` or `lines 12–20`.
    pub fn lines(&self) -> String {
        match self.last_line() {
            last if last == self.first_line => format!("line {last}"),
            last => format!("lines {}–{last}", self.first_line),
        }
    }
}

/// Every marked block of `src/`, one constant each (`color-set` → `COLOR_SET`), and [`ALL`].
///
/// [`ALL`]: snippets::ALL
pub mod snippets {
    use super::Snippet;
    include!(concat!(env!("OUT_DIR"), "/snippets.rs"));
}

use snippets as s;

/// One step of a page: our lines, Django's, and what differs.
pub struct Part {
    pub title: &'static str,
    pub ours: &'static [Snippet],
    pub django: &'static str,
    /// HTML (trusted: written here), shown under the pair.
    pub note: &'static str,
}

/// A page's box: its parts, in the order a student meets them.
pub struct Lesson {
    /// The name templates ask for: `{{ m::code(page="color", mode=mode) }}`.
    pub page: &'static str,
    pub parts: &'static [Part],
}

const LOGOUT: Part = Part {
    title: "Log out",
    ours: &[s::LOGOUT],
    django:
        "from django.contrib.auth import logout\n\nlogout(request)  # calls request.session.flush()",
    note: "Both end the session and start an empty one. In server mode <code>flush</code> deletes \
           the row, as Django's database backend deletes the <code>django_session</code> row, so \
           a copied cookie is worthless afterwards. In cookie mode, as with Django's \
           <code>signed_cookies</code> backend, there is no row to delete: the browser is told to \
           drop its cookie, and a copy still opens until its deadlines (the replay lab shows it).",
};

/// What each lesson page shows. A page a template names that is missing here fails its render
/// (and the tests); a snippet no page shows fails a unit test below.
pub const LESSONS: &[Lesson] = &[
    Lesson {
        page: "home",
        parts: &[
            Part {
                title: "What your session holds",
                ours: &[s::HOME],
                django: "data = dict(request.session.items())",
                note: "Reading loads the session once per request, in both: a <code>SELECT</code> \
                       by primary key in server mode, opening the cookie in cookie mode.",
            },
            LOGOUT,
        ],
    },
    Lesson {
        page: "color",
        parts: &[
            Part {
                title: "Show the color",
                ours: &[s::COLOR_SHOW],
                django: "color = request.session.get(\"color\")",
                note: "A missing key is <code>None</code> in both; no session is created by reading.",
            },
            Part {
                title: "Set the color",
                ours: &[s::COLOR_SET],
                django: "request.session[\"color\"] = color\nreturn redirect(\"color\")",
                note: "Django saves a changed session when the response goes out, as our session \
                       layer does. Django does not check the size: its cookie backend sends a \
                       cookie a browser may drop without a word, and its database backend stores \
                       whatever it is given. Here a session past its limit is refused with 413 \
                       and nothing changes.",
            },
        ],
    },
    Lesson {
        page: "notes",
        parts: &[
            Part {
                title: "Show the notes",
                ours: &[s::NOTES_SHOW],
                django: "notes = request.session.get(\"notes\", [])",
                note: "",
            },
            Part {
                title: "Add a note",
                ours: &[s::NOTES_ADD],
                django: "request.session.setdefault(\"notes\", []).append(note)\n\
                         # Django cannot see a change inside the list: say so, or it is not saved.\n\
                         request.session.modified = True",
                note: "Our <code>update</code> takes the change as a closure, so the session knows \
                       it changed: there is no <code>modified</code> flag to forget.",
            },
            Part {
                title: "Clear the notes",
                ours: &[s::NOTES_CLEAR],
                django: "request.session.pop(\"notes\", None)",
                note: "",
            },
        ],
    },
    Lesson {
        page: "signup",
        parts: &[Part {
            title: "Create the account, then log in",
            ours: &[s::SIGNUP],
            django: "user = User.objects.create_user(username, password=password)\n\
                     login(request, user)",
            note: "Logging in is the same step as on the login page: a new session id.",
        }],
    },
    Lesson {
        page: "login",
        parts: &[
            Part {
                title: "Log in",
                ours: &[s::LOGIN, s::LOGIN_STAMP],
                django: "user = authenticate(request, username=username, password=password)\n\
                         if user is not None:\n    \
                         login(request, user)  # new session key, new CSRF token\n    \
                         if not remember:\n        \
                         request.session.set_expiry(0)  # cookie ends with the browser",
                note: "<code>login()</code> stores <code>_auth_user_id</code> and \
                       <code>_auth_user_hash</code>; ours stores <code>user_id</code> beside the \
                       map and <code>auth_hash</code> in it (a keyed hash of the password hash: \
                       a changed password no longer matches, and the session ends).",
            },
            Part {
                title: "… under a new id",
                ours: &[s::LOGIN_NEW_ID],
                django: "# inside login():\n\
                         if SESSION_KEY in request.session and another_user_or_changed_password:\n    \
                         request.session.flush()\n\
                         else:\n    \
                         request.session.cycle_key()",
                note: "Both keep an anonymous session's data and give it a new identity, so an id \
                       planted before login (session fixation) is worthless after it.",
            },
        ],
    },
    Lesson {
        page: "account",
        parts: &[
            Part {
                title: "Only for a logged-in user",
                ours: &[s::ACCOUNT],
                django: "@login_required\ndef account(request):\n    \
                         user = request.user\n    \
                         ends = request.session.get_expiry_date()",
                note: "<code>User</code> is a request guard: like Django's \
                       <code>get_user()</code> it loads the account named by the session and \
                       checks <code>auth_hash</code>; an anonymous visitor is sent to the login \
                       page (303), as <code>@login_required</code> does.",
            },
            LOGOUT,
        ],
    },
    Lesson {
        page: "sessions",
        parts: &[
            Part {
                title: "End one session",
                ours: &[s::SESSIONS_END_ONE],
                django: "# django_session has no user column: find the user's rows by decoding each.\n\
                         for row in Session.objects.filter(expire_date__gt=timezone.now()):\n    \
                         if row.get_decoded().get(\"_auth_user_id\") == str(request.user.pk):\n        \
                         ...  # list it; ending one is row.delete()",
                note: "Our <code>sessions</code> table has a <code>user_id</code> column, indexed, \
                       so listing and ending a user's sessions is one statement. Cookie mode keeps \
                       no sessions, so it has none to list.",
            },
            Part {
                title: "Sign out everywhere else",
                ours: &[s::SESSIONS_END_OTHERS, s::SESSIONS_EPOCH],
                django: "# Django's way: a new password. Every other session's _auth_user_hash\n\
                         # stops matching, and this one is kept:\n\
                         user.set_password(new_password)\nuser.save()\n\
                         update_session_auth_hash(request, user)",
                note: "Server mode deletes the other rows. Cookie mode cannot delete what it never \
                       kept: it raises the account's epoch, which older cookies no longer match \
                       wherever the account is loaded.",
            },
        ],
    },
    Lesson {
        page: "inspector",
        parts: &[Part {
            title: "Load the session and why a cookie was refused",
            ours: &[s::INSPECTOR],
            django: "request.session.session_key\n\
                     dict(request.session.items())\n\
                     request.session.get_expiry_date()\n\
                     Session.objects.get(pk=request.session.session_key)  # the row (db backend)",
            note: "Django drops a bad cookie silently; ours says why it refused one \
                   (<code>refused=</code> in <code>Session-Trace</code>).",
        }],
    },
    Lesson {
        page: "replay",
        parts: &[
            Part {
                title: "Open a copied cookie",
                ours: &[s::REPLAY_OPEN],
                django: "store = SessionStore(session_key=copied_value)\n\
                         data = store.load()  # {} when the row is gone or the signature expired",
                note: "The same function every request uses opens the copy: the lab does not \
                       imitate the check, it runs it.",
            },
            Part {
                title: "… and check its login",
                ours: &[s::REPLAY_CHECK],
                django: "from django.contrib.auth import get_user\n\
                         user = get_user(request)  # checks _auth_user_hash; else AnonymousUser",
                note: "",
            },
        ],
    },
    Lesson {
        page: "tamper",
        parts: &[Part {
            title: "Open a changed cookie",
            ours: &[s::TAMPER_OPEN],
            django: "from django.core import signing\n\n\
                     signing.loads(value, salt=\"django.contrib.sessions.backends.signed_cookies\")\n\
                     # BadSignature: the request gets a new, empty session",
            note: "AES-GCM's tag, checked before any byte is trusted, refuses the change as an \
                   HMAC signature does; unlike a signature it also hides the content.",
        }],
    },
];

/// Django's setting for what this mode does, in a sentence.
fn engine(mode: &str) -> &'static str {
    if mode == "cookie" {
        "Django's nearest is <code>SESSION_ENGINE = \
         \"django.contrib.sessions.backends.signed_cookies\"</code>: the map in the cookie, \
         signed but readable (base64 JSON). Ours is encrypted too (AES-256-GCM)."
    } else {
        "Django's nearest is <code>SESSION_ENGINE = \"django.contrib.sessions.backends.db\"</code> \
         (its default): a random key in the <code>sessionid</code> cookie, the data in a row of \
         <code>django_session</code>."
    }
}

fn block(into: &mut String, code: &str) {
    let _ = write!(
        into,
        "<pre class=\"code\"><code>{}</code></pre>",
        escape_html(code.trim_end())
    );
}

/// The inside of a page's `<details>` box, in `mode` (`server` or `cookie`).
fn render(lesson: &Lesson, mode: &str) -> String {
    let mut html = format!("<p>{}</p>", engine(mode));
    for part in lesson.parts {
        let _ = write!(
            html,
            "<section class=\"pair\"><h2>{}</h2><div class=\"side\"><p class=\"who\">Session Lab</p>",
            escape_html(part.title)
        );
        for snippet in part.ours {
            let _ = write!(
                html,
                "<p class=\"where\"><code>{}</code>, {}</p>",
                snippet.file,
                snippet.lines()
            );
            block(&mut html, snippet.code);
        }
        html.push_str("</div><div class=\"side\"><p class=\"who\">Django</p>");
        block(&mut html, part.django);
        html.push_str("</div>");
        if !part.note.is_empty() {
            let _ = write!(html, "<p class=\"note\">{}</p>", part.note);
        }
        html.push_str("</section>");
    }
    html
}

/// Each page's box in server and cookie mode, in the order of [`LESSONS`], built the first time
/// any is shown.
static RENDERED: LazyLock<Vec<[String; 2]>> = LazyLock::new(|| {
    // Collapsed by default: the page's lesson comes first, its code on request.
    let boxed = |l: &Lesson, mode: &str| {
        format!(
            "<details class=\"code-behind\">\n<summary>The code behind this page, beside \
             Django's</summary>\n{}\n</details>",
            render(l, mode)
        )
    };
    LESSONS
        .iter()
        .map(|l| [boxed(l, "server"), boxed(l, "cookie")])
        .collect()
});

/// The box of `page` in `mode`, or `None` for a page with no lesson.
pub fn html(page: &str, mode: &str) -> Option<&'static str> {
    let i = LESSONS.iter().position(|l| l.page == page)?;
    let boxes = RENDERED.get(i)?;
    Some(boxes[usize::from(mode == "cookie")].as_str())
}

/// The lesson of `page`, if it has one.
pub fn lesson(page: &str) -> Option<&'static Lesson> {
    LESSONS.iter().find(|l| l.page == page)
}

/// Registers `code_behind(page=…, mode=…)`, the whole collapsed box as HTML (templates write it
/// with `| safe`); an unknown page fails the render, so a template that asks for a box nobody
/// wrote is caught by the first test that shows it.
pub fn register(tera: &mut tera::Tera) {
    tera.register_function(
        "code_behind",
        |args: &HashMap<String, Value>| -> tera::Result<Value> {
            let page = args.get("page").and_then(Value::as_str).unwrap_or_default();
            let mode = args.get("mode").and_then(Value::as_str).unwrap_or_default();
            html(page, mode)
                .map(|h| Value::String(h.to_string()))
                .ok_or_else(|| format!("no lesson code for the page {page:?}").into())
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_marked_block_is_shown_on_some_page() {
        for snippet in snippets::ALL {
            let shown = LESSONS
                .iter()
                .flat_map(|l| l.parts)
                .flat_map(|p| p.ours)
                .any(|o| o == snippet);
            assert!(
                shown,
                "{} ({}:{}) is marked but no page shows it",
                snippet.id, snippet.file, snippet.first_line
            );
        }
    }

    #[test]
    fn each_page_has_one_lesson_and_its_box_escapes_the_code() {
        let mut pages: Vec<_> = LESSONS.iter().map(|l| l.page).collect();
        pages.sort_unstable();
        pages.dedup();
        assert_eq!(pages.len(), LESSONS.len(), "a page listed twice");
        let color = html("color", "server").unwrap_or_default();
        // `Option<String>` in the handler must arrive as text, not as a tag.
        assert!(color.contains("Option&lt;String&gt;"), "{color}");
        assert!(html("nowhere", "server").is_none());
    }
}
