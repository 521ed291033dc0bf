//! `/notes`: a list that grows in the session, to watch the session grow with it against its
//! mode's limit — the cookie against the browsers' 4096 bytes, or the row's data against
//! `session_max_bytes` — with a warning before the 413.

use crate::html::Html;
use rocket::form::FromForm;
use rocket::http::Status;
use rocket::response::Redirect;
use rocket::{get, post, uri, State};
use serde_json::json;

use crate::csrf::{CheckedForm, NoFields};
use crate::error::AppError;
use crate::page::Page;
use crate::routes::inspector::{SentCookie, Usage};
use crate::session::SessionError;
use crate::throttle::{ClientAddr, Throttles};

/// The session key the list is kept under.
pub const NOTES: &str = "notes";

/// Longest note, in characters.
const NOTE_MAX_CHARS: usize = 500;

#[derive(FromForm)]
struct NoteForm {
    note: String,
}

type Answer = Result<Result<Redirect, (Status, Html)>, AppError>;

async fn show(
    page: &Page<'_>,
    sent: &SentCookie,
    typed: &str,
    error: Option<String>,
) -> Result<Html, AppError> {
    // lesson: notes-show
    let notes: Vec<String> = page.session.get(NOTES).await?.unwrap_or_default();
    // end lesson
    // How full the session is against its mode's limit, so the 413 comes with a warning first.
    let usage = Usage::of(&page.session, sent.0.as_deref()).await?;
    // The cookie as it came, drawn against 4096 bytes; in server mode the row's data beside it.
    let layer = page.session.layer();
    let row = (usage.what == "row").then_some((usage.bytes, usage.limit));
    let drawing = sent.0.as_deref().map(|value| {
        let name = page.jar.name(layer.cookie_kind());
        crate::drawings::cookie(name, value, layer.keeps_sessions(), row)
    });
    page.render(
        "notes",
        json!({
            "notes": notes,
            "typed": typed,
            "error": error,
            "max_chars": NOTE_MAX_CHARS,
            "max_bytes": page.session.layer().max_data(),
            "usage": usage.view(),
            "cookie_drawing": drawing,
        }),
    )
    .await
}

/// Re-shows the form with what was typed and why it was refused.
async fn refused(
    page: &Page<'_>,
    sent: &SentCookie,
    typed: &str,
    status: Status,
    why: String,
) -> Answer {
    Ok(Err((status, show(page, sent, typed, Some(why)).await?)))
}

/// What is wrong with a note, if anything (also used by `/compare`'s note form).
pub fn check_note(note: &str) -> Result<(), String> {
    let length = note.trim().chars().count();
    if length == 0 || note.chars().count() > NOTE_MAX_CHARS {
        return Err(format!("A note is 1 to {NOTE_MAX_CHARS} characters."));
    }
    // Control characters have no place in a one-line note (and PostgreSQL's JSONB cannot hold NUL).
    if note.chars().any(char::is_control) {
        return Err("A note is one line of text, without control characters.".to_string());
    }
    Ok(())
}

#[get("/notes")]
async fn notes_page(page: Page<'_>, sent: SentCookie) -> Result<Html, AppError> {
    show(&page, &sent, "", None).await
}

#[post("/notes", data = "<form>")]
async fn add_note(
    page: Page<'_>,
    sent: SentCookie,
    form: CheckedForm<NoteForm>,
    addr: ClientAddr,
    throttles: &State<Throttles>,
) -> Answer {
    let note = form.0.note;
    if let Err(why) = check_note(&note) {
        return refused(&page, &sent, &note, Status::UnprocessableEntity, why).await;
    }
    throttles.new_session(&page.session, addr).await?;
    // lesson: notes-add
    let added = note.clone();
    match page
        .session
        .update(NOTES, |notes: &mut Vec<String>| notes.push(added))
        .await
    {
        Ok(()) => Ok(Ok(Redirect::to(uri!(notes_page)))),
        Err(SessionError::TooLarge { what, bytes, limit }) => {
            let why = format!(
                "Refused with 413 (Payload Too Large): with this note {}. Nothing changed.",
                what.describe(bytes, limit)
            );
            refused(&page, &sent, &note, Status::PayloadTooLarge, why).await
        }
        Err(e) => Err(e.into()),
    }
    // end lesson
}

#[post("/notes/clear", data = "<_form>")]
async fn clear_notes(page: Page<'_>, _form: CheckedForm<NoFields>) -> Result<Redirect, AppError> {
    // lesson: notes-clear
    page.session.remove::<Vec<String>>(NOTES).await?;
    // end lesson
    Ok(Redirect::to(uri!(notes_page)))
}

pub fn routes() -> Vec<rocket::Route> {
    rocket::routes![notes_page, add_note, clear_notes]
}
