//! The catalogue's exercises for "Sessions are not permanent storage" (the third store): a
//! session evicted from Redis and refused, and a copy of the store that opens nothing. Kept
//! apart from [`super::catalogue`]'s list, which has no room left under the line limit; that list
//! names them in its order.

use super::exercise::Exercise;
use super::ExerciseId;
use crate::settings::Mode;

/// The lesson's name on the score board, and its page.
pub const LESSON: &str = "Sessions are not permanent storage";
const LESSON_PATH: &str = "/labs/evict";
/// The guide's section for both (docs/guide/lifetime.md).
const README: &str = "Sessions are not permanent storage";

/// Only redis mode keeps its sessions in a cache that can drop them.
const REDIS: &[Mode] = &[Mode::Redis];
/// The modes that keep a copy of every session at rest (a table, or Redis).
const AT_REST: &[Mode] = &[Mode::Server, Mode::Redis];

pub const EVICTED: Exercise = Exercise {
    id: ExerciseId::Evicted,
    title: "See your session evicted",
    lesson: LESSON,
    lesson_path: LESSON_PATH,
    readme: README,
    modes: REDIS,
    question: "Redis drops the key your session is filed under, long before its deadline. Your \
               browser still sends the cookie. What does the next request get?",
    choices: &[
        "The same session: the cookie still names it",
        "A refusal, and a fresh, empty session: the data was only in Redis",
        "An error page until the cookie expires",
    ],
    right: [1, 1],
    task: "Set a color so Redis holds a session of yours, then open the eviction lab and evict \
           it. Load any page with the cookie you still hold.",
    hints: [
        "The lab deletes one key, yours, as Redis does when it needs the memory.",
        "After evicting, reload the lab page: watch refused= in Session-Trace.",
    ],
    answer: "Set a color on /color, open /labs/evict, press \"Evict my session from Redis\": the \
             page that loads next carries your cookie and is refused with refused=evicted.",
    explanation: "A cache is not permanent storage: the cookie only names a key, and a key Redis \
                  dropped takes the session with it. Django's cache engine starts over silently; \
                  cached_db (and session_cache = \"redis\" here) keeps the database's copy.",
};

pub const DUMP: Exercise = Exercise {
    id: ExerciseId::Dump,
    title: "Open a session from a copy of the store",
    lesson: LESSON,
    lesson_path: "/labs/dump",
    readme: README,
    modes: AT_REST,
    question: "Someone has a copy of the sessions table (or of Redis), with your session's key. \
               Can they send that key as a cookie and be you?",
    choices: &[
        "Yes: the key in the store is what the cookie carries",
        "Only if they also have the server's secret key",
        "No: the store holds a hash of the id, and a hash names no session",
    ],
    right: [2, 2],
    task: "Open the dump lab: it shows the key your session is stored under. Send it as your \
           session cookie (the lab seals it with the server's own secret), and see what the \
           next request gets.",
    hints: [
        "The lab shows your cookie's id and the key it is filed under: they differ.",
        "Press \"Send it as my session cookie\", then look at refused= in Session-Trace.",
    ],
    answer: "Open /labs/dump and press \"Send it as my session cookie\": the page that loads next \
             carries the stored key as its id and is refused (unknown in server mode; in redis \
             mode, whose keys carry no marker of a forged id, evicted).",
    explanation: "The store files each session under the SHA-256 of its id. The server hashes \
                  whatever a cookie carries before it looks, so a stored key is hashed again and \
                  names nothing: a dump, a replica or a backup opens no session, even with the \
                  server's secret key to seal it.",
};
