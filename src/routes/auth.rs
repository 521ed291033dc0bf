//! Signup, login and logout: what each does to the session is the lesson, so each step is spelled
//! out — a new id at login, a deleted row or removed cookie at logout, a new CSRF token at both.

use crate::html::Html;
use rocket::form::FromForm;
use rocket::http::Status;
use rocket::response::{self, Redirect, Responder};
use rocket::{get, post, Request, State};
use serde_json::json;

use crate::auth;
use crate::auth::device::Device;
use crate::auth::login::{authenticate, Attempt, LoginGate};
use crate::auth::password::{check_password, normalise_username};
use crate::auth::queue::HashQueue;
use crate::auth::users::{self, CreateError};
use crate::csrf::{CheckedForm, NoFields};
use crate::db::Db;
use crate::error::AppError;
use crate::error::RetryAfter;
use crate::page::Page;
use crate::settings::Settings;
use crate::throttle::{ClientAddr, Throttles};

/// A form shown again with a 4xx or 5xx status, and `Retry-After` when the answer is "wait".
struct Refused {
    status: Status,
    body: Html,
    retry_after: Option<u64>,
}

impl<'r> Responder<'r, 'static> for Refused {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        match self.retry_after {
            Some(secs) => RetryAfter((self.status, self.body), secs).respond_to(req),
            None => (self.status, self.body).respond_to(req),
        }
    }
}

type Answer = Result<Result<Redirect, Refused>, AppError>;

/// What a shed request is told: the queue drains in well under a second.
const BUSY_RETRY_AFTER: u64 = 1;
const BUSY: &str =
    "The server is busy checking other passwords, so yours was not checked. Try again in a second.";

/// `next` is followed only when it is a path on this site: `/x`, not `//evil.example` or
/// `/\evil.example` (which browsers treat as another host), nor anything with a scheme.
pub fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.starts_with("/\\")
                && !n.chars().any(|c| c.is_control() || c == '\\')
                // Anything Rocket could not send as a Location (spaces, raw non-ASCII) is refused.
                && rocket::http::uri::Origin::parse(n).is_ok() =>
        {
            n
        }
        _ => "/account",
    }
}

#[derive(FromForm)]
struct Credentials {
    username: String,
    password: String,
    remember: bool,
    next: Option<String>,
}

async fn form_page(
    page: &Page<'_>,
    template: &'static str,
    status: Status,
    username: &str,
    errors: Vec<String>,
    next: Option<&str>,
) -> Answer {
    let body = page
        .render(
            template,
            json!({ "username": username, "errors": errors, "next": next }),
        )
        .await?;
    Ok(Err(Refused {
        status,
        body,
        retry_after: None,
    }))
}

/// The form again, saying why the client must wait and for how long (429 throttled, 503 shed).
async fn wait_page(
    page: &Page<'_>,
    template: &'static str,
    (status, retry_after): (Status, u64),
    username: &str,
    why: String,
    next: Option<&str>,
) -> Answer {
    let answer = form_page(page, template, status, username, vec![why], next).await?;
    Ok(answer.map_err(|refused| Refused {
        retry_after: Some(retry_after),
        ..refused
    }))
}

/// Before a write that ends a logged-in cookie-mode session under the deny-list (a logout, or a
/// login or signup over it), which adds a row to `revoked_sessions`: the address's bound on such
/// rows (`denylist_address_burst`). Nothing to check anywhere else.
async fn denylist_room(
    session: &crate::session::Session<'_>,
    throttles: &Throttles,
    addr: ClientAddr,
) -> Result<Result<(), crate::throttle::TooMany>, AppError> {
    let denylist = session.layer().revocation() == Some(crate::settings::Revocation::Denylist);
    if !denylist || session.user_id().await?.is_none() {
        return Ok(Ok(()));
    }
    Ok(throttles.denylist_entry(addr).await)
}

/// What a client past its deny-list bound is told.
const DENYLIST_WHAT: &str = "sign-outs from your address";

#[get("/signup")]
async fn signup_page(page: Page<'_>) -> Result<Html, AppError> {
    page.render("signup", json!({ "username": "", "errors": [] }))
        .await
}

/// Takes the pool rather than a connection: hashing comes first, and a connection held through
/// it would sit idle while other requests wait for one.
#[allow(clippy::too_many_arguments)]
#[post("/signup", data = "<form>")]
async fn signup(
    page: Page<'_>,
    form: CheckedForm<Credentials>,
    db: &Db,
    addr: ClientAddr,
    throttles: &State<Throttles>,
    queue: &State<HashQueue>,
    settings: &State<Settings>,
) -> Answer {
    let f = form.0;
    let mut errors = Vec::new();
    let name = normalise_username(&f.username)
        .map_err(|e| errors.push(e.to_string()))
        .ok();
    // Judged against the name as typed when it breaks the rules, so both faults show at once.
    let typed_name = f.username.trim().to_lowercase();
    let against = name.as_deref().unwrap_or(&typed_name);
    if let Err(e) = check_password(&f.password, against, settings.password_min_score) {
        errors.push(e);
    }
    let Some(name) = name.filter(|_| errors.is_empty()) else {
        return form_page(
            &page,
            "signup",
            Status::UnprocessableEntity,
            &f.username,
            errors,
            None,
        )
        .await;
    };
    // The outage lab and a place in the hash queue before the throttle, as a login does: a
    // signup answered 503 (this browser's outage, or a full queue) has spent no token.
    let pool = page.lab.ready(db).await?;
    let Ok(admitted) = queue.admit() else {
        let wait = (Status::ServiceUnavailable, BUSY_RETRY_AFTER);
        return wait_page(&page, "signup", wait, &f.username, BUSY.into(), None).await;
    };
    // Counted only for a signup that would hash and store: a form sent back with a 422 cost
    // nothing, and someone fixing a weak password is not locked out for it. A browser that holds
    // a device cookie spends its own bucket; only a browser new to the app spends the address's.
    let held = Device::read(page.jar);
    let browser = held.as_ref().map(Device::browser);
    if let Err((too_many, what)) = throttles.signup(addr, browser).await {
        let why = too_many.sentence(what);
        let wait = (too_many.status(), too_many.retry_after);
        return wait_page(&page, "signup", wait, &f.username, why, None).await;
    }
    if let Err(too_many) = denylist_room(&page.session, throttles, addr).await? {
        let why = too_many.sentence(DENYLIST_WHAT);
        let wait = (too_many.status(), too_many.retry_after);
        return wait_page(&page, "signup", wait, &f.username, why, None).await;
    }
    let user = match users::create_user_admitted(pool, admitted, &name, f.password).await {
        Ok(user) => user,
        Err(CreateError::Taken) => {
            let why = vec![format!(
                "The name {name} is taken: choose another, or log in."
            )];
            return form_page(&page, "signup", Status::Conflict, &f.username, why, None).await;
        }
        Err(CreateError::Db(e)) => return Err(e.into()),
        Err(CreateError::Hash(e)) => return Err(AppError::Internal(e.to_string())),
    };
    // A new account's browser is its first device: its later logins are judged against that
    // device's own bucket, so a classmate's script using up the shared address's login tokens
    // does not keep them out.
    Device::new(&user, settings.login_device_lifetime, held.as_ref()).issue(page.jar);
    // lesson: signup
    auth::log_in(&page.session, &page.jar.config().keys, &user, f.remember).await?;
    page.renew_csrf();
    // end lesson
    Ok(Ok(Redirect::to("/account")))
}

#[get("/login?<next>")]
async fn login_page(page: Page<'_>, next: Option<&str>) -> Result<Html, AppError> {
    // Sent here by a page whose session was refused: say so, rather than a bare login form.
    let ended = page.last_refusal();
    page.render(
        "login",
        json!({ "username": "", "errors": [], "next": next, "ended": ended }),
    )
    .await
}

/// Takes the pool rather than a connection: a throttled attempt may wait before it is looked up,
/// and must not hold a connection meanwhile.
#[post("/login", data = "<form>")]
async fn login(page: Page<'_>, form: CheckedForm<Credentials>, gate: LoginGate<'_>) -> Answer {
    let f = form.0;
    let next = f.next.as_deref();
    let attempt = authenticate(&page.session, &gate, &f.username, f.password).await?;
    let user = match attempt {
        Attempt::Accepted(user) => user,
        Attempt::Throttled(too_many) => {
            let why = too_many.sentence("login attempts for this name or from your address");
            let wait = (too_many.status(), too_many.retry_after);
            return wait_page(&page, "login", wait, &f.username, why, next).await;
        }
        Attempt::Busy => {
            let wait = (Status::ServiceUnavailable, BUSY_RETRY_AFTER);
            return wait_page(&page, "login", wait, &f.username, BUSY.into(), next).await;
        }
        Attempt::Refused => {
            // One answer for "no such user" and "wrong password": the page must not tell which.
            let why = vec!["Wrong username or password.".to_string()];
            let status = Status::Unauthorized;
            return form_page(&page, "login", status, &f.username, why, next).await;
        }
    };
    if let Err(too_many) = denylist_room(&page.session, gate.throttles, gate.addr).await? {
        let why = too_many.sentence(DENYLIST_WHAT);
        let wait = (too_many.status(), too_many.retry_after);
        return wait_page(&page, "login", wait, &f.username, why, next).await;
    }
    auth::make_room(&page.session, user.id, gate.max_sessions).await?;
    // lesson: login
    auth::log_in(&page.session, &page.jar.config().keys, &user, f.remember).await?;
    page.renew_csrf();
    // end lesson
    Ok(Ok(Redirect::to(safe_next(f.next.as_deref()).to_string())))
}

/// Cookie mode with `cookie_revocation = "epoch"`: a teacher's logout bumps their epoch, so a
/// copy of the cookie taken before it — anyone on the classroom's plain http can take one — opens
/// no teacher page after it (the `Teacher` guard checks the epoch on every request). A student's
/// logout leaves the epoch alone: that a copy outlives it is the `replay-after-logout` lesson.
/// Where the check cannot run (the database unreachable), the logout goes ahead: removing the
/// cookie needs no database.
async fn end_teacher_copies(page: &Page<'_>, db: &Db) -> Result<(), AppError> {
    let layer = page.session.layer();
    if layer.keeps_sessions() || layer.revocation() != Some(crate::settings::Revocation::Epoch) {
        return Ok(());
    }
    let Some(user_id) = page.session.user_id().await? else {
        return Ok(());
    };
    let Ok(mut conn) = page.lab.connection(db).await else {
        return Ok(());
    };
    let teacher = crate::class::is_teacher(&mut conn, user_id).await;
    page.session.counted(1, None).await;
    if let Ok(true) = teacher {
        // A teacher's copy must not survive: better a 503 than a logout that leaves it working.
        users::bump_epoch(&mut conn, user_id).await?;
        page.session.counted(1, None).await;
        page.session
            .note(
                "A teacher's logout also moves the account's epoch: every copy of this cookie, \
                 and your other cookie-mode sessions, are refused from now on.",
            )
            .await;
    }
    Ok(())
}

#[post("/logout", data = "<_form>")]
async fn logout(
    page: Page<'_>,
    _form: CheckedForm<NoFields>,
    addr: ClientAddr,
    throttles: &State<Throttles>,
    db: &Db,
) -> Result<Redirect, AppError> {
    if let Err(too_many) = denylist_room(&page.session, throttles, addr).await? {
        return Err(AppError::RetryLater {
            status: too_many.status(),
            retry_after: too_many.retry_after,
            why: too_many.sentence(DENYLIST_WHAT),
        });
    }
    end_teacher_copies(&page, db).await?;
    // lesson: logout
    page.session.flush().await?;
    // The report says "You are no longer logged in." itself: no second sentence for it.
    page.renew_csrf();
    // end lesson
    Ok(Redirect::to("/"))
}

pub fn routes() -> Vec<rocket::Route> {
    rocket::routes![signup_page, signup, login_page, login, logout]
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(safe_next(Some("/notes?x=1")), "/notes?x=1");
        for bad in [
            "//evil.example",
            "/\\evil.example",
            "https://evil.example",
            "/a b",
            "/café",
            "evil",
            "",
            "/a\r\nb",
        ] {
            assert_eq!(safe_next(Some(bad)), "/account", "{bad:?}");
        }
        assert_eq!(safe_next(None), "/account");
    }
}
