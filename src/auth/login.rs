//! The login path: what a login needs (the gate), and the steps every attempt takes in order —
//! throttle, a place in the hash queue, the lookup, the verify.

use rocket::request::{FromRequest, Outcome, Request};

use super::password::normalise_username;
use super::queue::{verify_password, HashQueue};
use super::users::{find_by_name, UserRow};
use crate::db::DbError;
use crate::error::AppError;
use crate::session::Session;

/// What a login needs besides its form: the database, the throttles, the hash queue and the
/// client's address, gathered by one request guard.
#[derive(Clone, Copy)]
pub struct LoginGate<'r> {
    pub db: &'r crate::db::Db,
    pub throttles: &'r crate::throttle::Throttles,
    pub queue: &'r HashQueue,
    pub addr: crate::throttle::ClientAddr,
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for LoginGate<'r> {
    type Error = &'static str;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let rocket = req.rocket();
        let addr = rocket::outcome::try_outcome!(req
            .guard::<crate::throttle::ClientAddr>()
            .await
            .map_error(|(s, _)| (s, "no client address")));
        match (
            <crate::db::Db as rocket_db_pools::Database>::fetch(rocket),
            rocket.state::<crate::throttle::Throttles>(),
            rocket.state::<HashQueue>(),
        ) {
            (Some(db), Some(throttles), Some(queue)) => Outcome::Success(LoginGate {
                db,
                throttles,
                queue,
                addr,
            }),
            _ => Outcome::Error((
                rocket::http::Status::InternalServerError,
                "the accounts subsystem is not attached",
            )),
        }
    }
}

/// What a login attempt came to.
pub enum Attempt {
    /// The right password: the account, to log in.
    Accepted(UserRow),
    /// A wrong name or password — one answer for both, so the page cannot tell which.
    Refused,
    /// Too many attempts for this name or from this address (429): nothing was looked up.
    Throttled(crate::throttle::TooMany),
    /// The hash queue is full (503): nothing was looked up.
    Busy,
}

/// The steps every login takes, in this order, wherever its form is (`/login`, `/compare/login`):
/// the throttle (before any work, keyed on the name as typed, so a 429 does not tell whether the
/// account exists), a place in the hash queue (before the lookup, so a shed attempt costs no
/// query), the lookup (counted in the session's statements), and the verify — against a dummy
/// hash when there is no such user, so every miss costs the same.
///
/// # Errors
/// [`AppError::Unavailable`] when the database cannot be reached.
pub async fn authenticate(
    session: &Session<'_>,
    gate: &LoginGate<'_>,
    username: &str,
    password: String,
) -> Result<Attempt, AppError> {
    let LoginGate {
        db,
        throttles,
        queue,
        addr,
    } = *gate;
    // The empty name stands in for any impossible one: the CHECK constraint keeps it out of
    // `users`, and unlike the raw input it is always valid text for PostgreSQL (a NUL is not).
    let name = normalise_username(username).unwrap_or_default();
    if let Err(too_many) = throttles.login(&name, addr).await {
        return Ok(Attempt::Throttled(too_many));
    }
    let Ok(admitted) = queue.admit() else {
        return Ok(Attempt::Busy);
    };
    let pool = session.lab().ready(db).await?;
    let mut conn = pool.acquire().await.map_err(DbError::from)?;
    let user = find_by_name(&mut conn, &name).await?;
    session.count_statements(1).await;
    // The connection goes back before the hash, which can wait for a free core.
    drop(conn);
    let phc = user.as_ref().map(|u| u.password_hash.clone());
    let ok = verify_password(admitted, password, phc).await;
    Ok(match user.filter(|_| ok) {
        Some(user) => Attempt::Accepted(user),
        None => Attempt::Refused,
    })
}
