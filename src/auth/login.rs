//! The login path: what a login needs (the gate), and the steps every attempt takes in order —
//! a place in the hash queue, the throttle (or the device's own bucket), the lookup, the verify.

use rocket::request::{FromRequest, Outcome, Request};

use super::device::Device;
use super::password::normalise_username;
use super::queue::{verify_password, HashQueue};
use super::users::{find_by_name, UserRow};
use crate::browser_lab::Lab;
use crate::cookies::Jar;
use crate::db::DbError;
use crate::error::AppError;
use crate::session::Session;

/// What a login needs besides its form: the database, the throttles, the hash queue, the
/// client's address and its device cookie, gathered by one request guard.
#[derive(Clone, Copy)]
pub struct LoginGate<'r> {
    pub db: &'r crate::db::Db,
    pub throttles: &'r crate::throttle::Throttles,
    pub queue: &'r HashQueue,
    pub addr: crate::throttle::ClientAddr,
    /// Where the device cookie is read from and a new one is sent.
    pub jar: Jar<'r>,
    /// This browser's labs: its outage switch cuts the `users` lookup off too.
    pub lab: &'r Lab,
    /// `login_device_lifetime`, for a new device cookie.
    pub device_lifetime: i64,
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
            Jar::of(req),
            rocket.state::<crate::settings::Settings>(),
        ) {
            (Some(db), Some(throttles), Some(queue), Some(jar), Some(settings)) => {
                Outcome::Success(LoginGate {
                    db,
                    throttles,
                    queue,
                    addr,
                    jar,
                    lab: Lab::of(req),
                    device_lifetime: settings.login_device_lifetime,
                })
            }
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
///
/// 1. A place in the hash queue, before anything else: a shed attempt (503) has then spent no
///    throttle token, so a real user retrying through a flood is not locked out by their own
///    retries; and an attempt the throttle refuses gives its place straight back, having cost no
///    query and no hash. An attempt with a trusted device cookie for the name it types takes a
///    place kept for devices, which anonymous attempts cannot fill.
/// 2. The throttle, keyed on the name as typed (so a 429 does not tell whether the account
///    exists) and the address; its growing delay is waited in the queue place, so a flood cannot
///    hold more delayed attempts open than the queue has places. A trusted device skips it: its
///    own bucket of wrong passwords is its limit (OWASP's device cookies).
/// 3. The lookup (counted in the session's statements), then the verify — against a dummy hash
///    when there is no such user, so every miss costs the same.
/// 4. A wrong password with a device cookie spends that device's bucket; a right one gets a
///    device cookie for the name, unless the browser already holds one.
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
        jar,
        lab,
        device_lifetime,
    } = *gate;
    // The empty name stands in for any impossible one: the CHECK constraint keeps it out of
    // `users`, and unlike the raw input it is always valid text for PostgreSQL (a NUL is not).
    let name = normalise_username(username).unwrap_or_default();
    let device = Device::read(jar).filter(|d| d.is_for(&name));
    let trusted = device
        .as_ref()
        .filter(|d| !name.is_empty() && throttles.trusts_device(&d.id));
    let admitted = match trusted {
        Some(_) => queue.admit_device(),
        None => queue.admit(),
    };
    let Ok(admitted) = admitted else {
        return Ok(Attempt::Busy);
    };
    if trusted.is_none() {
        if let Err(too_many) = throttles.login(&name, addr).await {
            return Ok(Attempt::Throttled(too_many));
        }
    }
    let pool = lab.ready(db).await?;
    let mut conn = pool.acquire().await.map_err(DbError::from)?;
    let user = find_by_name(&mut conn, &name).await?;
    session.counted(1, None).await;
    // The connection goes back before the hash, which can wait for a free core.
    drop(conn);
    let phc = user.as_ref().map(|u| u.password_hash.clone());
    let ok = verify_password(admitted, password, phc).await;
    match user.filter(|_| ok) {
        Some(user) => {
            if device.is_none() {
                Device::new(&name, device_lifetime).issue(jar);
            }
            Ok(Attempt::Accepted(user))
        }
        None => {
            if let Some(device) = trusted {
                throttles.device_failed(&device.id);
            }
            Ok(Attempt::Refused)
        }
    }
}
