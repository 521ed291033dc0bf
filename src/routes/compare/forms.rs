//! `/compare`'s forms: a color, a note, a login, a logout, deleted cookies — each acting on this
//! browser's session in every mode that runs at once (or, for login and logout, in one of them).

use rocket::form::{FromForm, FromFormField};
use rocket::http::Status;
use rocket::post;
use rocket::response::Redirect;

use super::{cookie_first, refused, Answer, Seen};
use crate::auth;
use crate::auth::login::{self, Attempt, LoginGate};
use crate::csrf::{self, CheckedForm, NoFields};
use crate::db::Db;
use crate::error::AppError;
use crate::page::Page;
use crate::routes::color::{parse_color, COLOR};
use crate::routes::notes::{check_note, NOTES};
use crate::session::{Session, SessionError, Siblings};

#[derive(FromForm)]
struct ColorForm {
    color: String,
}

#[post("/compare/color", data = "<form>")]
async fn set_color_in_both(
    page: Page<'_>,
    siblings: Siblings<'_>,
    seen: Seen,
    db: &Db,
    form: CheckedForm<ColorForm>,
    gate: LoginGate<'_>,
) -> Answer {
    let Some(color) = parse_color(&form.0.color) else {
        let why = "Use a CSS color name (like rebeccapurple) or a hex color like #ff8800.";
        return refused(
            &page,
            &siblings,
            &seen,
            db,
            Status::UnprocessableEntity,
            why.into(),
        )
        .await;
    };
    // As /color: a cookie-less POST that would create sessions counts against this address.
    for session in cookie_first(&page.session, &siblings) {
        gate.throttles.new_session(session, gate.addr).await?;
    }
    for session in cookie_first(&page.session, &siblings) {
        match session.insert(COLOR, &color).await {
            Ok(()) => {}
            Err(SessionError::TooLarge { what, bytes, limit }) => {
                let why = format!(
                    "Refused in {}: {}. Nothing changed in either mode.",
                    session.cookie_name(),
                    what.describe(bytes, limit)
                );
                return refused(&page, &siblings, &seen, db, Status::PayloadTooLarge, why).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(Ok(Redirect::to("/compare")))
}

#[derive(FromForm)]
struct NoteForm {
    note: String,
}

#[post("/compare/notes", data = "<form>")]
async fn add_note_to_both(
    page: Page<'_>,
    siblings: Siblings<'_>,
    seen: Seen,
    db: &Db,
    form: CheckedForm<NoteForm>,
    gate: LoginGate<'_>,
) -> Answer {
    let note = form.0.note;
    if let Err(why) = check_note(&note) {
        return refused(
            &page,
            &siblings,
            &seen,
            db,
            Status::UnprocessableEntity,
            why,
        )
        .await;
    }
    for session in cookie_first(&page.session, &siblings) {
        gate.throttles.new_session(session, gate.addr).await?;
    }
    // Cookie mode first: its 4096-byte cookie is the limit a note meets long before server
    // mode's `session_max_bytes`, so a refusal there changes neither session.
    for session in cookie_first(&page.session, &siblings) {
        let added = note.clone();
        match session
            .update(NOTES, |notes: &mut Vec<String>| notes.push(added))
            .await
        {
            Ok(()) => {}
            Err(SessionError::TooLarge { what, bytes, limit }) => {
                let why = format!(
                    "Refused in {}: with this note {}. Nothing changed in either mode — the \
                     server-mode cookie, only an id, would not have grown at all.",
                    session.cookie_name(),
                    what.describe(bytes, limit)
                );
                return refused(&page, &siblings, &seen, db, Status::PayloadTooLarge, why).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(Ok(Redirect::to("/compare")))
}

/// Which sessions a login or logout on `/compare` acts on: both (the default), or one mode's
/// alone, so a student can make the columns differ and watch what each mode does.
#[derive(FromFormField, Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    /// Every mode that runs (`both` for `--mode both`'s two, kept for `--mode all`'s three).
    Both,
    Server,
    Cookie,
    Redis,
}

impl Side {
    fn includes(self, session: &Session<'_>) -> bool {
        use crate::settings::Mode;
        match self {
            Side::Both => true,
            Side::Server => session.mode() == Mode::Server,
            Side::Cookie => session.mode() == Mode::Cookie,
            Side::Redis => session.mode() == Mode::Redis,
        }
    }
}

#[derive(FromForm)]
struct Credentials {
    username: String,
    password: String,
    remember: bool,
    // Missing: both; a value that is not a side: 422 (an `Option` would swallow it as none).
    #[field(default = Side::Both)]
    side: Side,
}

/// One lookup and one password check, then a login in each mode asked for (both unless `side`
/// names one): a new id (server mode) and a freshly sealed cookie (cookie mode), and a new CSRF
/// token for each app logged in.
#[post("/compare/login", data = "<form>")]
async fn log_in_both(
    page: Page<'_>,
    siblings: Siblings<'_>,
    seen: Seen,
    db: &Db,
    form: CheckedForm<Credentials>,
    gate: LoginGate<'_>,
) -> Answer {
    let f = form.0;
    // The same steps as /login, throttle and hash queue included.
    let attempt = login::authenticate(&page.session, &gate, &f.username, f.password).await?;
    let user = match attempt {
        Attempt::Accepted(user) => user,
        Attempt::Throttled(too_many) => {
            let why = too_many.sentence("login attempts for this name or from your address");
            return Err(AppError::RetryLater {
                status: too_many.status(),
                retry_after: too_many.retry_after,
                why,
            });
        }
        Attempt::Busy => {
            return Err(AppError::RetryLater {
                status: Status::ServiceUnavailable,
                retry_after: 1,
                why: "Too many logins are being checked right now; try again in a second.".into(),
            });
        }
        Attempt::Refused => {
            let why = "Wrong username or password.".to_string();
            return refused(&page, &siblings, &seen, db, Status::Unauthorized, why).await;
        }
    };
    let side = f.side;
    for session in cookie_first(&page.session, &siblings) {
        if side.includes(session) {
            auth::make_room(session, user.id, gate.max_sessions).await?;
            auth::log_in(session, &page.jar.config().keys, &user, f.remember).await?;
        }
    }
    renew_csrf(&page, &siblings, side);
    Ok(Ok(Redirect::to("/compare")))
}

#[derive(FromForm)]
struct LogoutForm {
    #[field(default = Side::Both)]
    side: Side,
}

/// Ends the session in each mode asked for (both unless `side` names one).
#[post("/compare/logout", data = "<form>")]
async fn log_out_both(
    page: Page<'_>,
    siblings: Siblings<'_>,
    form: CheckedForm<LogoutForm>,
) -> Result<Redirect, AppError> {
    let side = form.0.side;
    for session in cookie_first(&page.session, &siblings) {
        if side.includes(session) {
            session.flush().await?;
        }
    }
    renew_csrf(&page, &siblings, side);
    Ok(Redirect::to("/compare"))
}

/// What "Delete" in devtools' Cookies panel does, done by the server: every session cookie is
/// removed and nothing else happens — server mode's row stays (orphaned until it expires), as
/// the guide's walkthrough on deleting the cookie shows (docs/guide/devtools.md, step 5).
#[post("/compare/forget", data = "<_form>")]
async fn forget_both_cookies(
    session: Session<'_>,
    siblings: Siblings<'_>,
    _form: CheckedForm<NoFields>,
) -> Redirect {
    for session in std::iter::once(&session).chain(&siblings.0) {
        session.forget_cookie().await;
        session.note(forget_note(session)).await;
    }
    Redirect::to("/compare")
}

/// What deleting a mode's session cookie leaves behind, for the report.
fn forget_note(session: &Session<'_>) -> String {
    let name = session.cookie_name();
    if session.layer().keeps_sessions() {
        format!(
            "Told your browser to delete {name}. Nothing else happened: the session's row stays in \
             the table until it expires or is cleaned up, so a copy of the deleted cookie still \
             works until then."
        )
    } else if session.layer().holds_data() {
        format!(
            "Told your browser to delete {name}. Nothing else happened: the session's key stays in \
             Redis until its TTL runs out, so a copy of the deleted cookie still works until then."
        )
    } else {
        format!(
            "Told your browser to delete {name}. The server keeps nothing to delete: a copy of the \
             deleted cookie still works until its idle deadline if left unused, and never past its \
             absolute one."
        )
    }
}

/// Login and logout renew the CSRF token (forms shown before no longer post) in each app whose
/// session they changed.
fn renew_csrf(page: &Page<'_>, siblings: &Siblings<'_>, side: Side) {
    if side.includes(&page.session) {
        page.renew_csrf();
    }
    for other in siblings.0.iter().filter(|s| side.includes(s)) {
        csrf::renew(other.jar());
    }
}

pub fn routes() -> Vec<rocket::Route> {
    rocket::routes![
        set_color_in_both,
        add_note_to_both,
        log_in_both,
        log_out_both,
        forget_both_cookies
    ]
}
