//! `/teacher`: the teacher's view of the class — every server-mode session row, the orphans
//! among them, and the class-wide actions (end every session, a class-wide outage or clock shift
//! for a demonstration, reset the class). Teachers only: an anonymous visitor is sent to the login
//! page, a student gets a 403 that says why.
//!
//! The class-wide switches are [`ClassLabs`], which every other browser's [`crate::browser_lab::Lab`]
//! combines with its own; these routes are exempt from them, so the page shows the class as it
//! really is and can always end the outage it started.

use std::sync::Arc;

use rocket::form::FromForm;
use rocket::request::{FromRequest, Outcome, Request};
use rocket::response::Redirect;
use rocket::{get, post, State};
use serde_json::{json, Value};
use time::{Duration, OffsetDateTime};

use crate::auth::User;
use crate::browser_lab::ClassLabs;
use crate::class::{self, Keep};
use crate::clock::Clock;
use crate::csrf::{CheckedForm, NoFields};
use crate::db::{Db, DbConnection};
use crate::error::AppError;
use crate::exercises::EXERCISES;
use crate::html::Html;
use crate::humanize;
use crate::page::Page;
use crate::session::{KeptSession, Session, SiblingSession};
use crate::settings::{Revocation, Settings};

/// A logged-in teacher. As `Result<Teacher, AppError>`: the `User` guard's answer for an
/// anonymous visitor (303 to the login page, back here afterwards), a 403 for anyone else.
pub struct Teacher(pub User);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Teacher {
    type Error = AppError;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, AppError> {
        let user = match req.guard::<User>().await {
            Outcome::Success(user) => user,
            Outcome::Error((_, e)) => return error(e),
            Outcome::Forward(status) => return Outcome::Forward(status),
        };
        // Teacher powers only on a session the server can end. The `User` guard has checked the
        // epoch (or the deny-list) already; with `cookie_revocation = "none"` there is nothing
        // to check, and a copy of the teacher's cookie — which anyone on the classroom's plain
        // http can take — would keep its powers after logout.
        if let Outcome::Success(session) = req.guard::<Session<'_>>().await {
            let layer = session.layer();
            if !layer.keeps_sessions() && layer.revocation() == Some(Revocation::None) {
                return error(AppError::Forbidden(
                    "The teacher's pages need a session the server can end, and with \
                     cookie_revocation = \"none\" nothing ends a cookie-mode session before its \
                     deadlines: a copy of your cookie would keep a teacher's powers after you log \
                     out. Run server mode, or cookie mode with cookie_revocation = \"epoch\" or \
                     \"denylist\"."
                        .into(),
                ));
            }
        }
        let mut conn = match req.guard::<DbConnection>().await {
            Outcome::Success(conn) => conn,
            _ => return error(AppError::Unavailable),
        };
        let checked = class::is_teacher(&mut conn, user.id).await;
        // Login state, like the `User` guard's own read of `users`: counted in `Session-Trace`.
        if let Outcome::Success(session) = req.guard::<Session<'_>>().await {
            session.counted(1, None).await;
        }
        match checked {
            Ok(true) => Outcome::Success(Teacher(user)),
            Ok(false) => error(AppError::Forbidden(format!(
                "This page is for teachers, and {} is a student account. A teacher's account is \
                 made on the server with `session-lab create-user --teacher NAME`; the signup \
                 form never makes one.",
                user.username
            ))),
            Err(e) => error(e.into()),
        }
    }
}

fn error(e: AppError) -> Outcome<Teacher, AppError> {
    Outcome::Error((e.status(), e))
}

#[get("/teacher?<sort>")]
#[allow(clippy::too_many_arguments)]
async fn teacher_page(
    sort: Option<&str>,
    page: Page<'_>,
    sibling: SiblingSession<'_>,
    teacher: Result<Teacher, AppError>,
    db: &Db,
    settings: &State<Settings>,
    clock: &State<Arc<Clock>>,
    class_labs: &State<Arc<ClassLabs>>,
) -> Result<Html, AppError> {
    let Teacher(_) = teacher?;
    let pool = db.ready().await?;
    let kept = match indexed(&page, &sibling) {
        Some(sessions) => sessions.kept_sessions().await?.unwrap_or_default(),
        None => Vec::new(),
    };
    let ids: Vec<i64> = kept.iter().filter_map(|r| r.user_id).collect();
    let names = class::usernames(pool, &ids).await?;
    let now = page.session.layer().now();
    let idle = Duration::seconds(settings.idle_timeout);
    let rows: Vec<Value> = kept
        .iter()
        .map(|r| row(r, r.user_id.and_then(|id| names.get(&id)), now, idle))
        .collect();
    let orphans = rows.iter().filter(|r| r["orphan"] == json!(true)).count();
    let mut learners = class::progress(pool).await?;
    let by_name = sort == Some("name");
    if by_name {
        class::sort_by_name(&mut learners);
    }
    let progress: Vec<Value> = learners.iter().map(|l| learner(l, now)).collect();
    let per_exercise: Vec<Value> = EXERCISES
        .iter()
        .map(|e| {
            let solved = learners
                .iter()
                .filter(|l| l.solved.iter().any(|s| s == e.id.as_str()))
                .count();
            json!({ "id": e.id, "title": e.title, "solved": solved })
        })
        .collect();
    let class_now = class_labs.at(|| clock.now());
    let (outage_until, shift) = (class_now.cut_until, class_now.shift);
    page.render(
        "teacher",
        json!({
            "rows": rows,
            "orphans": orphans,
            "progress": progress,
            "by_name": by_name,
            "per_exercise": per_exercise,
            "learners": learners.len(),
            "total": EXERCISES.len(),
            "idle_words": humanize::in_words(settings.idle_timeout.unsigned_abs()),
            "orphan_words": humanize::in_words(
                class::orphan_after(idle).whole_seconds().unsigned_abs()
            ),
            "outage": outage_until.map(|t| json!({
                "ends": humanize::relative(t, clock.now()),
                "exact": humanize::exact(t),
            })),
            "outage_choices": OUTAGE_CHOICES.map(|s| json!({
                "seconds": s,
                "words": humanize::in_words(s),
            })),
            "shift": (shift > 0).then(|| humanize::in_words(shift.unsigned_abs())),
            "shift_choices": shift_choices(settings).iter().map(|(s, why)| json!({
                "seconds": s,
                "words": humanize::in_words(s.unsigned_abs()),
                "why": why,
            })).collect::<Vec<_>>(),
        }),
    )
    .await
}

/// One row as the table shows it: times in words with the exact time on hover, and whether it
/// looks orphaned.
fn row(r: &KeptSession, user: Option<&String>, now: OffsetDateTime, idle: Duration) -> Value {
    let idle_deadline = r.updated_at.saturating_add(idle);
    let quiet = class::quiet_for(r.updated_at, now, idle);
    let expired = r.expires_at <= now;
    json!({
        "handle": r.handle,
        "user": user,
        "bytes": r.bytes,
        "current": r.current,
        "created": humanize::relative(r.created_at, now),
        "created_exact": humanize::exact(r.created_at),
        "idle": humanize::relative(idle_deadline, now),
        "idle_exact": humanize::exact(idle_deadline),
        "absolute": humanize::relative(r.absolute_expires_at, now),
        "absolute_exact": humanize::exact(r.absolute_expires_at),
        "expired": expired,
        "quiet": (quiet > Duration::ZERO)
            .then(|| humanize::in_words(quiet.whole_seconds().unsigned_abs())),
        "orphan": !expired && !r.current && quiet >= class::orphan_after(idle),
    })
}

/// One learner as the progress table shows it: the solved exercises by title, in the catalogue's
/// order (ids the catalogue no longer has are left out of the count).
fn learner(l: &class::LearnerProgress, now: OffsetDateTime) -> Value {
    let solved: Vec<&str> = EXERCISES
        .iter()
        .filter(|e| l.solved.iter().any(|s| s == e.id.as_str()))
        .map(|e| e.title)
        .collect();
    json!({
        "learner": l.learner,
        "user": l.username,
        "seen": humanize::relative(l.last_seen_at, now),
        "seen_exact": humanize::exact(l.last_seen_at),
        "count": solved.len(),
        "solved": solved,
    })
}

/// How long a class-wide outage may last, in seconds: it ends by itself, since the teacher's
/// page cannot reach the database to end it while it lasts either.
const OUTAGE_CHOICES: [u64; 3] = [60, 120, 300];

/// The clock shifts the page offers, each past a deadline the class can then watch pass.
fn shift_choices(settings: &Settings) -> [(i64, &'static str); 2] {
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

/// The asking teacher's own session and account, which the class-wide actions leave standing.
fn keep(teacher: &Teacher) -> Keep {
    Keep {
        user_id: Some(teacher.0.id),
    }
}

/// The session whose store keeps sessions — this app's, or under `--mode both` the sibling's
/// (server mode's either way) — through whose index the class's sessions are listed and ended.
/// `None` where no store of this process keeps any (cookie mode alone).
fn indexed<'a, 'r>(page: &'a Page<'r>, sibling: &'a SiblingSession<'r>) -> Option<&'a Session<'r>> {
    std::iter::once(&page.session)
        .chain(sibling.0.as_ref())
        .find(|s| s.can_end_sessions_remotely())
}

/// Ends every kept session but the asking one, through the store's index.
async fn end_kept(page: &Page<'_>, sibling: &SiblingSession<'_>) -> Result<u64, AppError> {
    Ok(match indexed(page, sibling) {
        Some(sessions) => sessions.end_every_other_session().await?.unwrap_or(0),
        None => 0,
    })
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
            "Ended every session but yours: {} server-mode session row{} deleted, so those \
             cookies now point at nothing; {} account{} got a new session epoch, so their \
             cookie-mode sessions are refused wherever the account is loaded. Anonymous \
             cookie-mode sessions cannot be ended: the server keeps nothing of them to delete or \
             bump, and they last until the deadlines sealed inside them.",
            rows,
            if rows == 1 { " was" } else { "s were" },
            accounts,
            if accounts == 1 { "" } else { "s" },
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

pub fn routes() -> Vec<rocket::Route> {
    rocket::routes![teacher_page, end_sessions, reset, outage, clock_shift]
}
