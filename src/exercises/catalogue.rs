//! The exercises: what each asks the learner to predict and do, its hints, and what the answer
//! means. The ids are the contract (docs/SPEC.md, "Exercises"); how each is detected is in
//! [`super::detect`].

pub use super::exercise::Exercise;
use super::ExerciseId;
use crate::settings::Mode;

/// Both modes, and each alone, for [`Exercise::modes`].
const BOTH: &[Mode] = &[Mode::Server, Mode::Cookie];
const SERVER: &[Mode] = &[Mode::Server];
const COOKIE: &[Mode] = &[Mode::Cookie];

/// The exercise `id` names (every id has one: a test checks).
pub fn find(id: ExerciseId) -> Option<&'static Exercise> {
    EXERCISES.iter().find(|e| e.id == id)
}

/// The exercise a name from outside (a form, a link) means, if any.
pub fn named(name: &str) -> Option<&'static Exercise> {
    find(ExerciseId::parse(name)?)
}

/// The lessons, in the order the home page teaches them.
const LESSON_ORDER: &[&str] = &[
    "A first value",
    "Watch it grow",
    "Read the inspector",
    "Tamper with it",
    "Replay a stolen copy",
    "End sessions from elsewhere",
    "Let it expire",
    "Lose the database",
    super::store_lesson::LESSON,
];

/// The lessons in the order the home page teaches them, each with its exercises.
pub fn lessons() -> Vec<(&'static str, &'static str, Vec<&'static Exercise>)> {
    let mut out: Vec<(&'static str, &'static str, Vec<&'static Exercise>)> = Vec::new();
    for e in EXERCISES {
        match out.iter_mut().find(|(name, _, _)| *name == e.lesson) {
            Some((_, _, list)) => list.push(e),
            None => out.push((e.lesson, e.lesson_path, vec![e])),
        }
    }
    let rank = |name: &str| LESSON_ORDER.iter().position(|l| *l == name);
    out.sort_by_key(|(name, _, _)| rank(name));
    out
}

pub static EXERCISES: &[Exercise] = &[
    Exercise {
        id: ExerciseId::FirstValue,
        title: "Store a first value",
        lesson: "A first value",
        lesson_path: "/color",
        readme: "Compare the modes in your browser's devtools",
        modes: BOTH,
        question: "You have no session yet and pick a color: how many SQL statements does that \
                   first save run for the session?",
        choices: &[
            "None: the cookie is the write",
            "One: an INSERT of the new row",
            "Two: a SELECT to look for a session, then an INSERT",
        ],
        right: [1, 0],
        task: "Start without a session cookie (delete it in devtools if you have one), then pick \
               a color on the color page. Watch the Cookies panel.",
        hints: [
            "Looking at pages creates nothing: no row, no cookie.",
            "Store something: the color form does.",
        ],
        answer: "Delete the session cookie, open /color, choose a color and press the button: the \
                 POST's response carries the first Set-Cookie for the session.",
        explanation: "A session is created by the first write, not the first visit. Server mode \
                      INSERTs its row and sends a cookie holding only the row's id; cookie mode \
                      runs no SQL at all: the sealed cookie is the write. With no cookie there \
                      is nothing to SELECT.",
    },
    Exercise {
        id: ExerciseId::DeleteCookie,
        title: "Delete the session cookie",
        lesson: "Read the inspector",
        lesson_path: "/session",
        readme: "Compare the modes in your browser's devtools",
        modes: BOTH,
        question:
            "You delete the session cookie in devtools and reload. What does the server know \
                   about you?",
        choices: &[
            "Everything: it recognises the browser",
            "Nothing: without the cookie you are a new visitor",
            "Only your login",
        ],
        right: [1, 1],
        task: "Have a session (store a color), then delete the session cookie in devtools \
               (Application → Cookies) and load any page of this server.",
        hints: [
            "The cookie is the only thing that ties your requests to a session.",
            "First store something so there is a session to lose, then delete the cookie.",
        ],
        answer: "Store a color; in devtools' Cookies panel select the session cookie and press \
                 Delete; reload /color: the color is gone and Session-Trace says load=none.",
        explanation: "Without the cookie a request names no session. In server mode the row is \
                      still there, unreachable until it expires and the cleanup deletes it; in \
                      cookie mode the session was the cookie, so it is gone for good.",
    },
    Exercise {
        id: ExerciseId::Tamper,
        title: "Edit the cookie by hand",
        lesson: "Tamper with it",
        lesson_path: "/labs/tamper",
        readme: "Compare the modes in your browser's devtools",
        modes: BOTH,
        question: "You change one character of the session cookie's value. What happens?",
        choices: &[
            "The server reads a slightly different session",
            "The server refuses the cookie and starts you afresh",
            "The server answers 500",
        ],
        right: [1, 1],
        task: "Have a session, then edit the session cookie's value in devtools (change one \
               character in the middle) and reload.",
        hints: [
            "AES-GCM's tag covers every byte of the value.",
            "Change a character in the middle of the value, not the last one or an `=`.",
        ],
        answer: "Store a color; in devtools double-click the session cookie's value, change one \
                 letter in the middle, press Enter and reload: Session-Trace says \
                 refused=undecryptable and the color is gone.",
        explanation: "The cookie is sealed with AES-256-GCM: any change makes the tag check fail, \
                      so the server cannot read it and treats the request as having no session. \
                      A 500 would let anyone crash pages by editing a cookie.",
    },
    Exercise {
        id: ExerciseId::Overflow,
        title: "Pass the 4096-byte limit",
        lesson: "Watch it grow",
        lesson_path: "/notes",
        readme: "Compare the modes in your browser's devtools",
        modes: COOKIE,
        question: "You keep adding notes in cookie mode. What stops you?",
        choices: &[
            "Nothing: the cookie grows without limit",
            "The browser silently drops the cookie",
            "The server refuses the note that would pass 4096 bytes (413)",
        ],
        right: [2, 2],
        task: "Add long notes on the notes page until one is refused.",
        hints: [
            "Browsers keep at most 4096 bytes of name + value per cookie.",
            "Paste a long note (a few hundred characters) again and again.",
        ],
        answer: "On /notes add a note of 500 characters again and again: the sixth would pass \
                 4096 bytes, so it is answered 413 and nothing changes.",
        explanation: "A browser drops a cookie past 4096 bytes without a word, and the session \
                      with it. This app measures the sealed cookie before sending it and \
                      refuses the write instead, so nothing is lost silently.",
    },
    Exercise {
        id: ExerciseId::RowGrows,
        title: "Grow the row, not the cookie",
        lesson: "Watch it grow",
        lesson_path: "/notes",
        readme: "Compare the modes in your browser's devtools",
        modes: SERVER,
        question: "In server mode you make the session's data ten times bigger. What happens to \
                   the cookie?",
        choices: &[
            "It grows ten times too",
            "It keeps its size: it holds only the id",
            "It is replaced by a bigger one",
        ],
        right: [1, 1],
        task: "Store something (or press Clear notes, if the session already holds notes), then \
               add notes until the session's data (the inspector's row) is ten times bigger, \
               without logging in or out meanwhile.",
        hints: [
            "The inspector shows the row's size and the cookie's size.",
            "Add a few long notes; keep the inspector open beside them.",
        ],
        answer: "Pick a color (or clear the notes), then add three notes of 100 characters on \
                 /notes: the row grows tenfold from its smallest while the session cookie keeps \
                 its value and size.",
        explanation: "In server mode the cookie holds a random id; the data lives in the row, \
                      limited only by session_max_bytes. Each write rewrites the row, not the \
                      cookie.",
    },
    Exercise {
        id: ExerciseId::ReplayAfterLogout,
        title: "Replay a cookie after logout",
        lesson: "Replay a stolen copy",
        lesson_path: "/labs/replay",
        readme: "What login and logout do to each cookie",
        modes: BOTH,
        question: "After logout, will a copy of your cookie still open /account?",
        choices: &["Yes: the copy still works", "No: the server refuses it"],
        right: [1, 0],
        task: "Log in, keep a copy of the session cookie (the replay lab's \"keep a copy\", or \
               copy its value from devtools), log out at once, then put the copy back and \
               load /account.",
        hints: [
            "Logging out removes the cookie from this browser. Does it also end it on the server?",
            "The replay lab keeps a copy and puts it back for you.",
        ],
        answer: "Log in; on /labs/replay press \"Keep a copy\"; log out; press \"Put the copy \
                 back\"; open /account. Server mode: refused=unknown. Cookie mode: you are \
                 logged in again.",
        explanation: "Server mode's logout deletes the row, so every copy of the cookie dies \
                      with it. Cookie mode's logout only asks this browser to drop its cookie: \
                      the server kept nothing it could delete, so a copy works until it expires \
                      (unless a deny-list or an epoch says otherwise).",
    },
    Exercise {
        id: ExerciseId::EndElsewhere,
        title: "End a session from another browser",
        lesson: "End sessions from elsewhere",
        lesson_path: "/account/sessions",
        readme: "Session lifetime, and ending sessions early",
        modes: BOTH,
        question: "From a second browser you end this browser's session. What does this browser \
                   see on its next request?",
        choices: &[
            "Nothing changes until it logs out itself",
            "It is refused and logged out",
        ],
        right: [1, 1],
        task: "Log in here. In a second browser (or a private window) log in to the same \
               account and, on Your sessions, end this one (server mode) or sign out everywhere \
               else (cookie mode). Then load a page here.",
        hints: [
            "Server mode can delete one row; cookie mode can only raise the account's epoch.",
            "Your sessions is at /account/sessions in the second browser.",
        ],
        answer: "Log in here; in a private window log in as the same user and open \
                 /account/sessions; end this browser's session (cookie mode: \"sign out \
                 everywhere else\"); reload /account here: refused=unknown (server) or \
                 refused=old-epoch (cookie).",
        explanation: "Server mode deletes the row the other browser's cookie names. Cookie mode \
                      cannot reach a cookie it does not hold, so it counts an epoch per account \
                      and refuses older cookies where the account is loaded: a database read \
                      put back.",
    },
    Exercise {
        id: ExerciseId::Expire,
        title: "Let the session expire",
        lesson: "Let it expire",
        lesson_path: "/session",
        readme: "Session lifetime, and ending sessions early",
        modes: BOTH,
        question: "You stop using the site for longer than the idle timeout, then come back. \
                   What does the server do with your cookie?",
        choices: &[
            "Accepts it: the cookie has not expired in the browser",
            "Refuses it: the server checks the idle deadline itself",
        ],
        right: [1, 1],
        task: "Have a session, then let it go idle past the timeout: wait, or use the \
               inspector's fast-forward (it moves only this browser's clock), and load a \
               page.",
        hints: [
            "The browser's Expires is advice; the deadline the server checks is its own.",
            "The inspector's fast-forward moves the server's clock past the idle deadline.",
        ],
        answer: "Store a color; on /session fast-forward by more than the idle timeout (1800 s \
                 by default); reload: refused=expired-idle.",
        explanation: "A server cannot trust the browser to forget a cookie: a copy never \
                      expires. Both modes keep the deadlines with the session (the row's \
                      expires_at, or inside the sealed cookie) and check them on every request.",
    },
    Exercise {
        id: ExerciseId::Outage,
        title: "Lose the database",
        lesson: "Lose the database",
        lesson_path: "/labs/outage",
        readme: "Session lifetime, and ending sessions early",
        modes: BOTH,
        question: "PostgreSQL goes away. What happens to the color page?",
        choices: &["It keeps working", "It answers 503"],
        right: [1, 0],
        task: "Hold a session first (pick a color on /color), then in the outage lab cut the \
               database off and load the color page (and your account page). Turn the database \
               back on afterwards.",
        hints: [
            "Where does each mode keep the session?",
            "The outage lab's switch is at /labs/outage; it cuts the database off for this \
             browser only.",
        ],
        answer:
            "Pick a color; on /labs/outage press \"Cut the database off\", open /color, then \
                 turn it back on. Server mode: 503. Cookie mode: the page works; /account does not.",
        explanation: "Server mode reads a row for every session page, so no database means no \
                      sessions. Cookie mode carries the session with each request and needs \
                      the database only for accounts.",
    },
    Exercise {
        id: ExerciseId::ForgePlain,
        title: "Forge a plain cookie",
        lesson: "Tamper with it",
        lesson_path: "/labs/tamper",
        readme: "Compare the modes in your browser's devtools",
        modes: BOTH,
        question: "A cookie holds {\"user_id\": …} as plain base64. Can you become another user \
                   by editing it? And the sealed session cookie?",
        choices: &[
            "Neither can be changed usefully",
            "Both can",
            "The plain one can; the sealed one is refused",
        ],
        right: [2, 2],
        task: "Answering gives this browser a plain cookie called exercise_plain, as a careless \
               app would set it. Decode it, change user_id, encode it again and reload this \
               page; then try the same on the session cookie.",
        hints: [
            "exercise_plain is base64url of a small JSON object: devtools or any base64 decoder \
             reads it.",
            "Change the user_id, re-encode, paste it back; then edit a character of the \
             session cookie too.",
        ],
        answer: "Decode exercise_plain, change \"user_id\" to 1, encode it (base64url) and put it \
                 back; reload /exercises: it now says you are user 1. Edit a character of the \
                 session cookie and reload: refused=undecryptable.",
        explanation: "A plain (or merely encoded) cookie is the client's to write: a server that \
                      believes it can be told any user id. A sealed cookie can be neither read \
                      nor changed without the key, so a forged one is refused whole.",
    },
    super::store_lesson::EVICTED,
    super::store_lesson::DUMP,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_lesson_has_its_place_on_the_score_board() {
        let names: Vec<&str> = lessons().iter().map(|(n, _, _)| *n).collect();
        assert_eq!(names, LESSON_ORDER);
    }

    #[test]
    fn every_right_answer_is_one_of_the_choices() {
        for e in EXERCISES {
            assert!(e.right.iter().all(|&r| r < e.choices.len()), "{}", e.id);
        }
    }
}
