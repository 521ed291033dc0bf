//! Accounts: who a session is logged in as. The `User` guard, the login stamp a session carries
//! (name, epoch, the keyed hash that binds it to one account) and the check that stamp must pass
//! wherever the account is loaded. Passwords and their rules are in [`password`], the hash queue
//! in [`queue`], the `users` queries in [`users`], and the login path in [`login`].

pub mod device;
pub mod login;
pub mod password;
pub mod queue;
pub mod users;

use rocket::request::{FromRequest, Outcome, Request};
use sqlx::PgConnection;
use time::OffsetDateTime;

use crate::browser_lab::Lab;
use crate::cookies::CookieConfig;
use crate::crypto::Keys;
use crate::db::{DbConnection, DbError};
use crate::error::AppError;
use crate::session::{Ended, Refusal, Session, SessionError};
use users::{find_by_id, UserRow};

/// The keys a login keeps in the session map (a leaf of their own, so the session layer's report
/// can explain them without importing accounts).
pub use crate::session_map_keys as keys;

/// The user a request's session is logged in as, checked against `users`. As a request guard
/// (take `Result<User, AppError>` and `?` it) it answers an anonymous visitor with a 303 to the
/// login page, and ends a session whose account is gone or whose epoch is out of date.
#[derive(Debug, Clone)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub created_at: OffsetDateTime,
    /// Set when the session's account binding verified only under a fallback key: the binding
    /// made under the current key, for the guard to write back, so the session outlives the
    /// fallback's removal (Django's `get_user` does the same).
    pub rebind: Option<String>,
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for User {
    type Error = AppError;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, AppError> {
        // Cached: every guard and handler of one request shares one load of the user.
        match req.local_cache_async(load_user(req)).await {
            Ok(user) => Outcome::Success(user.clone()),
            Err(e) => Outcome::Error((e.status(), e.clone())),
        }
    }
}

/// The one place a cookie-mode request reads the database for its session: the price of being
/// able to revoke it ("sign out everywhere" bumps the epoch the cookie must match).
async fn load_user(req: &Request<'_>) -> Result<User, AppError> {
    // After logging in, come back here — unless this was a form post, which cannot be replayed.
    let next = match req.method() {
        rocket::http::Method::Get => req.uri().to_string(),
        _ => "/account".to_string(),
    };
    let session = match req.guard::<Session<'_>>().await {
        Outcome::Success(s) => s,
        _ => {
            return Err(AppError::Internal(
                "the session layer is not attached".into(),
            ))
        }
    };
    let Some(id) = session.user_id().await? else {
        return Err(AppError::LoginRequired { next });
    };
    // This browser's outage lab refuses the `users` read as a stopped PostgreSQL would.
    if Lab::of(req).check().is_err() {
        return Err(AppError::Unavailable);
    }
    let mut conn = match req.guard::<DbConnection>().await {
        Outcome::Success(conn) => conn,
        _ => return Err(AppError::Unavailable),
    };
    let stamp = LoginStamp {
        user_id: id,
        epoch: session.get(keys::SESSION_EPOCH).await?.unwrap_or(0),
        bound: session.get(keys::AUTH_HASH).await?,
    };
    let Some(cookies) = req.rocket().state::<CookieConfig>() else {
        return Err(AppError::Internal("no cookie configuration".into()));
    };
    let check_epoch = session.layer().checks_epoch();
    let mut cost = LoginCost::default();
    let checked = check_login(&mut conn, &cookies.keys, &stamp, check_epoch, &mut cost).await;
    session.counted(cost.statements, cost.checked).await;
    match checked? {
        Ok(user) => {
            if let Some(hash) = &user.rebind {
                // A write like any other: re-sealed under the current key in cookie mode, the
                // row updated (and counted) in server mode.
                session.insert(keys::AUTH_HASH, hash).await?;
            }
            Ok(user)
        }
        Err(refusal) => {
            rocket::info!(
                "session: user {id} was signed out everywhere, deleted or changed ({}); ending \
                 this session",
                refusal.as_str()
            );
            session.refuse(refusal).await?;
            Err(AppError::LoginRequired { next })
        }
    }
}

/// What checking a login cost, for `Session-Trace`: the statements it ran, and the revocation
/// check that passed (`checked=epoch`).
#[derive(Debug, Default, Clone, Copy)]
pub struct LoginCost {
    pub statements: u32,
    pub checked: Option<&'static str>,
}

/// What a session says about its login: the account, the epoch and the account's keyed hash as
/// they were at login.
#[derive(Debug, Clone)]
pub struct LoginStamp {
    pub user_id: i64,
    pub epoch: i32,
    /// [`session_auth_hash`] at login; `None` for a session older than the binding.
    pub bound: Option<String>,
}

/// What [`keys::AUTH_HASH`] holds: HMAC-SHA256 of the password's PHC string under a key derived
/// from `secret_key`, cut to 128 bits (ample against forgery; the cookie stays small), base64url.
/// Keyed, so the cookie's holder learns nothing about the hash and a copied database cannot
/// produce it; over the whole PHC string, so a new salt (any password change) changes it.
pub fn session_auth_hash(keys: &Keys, password_hash: &str) -> String {
    keys.derive_all(AUTH_HASH_PURPOSE)
        .first()
        .map(|key| auth_hash_with(key, password_hash))
        .unwrap_or_default()
}

const AUTH_HASH_PURPOSE: &str = "session auth hash";

fn auth_hash_with(key: &[u8; 32], password_hash: &str) -> String {
    use base64::Engine;
    use hmac::{Hmac, Mac};
    let Ok(mut mac) = Hmac::<sha2::Sha256>::new_from_slice(key) else {
        return String::new();
    };
    mac.update(password_hash.as_bytes());
    let tag = mac.finalize().into_bytes();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&tag[..16])
}

/// Which key made `bound` from `password_hash`, compared in constant time: `Some(Key::Current)`,
/// `Some(Key::Fallback)` (a rotation must not log everyone out, and the binding is then re-made
/// under the current key), or `None`.
fn auth_hash_key(keys: &Keys, password_hash: &str, bound: &str) -> Option<Key> {
    use subtle::ConstantTimeEq;
    let position = keys.derive_all(AUTH_HASH_PURPOSE).iter().position(|key| {
        let expected = auth_hash_with(key, password_hash);
        !expected.is_empty() && bool::from(expected.as_bytes().ct_eq(bound.as_bytes()))
    })?;
    Some(if position == 0 {
        Key::Current
    } else {
        Key::Fallback
    })
}

/// Which of the secret keys verified a binding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    Current,
    Fallback,
}

/// Whether a session's login still stands where the account is loaded: the `users` row exists,
/// it is the account that logged in (its password hash still gives the session's keyed hash, so a
/// changed password or a restored or other table ends the login), and its `session_epoch` is the
/// one the session was stamped with ("sign out everywhere" bumps it) — the epoch unless
/// `check_epoch` is off (`cookie_revocation = "none"`). One indexed read, added to `statements`
/// once it ran (in `cost`). The `User` guard and the replay lab both call it, so the lab shows exactly what
/// the guard would decide.
///
/// # Errors
/// [`DbError`] when the database cannot be reached.
pub async fn check_login(
    conn: &mut PgConnection,
    keys: &Keys,
    stamp: &LoginStamp,
    check_epoch: bool,
    cost: &mut LoginCost,
) -> Result<Result<User, Refusal>, DbError> {
    let row = find_by_id(conn, stamp.user_id).await?;
    cost.statements += 1;
    let Some(row) = row else {
        // The account is gone (deleted, or missing from a restored table): not the one that
        // logged in.
        return Ok(Err(Refusal::AccountChanged));
    };
    if check_epoch && row.session_epoch != stamp.epoch {
        return Ok(Err(Refusal::OldEpoch));
    }
    let made_by = stamp
        .bound
        .as_deref()
        .and_then(|b| auth_hash_key(keys, &row.password_hash, b));
    let Some(made_by) = made_by else {
        // The id exists but is not the account that logged in (or the session predates the
        // binding): the same id in a restored or another table must not inherit the login.
        return Ok(Err(Refusal::AccountChanged));
    };
    if check_epoch {
        cost.checked = Some("epoch");
    }
    Ok(Ok(User {
        id: row.id,
        username: row.username,
        created_at: row.created_at,
        rebind: (made_by == Key::Fallback).then(|| session_auth_hash(keys, &row.password_hash)),
    }))
}

/// Logs `user` in on this session (a new session id; another user's data is not inherited) and
/// notes the name, epoch and bound password hash the pages and the `User` guard read back.
///
/// # Errors
/// As the session's writes.
pub async fn log_in(
    session: &Session<'_>,
    secrets: &Keys,
    user: &UserRow,
    remember: bool,
) -> Result<(), SessionError> {
    // lesson: login-stamp
    let stamp = vec![
        (keys::USERNAME, serde_json::json!(user.username)),
        (keys::SESSION_EPOCH, serde_json::json!(user.session_epoch)),
        (
            keys::AUTH_HASH,
            serde_json::json!(session_auth_hash(secrets, &user.password_hash)),
        ),
    ];
    session.log_in(user.id, remember, stamp).await
    // end lesson
}

/// Before `user_id` logs in on `session`: where the store keeps sessions (server mode), the
/// account holds at most `max` live ones, so the oldest (by login) are ended until the new one
/// fits — as Spring Security's `maximumSessions` and Keycloak's session limits do. One script
/// logging one account in again and again then replaces its own rows rather than adding (one
/// account made 168 rows in 10 s). This browser's own session is not counted: logging in again
/// replaces it. Returns how many were ended; a cookie store keeps nothing to count (`0`).
///
/// # Errors
/// As the store's list and delete.
pub async fn make_room(session: &Session<'_>, user_id: i64, max: u32) -> Result<u64, SessionError> {
    let Some(mut live) = session.list_user_sessions(user_id).await? else {
        return Ok(0);
    };
    live.retain(|s| !s.current);
    let keep = usize::try_from(max.saturating_sub(1)).unwrap_or(usize::MAX);
    if live.len() <= keep {
        return Ok(0);
    }
    live.sort_by_key(|s| (s.created_at, s.handle));
    let mut ended = 0;
    for oldest in &live[..live.len() - keep] {
        if session.end_user_session(user_id, oldest.handle).await? == Some(Ended::Another) {
            ended += 1;
        }
    }
    Ok(ended)
}

/// The accounts subsystem's start-up work: the dummy hash, so the first unknown-user login does
/// not pay for it, and the bounded hash queue.
pub fn stage() -> rocket::fairing::AdHoc {
    rocket::fairing::AdHoc::on_ignite("Accounts", |rocket| async {
        password::warm_up().await;
        // `--mode both` hands its two apps one queue: they share the cores.
        if rocket.state::<queue::HashQueue>().is_some() {
            return rocket;
        }
        let queue = queue::HashQueue::from_settings(
            rocket
                .state::<crate::settings::Settings>()
                .unwrap_or(&crate::settings::Settings::default()),
        );
        rocket.manage(queue)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_auth_hash_depends_on_the_hash_and_the_key_and_survives_rotation() {
        use rocket::figment::Figment;
        let keys = |k: u8, fallbacks: &[String]| {
            Keys::from_figment(
                &Figment::new().merge(("secret_key", vec![k; 64])),
                fallbacks,
            )
            .unwrap()
        };
        let (a, b) = (keys(1, &[]), keys(2, &[]));
        let h = session_auth_hash(&a, "$argon2id$v=19$one");
        assert_eq!(h.len(), 22, "{h}");
        let one = "$argon2id$v=19$one";
        assert_eq!(auth_hash_key(&a, one, &h), Some(Key::Current));
        assert_eq!(auth_hash_key(&a, "$argon2id$v=19$two", &h), None);
        assert_eq!(auth_hash_key(&b, one, &h), None);
        use base64::Engine;
        let old = base64::engine::general_purpose::STANDARD.encode([1u8; 64]);
        let rotated = keys(2, &[old]);
        assert_eq!(auth_hash_key(&rotated, one, &h), Some(Key::Fallback));
        let rebound = session_auth_hash(&rotated, one);
        assert_eq!(auth_hash_key(&rotated, one, &rebound), Some(Key::Current));
    }
}
