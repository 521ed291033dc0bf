//! The class-wide actions: end every session, reset the class, and the two switches a teacher
//! throws for a demonstration (a class-wide outage, a class-wide clock shift).

use std::sync::Arc;

use rocket::form::FromForm;
use rocket::response::Redirect;
use rocket::{post, State};
use time::Duration;

use super::{end_kept, keep, Teacher};
use crate::browser_lab::ClassLabs;
use crate::class;
use crate::clock::Clock;
use crate::csrf::{CheckedForm, NoFields};
use crate::db::Db;
use crate::error::AppError;
use crate::humanize;
use crate::page::Page;
use crate::session::SiblingSession;
use crate::settings::Settings;

/// How long a class-wide outage may last, in seconds: it ends by itself, since the teacher's
/// page cannot reach the database to end it while it lasts either.
pub(super) const OUTAGE_CHOICES: [u64; 3] = [60, 120, 300];

/// The clock shifts the page offers, each past a deadline the class can then watch pass.
pub(super) fn shift_choices(settings: &Settings) -> [(i64, &'static str); 2] {
    [
        (
            settings.idle_timeout + 60,
            "past every idle deadline: from the next request on, every session ends — a session \
             used during the shift too, and a login made then lasts one request — until you \
             stop the shift; browsers that stay away keep theirs",
        ),
        (
            settings.absolute_timeout + 60,
            "past every absolute deadline: every session ends, however active",
        ),
    ]
}

/// End every session but the teacher's own.
#[post("/teacher/end-sessions", data = "<_form>")]
async fn end_sessions(
    page: Page<'_>,
    sibling: SiblingSession<'_>,
    teacher: Result<Teacher, AppError>,
    db: &Db,
    _form: CheckedForm<NoFields>,
) -> Result<Redirect, AppError> {
    let teacher = teacher?;
    let pool = db.ready().await?;
    let rows = end_kept(&page, &sibling).await?;
    let accounts = class::bump_epochs(pool, &keep(&teacher)).await?;
    page.session
        .note(format!(
            "Ended every session but yours: {} deleted, so those cookies now point at nothing; \
             {} got a new session epoch, so their \
             cookie-mode sessions are refused wherever the account is loaded. Anonymous \
             cookie-mode sessions cannot be ended: the server keeps nothing of them to delete or \
             bump, and they last until the deadlines sealed inside them.",
            humanize::count(
                rows,
                "server-mode session row was",
                "server-mode session rows were"
            ),
            humanize::count(accounts, "account", "accounts"),
        ))
        .await;
    Ok(Redirect::to("/teacher"))
}

/// Reset the class: every session but the teacher's, the deny-list and every student account.
#[post("/teacher/reset", data = "<_form>")]
async fn reset(
    page: Page<'_>,
    sibling: SiblingSession<'_>,
    teacher: Result<Teacher, AppError>,
    db: &Db,
    _form: CheckedForm<NoFields>,
) -> Result<Redirect, AppError> {
    let teacher = teacher?;
    let pool = db.ready().await?;
    let ended = end_kept(&page, &sibling).await?;
    let removed = class::reset(pool, &keep(&teacher), ended).await?;
    page.session
        .note(format!(
            "Reset the class (as `session-lab reset` does, your own session aside): {}.",
            removed.lines().join("; ")
        ))
        .await;
    Ok(Redirect::to("/teacher"))
}

#[derive(FromForm)]
struct OutageSwitch {
    /// Seconds to cut the database off for (one of [`OUTAGE_CHOICES`]); absent: end it now.
    seconds: Option<u64>,
}

/// Start (for a chosen time) or stop the class-wide outage.
#[post("/teacher/outage", data = "<form>")]
async fn outage(
    page: Page<'_>,
    teacher: Result<Teacher, AppError>,
    clock: &State<Arc<Clock>>,
    class_labs: &State<Arc<ClassLabs>>,
    form: CheckedForm<OutageSwitch>,
) -> Result<Redirect, AppError> {
    teacher?;
    let note = match form.0.seconds {
        Some(s) if OUTAGE_CHOICES.contains(&s) => {
            let seconds = i64::try_from(s).unwrap_or(i64::MAX);
            class_labs.cut_until(clock.now().saturating_add(Duration::seconds(seconds)));
            rocket::warn!("teacher: the database is cut off for every browser for {s} s");
            format!(
                "The database is cut off for every browser but this page for {}: server mode \
                 answers 503 on every page, cookie mode keeps serving what needs no database. It \
                 comes back by itself, or when you end it here.",
                humanize::in_words(s)
            )
        }
        Some(_) => {
            return Err(AppError::Unprocessable(
                "an outage lasts 1, 2 or 5 minutes".into(),
            ))
        }
        None => {
            class_labs.restore();
            "The class-wide outage is over: the database is back for every browser.".into()
        }
    };
    page.session.note(note).await;
    Ok(Redirect::to("/teacher"))
}

#[derive(FromForm)]
struct ShiftSwitch {
    /// Seconds to shift the clock by (one of [`shift_choices`]); absent: stop the shift.
    seconds: Option<i64>,
}

/// Start or stop the class-wide clock shift.
#[post("/teacher/clock", data = "<form>")]
async fn clock_shift(
    page: Page<'_>,
    teacher: Result<Teacher, AppError>,
    settings: &State<Settings>,
    class_labs: &State<Arc<ClassLabs>>,
    form: CheckedForm<ShiftSwitch>,
) -> Result<Redirect, AppError> {
    teacher?;
    let note = match form.0.seconds {
        Some(s) => {
            let Some((_, why)) = shift_choices(settings).into_iter().find(|(c, _)| *c == s) else {
                return Err(AppError::Unprocessable(
                    "the clock shifts past the idle or the absolute deadline only".into(),
                ));
            };
            // Bounded like a browser's own fast-forward: past the absolute timeout every
            // session has ended anyway.
            class_labs.shift(s, settings.absolute_timeout + 60);
            format!(
                "Every browser's clock now runs {} ahead ({why}). Only deadline checks move: \
                 nothing stored carries a shifted time. This page reads real time, so it stays \
                 open; your other pages see the shift like everyone's.",
                humanize::in_words(s.unsigned_abs())
            )
        }
        None => {
            class_labs.shift(0, 0);
            "The class-wide clock shift is over: deadlines are checked against real time (plus \
             each browser's own fast-forward) again. A browser that came during the shift had \
             its expired cookie refused and removed, so that session is over; one that stayed \
             away keeps its session, whose stored deadlines never moved."
                .into()
        }
    };
    page.session.note(note).await;
    Ok(Redirect::to("/teacher"))
}

pub(super) fn routes() -> Vec<rocket::Route> {
    rocket::routes![end_sessions, reset, outage, clock_shift]
}
