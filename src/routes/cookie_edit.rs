//! `POST /session/cookie`: a cookie edit without devtools (a phone, a locked-down machine). The
//! server does to this browser's own session cookie what devtools would — `delete` removes it,
//! `flip` sends it back with one character in the middle changed — and nothing else: nothing
//! stored is opened or changed, and the next request carries what the browser now holds, so it
//! counts for the exercises exactly as a devtools edit does (`delete-cookie`, `tamper`).
//! `POST /exercises/forge-plain/forge` does the same for the `forge-plain` exercise's plain
//! cookie: it writes back the value a forger would, naming another user.

use rocket::form::FromForm;
use rocket::post;
use rocket::response::Redirect;

use crate::cookies::{Jar, Kind, Lifetime};
use crate::csrf::CheckedForm;
use crate::error::AppError;
use crate::exercises::detect;
use crate::session::Session;

#[derive(FromForm)]
struct Edit {
    /// Text, so anything else gets this page's 422 with the reason.
    action: String,
}

/// A cookie this route removes was removed by the learner's own hand, not by a logout: the
/// `delete-cookie` detector knows the route by its request line ([`crate::exercises::detect`]).
#[post("/session/cookie", data = "<form>")]
async fn edit_cookie(session: Session<'_>, form: CheckedForm<Edit>) -> Result<Redirect, AppError> {
    let name = session.cookie_name();
    let action = form.0.action.trim();
    if action != "delete" && action != "flip" {
        let why = format!(
            "“{action}” is not an edit this page makes: choose delete (remove {name}, as devtools' \
             Delete does) or flip (change one character of it)"
        );
        return Err(AppError::Unprocessable(why));
    }
    let Some(flipped) = session.flipped_cookie() else {
        let why = format!(
            "This browser holds no {name} cookie, so there is nothing to edit. Make a session \
             first (set a color), then come back."
        );
        return Err(AppError::Conflict(why));
    };
    if action == "delete" {
        session.forget_cookie().await;
        session
            .note(format!(
                "The server told your browser to delete {name}, exactly as devtools' Delete \
                 would: nothing stored was touched. Your next request comes without it."
            ))
            .await;
    } else {
        session.adopt_cookie(flipped).await;
        session
            .note(format!(
                "The server sent {name} back with one character in the middle changed, as if \
                 you had edited it in devtools. Your next request carries the edited cookie: \
                 watch what the server makes of it."
            ))
            .await;
    }
    Ok(Redirect::to("/session"))
}

#[derive(FromForm)]
struct Forge {
    /// Text, so anything but a whole number gets this page's 422 with the reason.
    user: String,
}

/// What a forger would do with a plain cookie, done by the server on the learner's request: the
/// `exercise_plain` cookie rewritten to name `user`. The next request carries the forged value,
/// so the exercise sees exactly what a devtools edit would show it.
#[post("/exercises/forge-plain/forge", data = "<form>")]
async fn forge_plain(jar: Jar<'_>, form: CheckedForm<Forge>) -> Result<Redirect, AppError> {
    let name = jar.name(Kind::ExercisePlain);
    let typed = form.0.user.trim();
    let Some(user) = typed.parse::<i64>().ok().filter(|u| *u > 0) else {
        let why = format!(
            "“{typed}” is not a user id: type a whole number from 1 up, the id of the user the \
             forged cookie should name"
        );
        return Err(AppError::Unprocessable(why));
    };
    if jar.value(Kind::ExercisePlain).is_none() {
        let why = format!(
            "This browser holds no {name} cookie, so there is nothing to forge: record your \
             prediction for “Forge a plain cookie” on /exercises, which gives you one."
        );
        return Err(AppError::Conflict(why));
    }
    // The user name is left as it was given: a forger changes only what the server trusts.
    jar.put(
        Kind::ExercisePlain,
        detect::plain_value(user, "guest"),
        Lifetime::Browser,
    );
    Ok(Redirect::to(
        "/exercises?did=forge&id=forge-plain#forge-plain",
    ))
}

pub fn routes() -> Vec<rocket::Route> {
    rocket::routes![edit_cookie, forge_plain]
}
