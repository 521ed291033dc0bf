//! Words the pages use for the session layer's facts that no template should have to spell out
//! twice: why a cookie was refused, and what the keys a login writes are for. Plain text; the
//! templates put it in their sentences.

use crate::session::Refusal;
use crate::session_map_keys as keys;

/// Why a cookie was refused, as a clause ("it does not decrypt…").
pub fn refusal(why: Refusal) -> &'static str {
    match why {
        Refusal::Undecryptable => {
            "it does not decrypt with this server's key: it was changed (tampered with), cut \
             short, or sealed by another server"
        }
        Refusal::Malformed => "it decrypts, but does not hold a session this app wrote",
        Refusal::Unknown => {
            "no session has its id any more: it was logged out, signed out from elsewhere, or \
             cleaned up after it expired"
        }
        Refusal::Evicted => {
            "Redis no longer has its key, though its idle deadline cannot have passed yet: it was \
             evicted, flushed, or lost when Redis restarted — a cache is not permanent storage"
        }
        Refusal::ExpiredIdle => "it went unused for longer than the idle timeout",
        Refusal::ExpiredAbsolute => {
            "it is older than the absolute timeout, which holds however active a session is"
        }
        Refusal::OldEpoch => "your account signed out everywhere after this cookie was sealed",
        Refusal::AccountChanged => {
            "the account it was logged in to is not the same any more: its password changed, \
             or the users table was replaced"
        }
        Refusal::Revoked => {
            "it was logged out: the server recorded its session id on the deny-list, and \
             checks that list on every request"
        }
    }
}

/// What a key a login writes is for, said where it appears (a student sees it in the map and
/// would otherwise find it explained only in the docs).
pub fn key(name: &str) -> Option<&'static str> {
    match name {
        keys::AUTH_HASH => Some(
            "a keyed hash of your password's hash at login (Django's _auth_user_hash): once the \
             password changes it no longer matches, and the session ends.",
        ),
        keys::SESSION_EPOCH => Some(
            "your account's sign-out counter at login: \"sign out everywhere else\" can raise \
             it, and a session stamped with an older one is then refused.",
        ),
        keys::USERNAME => Some("kept so that every page's header can name you without a query."),
        _ => None,
    }
}
