//! How each exercise is recognised: from the facts of one request (what the session layer did,
//! its status, the cookies it came with) and what the learner's armed exercise remembers of the
//! requests before. Pure functions: no database, no clock.
//!
//! | exercise | solved when the learner's own request… |
//! | --- | --- |
//! | `first-value` | created a session: its first cookie went out |
//! | `delete-cookie` | came without a session cookie after this browser held a live session (one the server did not remove) |
//! | `tamper` | carried a session cookie refused as `undecryptable` |
//! | `overflow` | (cookie mode) was answered 413 |
//! | `row-grows` | (server mode) saved data ten times the size it had at the start, no new session cookie sent meanwhile |
//! | `replay-after-logout` | carried the very cookie this browser logged out with: accepted (cookie mode) or refused (server mode) |
//! | `end-elsewhere` | carried this browser's logged-in cookie, which it did not log out, refused as `unknown` (server) — or was refused as `old-epoch` (cookie) |
//! | `expire` | carried a cookie refused as `expired-idle` |
//! | `outage` | with the outage lab's switch on: answered 503 (server), or opened the session and answered (cookie) |
//! | `forge-plain` | carried an `exercise_plain` cookie naming another user, and (before or after) a refused sealed cookie |
//! | `evicted` | (redis mode) carried a cookie refused as `evicted` |
//! | `dump` | (server, redis) carried a cookie refused after the dump lab set it to a stored key (`POST /labs/dump`), no live session opened in between |

use base64::Engine;
use sha2::{Digest, Sha256};

use super::ExerciseId;
use crate::learner::Arm;
use crate::session::{Refusal, Summary};
use crate::settings::Mode;

/// One request, as the detectors see it.
pub struct Facts<'a> {
    pub mode: Mode,
    /// `GET /color`.
    pub request: &'a str,
    pub status: u16,
    /// What the session layer did for the request.
    pub summary: &'a Summary,
    /// This mode's session cookie as it came, and its size as the browser counts it.
    pub session_cookie: Option<&'a str>,
    pub cookie_bytes: Option<usize>,
    /// The outage lab's switch is on.
    pub db_cut: bool,
    /// The user id the `exercise_plain` cookie names, when it came and decodes.
    pub plain_user: Option<i64>,
}

/// The requests whose removal of the session cookie is a deletion by the learner's own hand:
/// the server does what devtools' Delete would, on the learner's request.
const HAND_EDITS: [&str; 2] = ["POST /session/cookie", "POST /compare/forget"];

/// The dump lab's request that sets the session cookie to a stored key.
const SEND_STORED_KEY: &str = "POST /labs/dump";

/// What one request did to an armed exercise.
#[derive(Debug, PartialEq)]
pub enum Step {
    Nothing,
    /// The arm remembers something new.
    Progressed,
    /// Done: what was seen, in words.
    Solved(String),
}

/// A short fingerprint of a cookie value: enough to recognise it again, kept sealed in the
/// learner cookie (never the value itself, which is a credential).
pub fn fingerprint(value: &str) -> String {
    let digest = Sha256::digest(value.as_bytes());
    hex::encode(&digest[..12])
}

/// The user id in a plain cookie's value (base64url of JSON, padded or not), if any.
pub fn plain_user(value: &str) -> Option<i64> {
    use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
    let bytes = [URL_SAFE_NO_PAD, URL_SAFE]
        .iter()
        .find_map(|e| e.decode(value.trim()).ok())
        .or_else(|| STANDARD.decode(value.trim()).ok())?;
    let json: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    json.get("user_id")?.as_i64()
}

/// The value of a plain cookie naming `user_id`, as a careless app would set it.
pub fn plain_value(user_id: i64, username: &str) -> String {
    let json = serde_json::json!({ "user_id": user_id, "username": username });
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json.to_string())
}

/// Advances exercise `id`'s arm with one request's facts. One arm per exercise, and no catch-all:
/// an exercise added to [`ExerciseId`] does not build until it says how it is recognised.
pub fn step(id: ExerciseId, arm: &mut Arm, f: &Facts<'_>) -> Step {
    let o = f.summary;
    let mark = f.session_cookie.map(fingerprint);
    match id {
        ExerciseId::FirstValue if o.inserted() && f.status < 400 => Step::Solved(format!(
            "{} created your session: its first cookie ({} bytes) was sent with the response, \
             and Session-Trace said queries={}",
            f.request,
            o.cookie_sent().unwrap_or(0),
            o.trips.sql
        )),
        ExerciseId::FirstValue => Step::Nothing,
        ExerciseId::DeleteCookie => {
            if arm.step && f.session_cookie.is_none() && f.status < 400 {
                return Step::Solved(format!(
                    "{} came without the session cookie you held: the server saw no session \
                     (load=none), and your data was gone",
                    f.request
                ));
            }
            // A cookie the server removed (logout) was not deleted by hand — unless the learner
            // asked for exactly that, as devtools' Delete (`POST /session/cookie`, `/compare`'s
            // "Delete both cookies").
            let by_hand = HAND_EDITS.contains(&f.request) && !o.ended();
            if arm.step && (o.cookie_removed() || o.ended()) && !by_hand {
                arm.step = false;
                return Step::Progressed;
            }
            if !arm.step && o.hit() && f.session_cookie.is_some() && !o.cookie_removed() {
                arm.step = true;
                return Step::Progressed;
            }
            Step::Nothing
        }
        ExerciseId::Tamper
            if o.refused == Some(Refusal::Undecryptable) && f.session_cookie.is_some() =>
        {
            Step::Solved(format!(
                "{} carried your edited cookie ({} bytes): refused=undecryptable, and you got \
                 a fresh, empty session",
                f.request,
                f.cookie_bytes.unwrap_or(0)
            ))
        }
        ExerciseId::Tamper => Step::Nothing,
        ExerciseId::Overflow if f.mode == Mode::Cookie && f.status == 413 => Step::Solved(format!(
            "{} was refused with 413: the cookie would have passed the 4096 bytes a browser \
             keeps, and nothing changed",
            f.request
        )),
        ExerciseId::Overflow => Step::Nothing,
        ExerciseId::RowGrows if f.mode == Mode::Server => {
            if o.ended() {
                arm.n = None;
                return Step::Progressed;
            }
            let (true, Some(bytes)) = (o.saved(), o.data_bytes) else {
                return Step::Nothing;
            };
            let bytes = i64::try_from(bytes).unwrap_or(i64::MAX);
            match arm.n {
                Some(start) if o.cookie_sent().is_none() && bytes >= start.saturating_mul(10) => {
                    Step::Solved(format!(
                        "the session's data grew from {start} to {bytes} bytes while the cookie \
                         kept its {} bytes",
                        arm.m.unwrap_or(0)
                    ))
                }
                // Smaller than where it started (the notes cleared): measured from here, so a
                // session that already held notes can still grow tenfold.
                Some(start) if o.cookie_sent().is_none() && bytes < start => {
                    arm.n = Some(bytes.max(16));
                    Step::Progressed
                }
                Some(_) if o.cookie_sent().is_none() => Step::Nothing,
                // The start, or a new one after a new cookie (a login): measured from here.
                _ => {
                    arm.n = Some(bytes.max(16));
                    let cookie = o.cookie_sent().or(f.cookie_bytes).unwrap_or(0);
                    arm.m = Some(i64::try_from(cookie).unwrap_or(0));
                    Step::Progressed
                }
            }
        }
        ExerciseId::RowGrows => Step::Nothing,
        ExerciseId::ReplayAfterLogout => {
            if o.ended() && o.user_before.is_some() && mark.is_some() {
                arm.mark = mark;
                return Step::Progressed;
            }
            if arm.mark.is_none() || mark != arm.mark {
                return Step::Nothing;
            }
            match o.refused {
                Some(why) => Step::Solved(format!(
                    "{} carried the copy of the cookie you logged out with: refused: {}",
                    f.request,
                    why.as_str()
                )),
                None if o.hit() && o.user_before.is_some() => Step::Solved(format!(
                    "{} carried the copy of the cookie you logged out with, and it still \
                     worked: a logged-out cookie still worked, logged in",
                    f.request
                )),
                None => Step::Nothing,
            }
        }
        ExerciseId::EndElsewhere => match f.mode {
            Mode::Server => {
                if o.refused == Some(Refusal::Unknown) && arm.mark.is_some() && mark == arm.mark {
                    return Step::Solved(format!(
                        "{} carried this browser's logged-in cookie after its session was \
                         ended elsewhere: refused: unknown",
                        f.request
                    ));
                }
                if o.ended() && arm.mark.is_some() {
                    arm.mark = None;
                    return Step::Progressed;
                }
                if o.hit() && o.user_before.is_some() && !o.ended() && mark != arm.mark {
                    arm.mark = mark;
                    return Step::Progressed;
                }
                Step::Nothing
            }
            Mode::Cookie if o.refused == Some(Refusal::OldEpoch) => Step::Solved(format!(
                "{} carried this browser's cookie after the account signed out everywhere \
                 else: refused: old-epoch",
                f.request
            )),
            Mode::Cookie | Mode::Redis => Step::Nothing,
        },
        ExerciseId::Expire if o.refused == Some(Refusal::ExpiredIdle) => Step::Solved(format!(
            "{} carried a cookie whose session had gone idle too long: refused: expired-idle",
            f.request
        )),
        ExerciseId::Expire => Step::Nothing,
        ExerciseId::Outage if f.db_cut => match f.mode {
            Mode::Server if f.status == 503 => Step::Solved(format!(
                "with the database cut off, {} answered 503: server mode keeps every session in \
                 it",
                f.request
            )),
            Mode::Cookie if o.accessed && f.status < 400 => Step::Solved(format!(
                "with the database cut off, {} still answered {}: the session came with the \
                 request",
                f.request, f.status
            )),
            _ => Step::Nothing,
        },
        ExerciseId::Outage => Step::Nothing,
        ExerciseId::ForgePlain => {
            let mut moved = false;
            if let (false, Some(user)) = (arm.step, f.plain_user) {
                if Some(user) != arm.n {
                    (arm.step, arm.m, moved) = (true, Some(user), true);
                }
            }
            if !arm.step2 && o.refused == Some(Refusal::Undecryptable) {
                (arm.step2, moved) = (true, true);
            }
            if arm.step && arm.step2 {
                return Step::Solved(format!(
                    "the plain cookie, edited, named user {} and a careless server would have \
                     believed it; your edited session cookie was refused: undecryptable",
                    arm.m.unwrap_or(0)
                ));
            }
            if moved {
                Step::Progressed
            } else {
                Step::Nothing
            }
        }
        ExerciseId::Evicted
            if f.mode == Mode::Redis
                && o.refused == Some(Refusal::Evicted)
                && f.session_cookie.is_some() =>
        {
            Step::Solved(format!(
                "{} carried your cookie after Redis had lost its key: refused=evicted, and you \
                 got a fresh, empty session",
                f.request
            ))
        }
        ExerciseId::Evicted => Step::Nothing,
        ExerciseId::Dump => dump(arm, f),
    }
}

/// `dump`: the lab's request that sends a stored key arms it; the next request that carries a
/// cookie is the stored key's, and solves it when refused. A cookie that opens a live session
/// meanwhile (the learner's own, put back) disarms it.
fn dump(arm: &mut Arm, f: &Facts<'_>) -> Step {
    let o = f.summary;
    if f.mode == Mode::Cookie {
        return Step::Nothing;
    }
    if f.request == SEND_STORED_KEY && f.status < 400 {
        arm.step = true;
        return Step::Progressed;
    }
    if !arm.step || f.session_cookie.is_none() {
        return Step::Nothing;
    }
    match o.refused {
        Some(why) => Step::Solved(format!(
            "{} carried a key copied from the store, sealed as your cookie: refused={}, and \
             no session opened",
            f.request,
            why.as_str()
        )),
        None if o.hit() => {
            arm.step = false;
            Step::Progressed
        }
        None => Step::Nothing,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_value_says_the_user_it_was_made_for() {
        assert_eq!(plain_user(&plain_value(42, "guest")), Some(42));
        assert_eq!(plain_user("not base64!"), None);
    }

    /// The facts of one request that carried a session cookie.
    fn facts<'a>(mode: Mode, request: &'a str, summary: &'a Summary) -> Facts<'a> {
        Facts {
            mode,
            request,
            status: 200,
            summary,
            session_cookie: Some("value"),
            cookie_bytes: Some(5),
            db_cut: false,
            plain_user: None,
        }
    }

    fn refused(mode: Mode, why: Refusal) -> Summary {
        let mut s = Summary::nothing(mode, mode.cookie_name());
        s.refused = Some(why);
        s
    }

    #[test]
    fn evicted_is_redis_modes_evicted_refusal_alone() {
        let mut arm = Arm::default();
        let gone = refused(Mode::Redis, Refusal::Evicted);
        let f = facts(Mode::Redis, "GET /color", &gone);
        assert!(matches!(
            step(ExerciseId::Evicted, &mut arm, &f),
            Step::Solved(_)
        ));
        let unknown = refused(Mode::Redis, Refusal::Unknown);
        let f = facts(Mode::Redis, "GET /color", &unknown);
        assert_eq!(step(ExerciseId::Evicted, &mut arm, &f), Step::Nothing);
        let f = facts(Mode::Server, "GET /color", &gone);
        assert_eq!(step(ExerciseId::Evicted, &mut arm, &f), Step::Nothing);
    }

    #[test]
    fn dump_needs_the_labs_request_before_the_refusal() {
        let mut arm = Arm::default();
        let unknown = refused(Mode::Server, Refusal::Unknown);
        let f = facts(Mode::Server, "GET /labs/dump", &unknown);
        assert_eq!(
            step(ExerciseId::Dump, &mut arm, &f),
            Step::Nothing,
            "no lab step yet"
        );
        let quiet = Summary::nothing(Mode::Server, "session_id");
        let mut sent = facts(Mode::Server, SEND_STORED_KEY, &quiet);
        sent.status = 303;
        assert_eq!(step(ExerciseId::Dump, &mut arm, &sent), Step::Progressed);
        assert!(matches!(
            step(ExerciseId::Dump, &mut arm, &f),
            Step::Solved(_)
        ));
        // In cookie mode there is no store to copy.
        let mut arm = Arm::default();
        let f = facts(Mode::Cookie, SEND_STORED_KEY, &quiet);
        assert_eq!(step(ExerciseId::Dump, &mut arm, &f), Step::Nothing);
    }

    #[test]
    fn fingerprints_tell_values_apart_without_holding_them() {
        assert_eq!(fingerprint("abc"), fingerprint("abc"));
        assert_ne!(fingerprint("abc"), fingerprint("abd"));
        assert_eq!(fingerprint("abc").len(), 24);
    }
}
