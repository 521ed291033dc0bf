//! `POST /session/cookie`: a cookie edit without devtools (a phone, a locked-down machine). The
//! server does to this browser's own session cookie what devtools would — `delete` removes it,
//! `flip` sends it back with one character in the middle changed — and nothing else: nothing
//! stored is opened or changed, and the next request carries what the browser now holds, so it
//! counts for the exercises exactly as a devtools edit does (`delete-cookie`, `tamper`).

use rocket::form::FromForm;
use rocket::post;
use rocket::response::Redirect;

use crate::csrf::CheckedForm;
use crate::error::AppError;
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

pub fn routes() -> Vec<rocket::Route> {
    rocket::routes![edit_cookie]
}
