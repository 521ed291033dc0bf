//! What each lesson page's box shows: for every step, the marked block of our handler's code
//! (from [`super::snippets`]) beside what a Django project writes for it, and what differs. The
//! Django side and the notes are written here; ours never is.

use super::snippets as s;
use super::{Lesson, Part};

const LOGOUT: Part = Part {
    title: "Log out",
    ours: &[s::LOGOUT],
    django:
        "from django.contrib.auth import logout\n\nlogout(request)  # calls request.session.flush()",
    also: &[],
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
                also: &[],
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
                also: &[],
                note: "A missing key is <code>None</code> in both; no session is created by reading.",
            },
            Part {
                title: "Set the color",
                ours: &[s::COLOR_SET],
                django: "request.session[\"color\"] = color\nreturn redirect(\"color\")",
                also: &[],
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
                also: &[],
                note: "",
            },
            Part {
                title: "Add a note",
                ours: &[s::NOTES_ADD],
                django: "request.session.setdefault(\"notes\", []).append(note)\n\
                         # Django cannot see a change inside the list: say so, or it is not saved.\n\
                         request.session.modified = True",
                also: &[],
                note: "Our <code>update</code> takes the change as a closure, so the session knows \
                       it changed: there is no <code>modified</code> flag to forget.",
            },
            Part {
                title: "Clear the notes",
                ours: &[s::NOTES_CLEAR],
                django: "request.session.pop(\"notes\", None)",
                also: &[],
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
            also: &[],
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
                also: &[],
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
                also: &[],
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
                also: &[],
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
                also: &[],
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
                also: &[],
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
            also: &[],
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
                also: &[],
                note: "The same function every request uses opens the copy: the lab does not \
                       imitate the check, it runs it.",
            },
            Part {
                title: "… and check its login",
                ours: &[s::REPLAY_CHECK],
                django: "from django.contrib.auth import get_user\n\
                         user = get_user(request)  # checks _auth_user_hash; else AnonymousUser",
                also: &[],
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
            also: &[],
            note: "AES-GCM's tag, checked before any byte is trusted, refuses the change as an \
                   HMAC signature does; unlike a signature it also hides the content.",
        }],
    },
    Lesson {
        page: "evict",
        parts: &[
            Part {
                title: "A key gone before its time",
                ours: &[s::REDIS_MISSING],
                django: "# settings.py: the session is a key in the cache\n\
                         SESSION_ENGINE = \"django.contrib.sessions.backends.cache\"\n\
                         CACHES = {\"default\": {\n    \
                         \"BACKEND\": \"django.core.cache.backends.redis.RedisCache\",\n    \
                         \"LOCATION\": \"redis://127.0.0.1:6379\"}}\n\
                         # a miss: a new, empty session, and no word of why\n\n\
                         # or a copy in the database behind the cache:\n\
                         SESSION_ENGINE = \"django.contrib.sessions.backends.cached_db\"\n\
                         # a miss: read django_session, then fill the cache again",
                also: &[(
                    "actix-session",
                    "let store = RedisSessionStore::new(redis_url).await?;\n\
                     App::new().wrap(SessionMiddleware::new(store, key.clone()))\n\
                     // a missing key loads as Ok(None): a new, empty session",
                )],
                note: "All three start over with an empty session when the key is gone. Ours also \
                       says why: the cookie carries when its session began, so a key missing \
                       before its idle deadline could have passed is <code>evicted</code>, \
                       not <code>unknown</code>. Django's <code>cached_db</code> (and our \
                       <code>session_cache = \"redis\"</code> in server mode) lose nothing: the \
                       database still has the row.",
            },
            Part {
                title: "Evict this browser's key, and no other",
                ours: &[s::EVICT_FIND, s::EVICT_DELETE],
                django: "from django.core.cache import cache\n\
                         from django.contrib.sessions.backends.cache import KEY_PREFIX\n\n\
                         cache.delete(KEY_PREFIX + request.session.session_key)",
                also: &[(
                    "actix-session",
                    "// the Redis key is the session key itself unless\n\
                     // RedisSessionStore::builder(url).cache_keygen(..) says otherwise\n\
                     redis::cmd(\"DEL\").arg(session_key).query_async(&mut conn).await?;",
                )],
                note: "One <code>DEL</code> of one key: what Redis does to a key it evicts. Never \
                       <code>FLUSHDB</code>: on a shared server it ends everyone's sessions.",
            },
        ],
    },
    Lesson {
        page: "dump",
        parts: &[Part {
            title: "Send a stored key as the cookie",
            ours: &[s::DUMP_SEND],
            django: "# django_session.session_key is the cookie's value itself:\n\
                     row = Session.objects.first()   # from a dump\n\
                     client.cookies[\"sessionid\"] = row.session_key  # opens it",
            also: &[(
                "actix-session",
                "// Redis holds the session key itself (the default cache_keygen);\n\
                 // with the app's cookie key, a dumped key is a working cookie\n\
                 // (Rails stores SHA-256 of the id since CVE-2019-16782, as we do)",
            )],
            note: "We file every session under the SHA-256 of its id, in the table and in Redis: \
                   the server hashes what the cookie carries before it looks, so a key from a \
                   dump is hashed again and names nothing.",
        }],
    },
];
