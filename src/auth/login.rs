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
    /// `max_sessions_per_account`, for [`super::make_room`].
    pub max_sessions: u32,
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
                    max_sessions: settings.max_sessions_per_account,
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
/// 0. The outage lab, before anything is spent: a browser whose lab cuts the database off gets its
///    503 having used no token of its name, its address or its device.
/// 1. A place in the hash queue: a shed attempt (503) has then spent no throttle token, so a real
///    user retrying through a flood is not locked out by their own retries; and an attempt the
///    throttle refuses gives its place straight back, having cost no hash. An attempt with a
///    device cookie for the name it types takes a place kept for devices, which anonymous
///    attempts cannot fill — at most one per device at a time.
/// 2. Without a device cookie: the throttle, keyed on the name as typed (so a 429 does not tell
///    whether the account exists) and the address, before the lookup; its growing delay is waited
///    in the queue place, so a flood cannot hold more delayed attempts open than the queue has
///    places.
/// 3. The lookup (counted in the session's statements). With a device cookie it comes first: the
///    cookie counts only if it is bound to the account as it is now (its id and
///    `device_secret`), and then the device's own bucket is the limit, right password or wrong
///    (OWASP's device cookies); a cookie that is not bound is no device, and the throttle of
///    step 2 applies.
/// 4. The verify — against a dummy hash when there is no such user, so every miss costs the same.
///    A wrong password with a device cookie spends that device's bucket only; a right one gets a
///    device cookie for the account, unless the browser already holds one bound to it.
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
        ..
    } = *gate;
    // The empty name stands in for any impossible one: the CHECK constraint keeps it out of
    // `users`, and unlike the raw input it is always valid text for PostgreSQL (a NUL is not).
    let name = normalise_username(username).unwrap_or_default();
    let pool = lab.ready(db).await?;
    let held = Device::read(jar);
    let device = held
        .as_ref()
        .filter(|d| !name.is_empty() && d.is_for(&name));
    let admitted = match device {
        Some(d) => queue.admit_device(&d.id),
        None => queue.admit(),
    };
    let Ok(admitted) = admitted else {
        return Ok(Attempt::Busy);
    };
    if device.is_none() {
        if let Err(too_many) = throttles.login(&name, addr).await {
            return Ok(Attempt::Throttled(too_many));
        }
    }
    let mut conn = pool.acquire().await.map_err(DbError::from)?;
    let user = find_by_name(&mut conn, &name).await?;
    session.counted(1, None).await;
    // The connection goes back before the hash, which can wait for a free core.
    drop(conn);
    let bound = device.filter(|d| user.as_ref().is_some_and(|u| d.is_bound_to(u)));
    let device_used = match bound {
        Some(d) => match throttles.device_attempt(&d.id).await {
            Ok(used) => Some(used),
            Err(too_many) => return Ok(Attempt::Throttled(too_many)),
        },
        // A device cookie for this name not bound to the account as it is now (minted before a
        // reset or a password change, or for a name nobody holds): no device, so the throttle
        // it skipped applies after all.
        None if device.is_some() => match throttles.login(&name, addr).await {
            Ok(()) => None,
            Err(too_many) => return Ok(Attempt::Throttled(too_many)),
        },
        None => None,
    };
    let phc = user.as_ref().map(|u| u.password_hash.clone());
    let ok = verify_password(admitted, password, phc).await;
    match user.filter(|_| ok) {
        Some(user) => {
            if bound.is_none() {
                Device::new(&user, device_lifetime, held.as_ref()).issue(jar);
            }
            Ok(Attempt::Accepted(user))
        }
        None => {
            if let (Some(device), Some(used)) = (bound, device_used) {
                throttles.device_failed(&device.id, used).await;
            }
            Ok(Attempt::Refused)
        }
    }
}
