//! The teacher's board (`GET /teacher`): every server-mode session row by its handle, the orphans
//! among them, each learner's progress and how many solved each exercise, and the switches'
//! forms.

use std::sync::Arc;

use rocket::{get, State};
use serde_json::{json, Value};
use time::{Duration, OffsetDateTime};

use super::actions::{shift_choices, OUTAGE_CHOICES};
use super::{indexed, Teacher};
use crate::browser_lab::ClassLabs;
use crate::class;
use crate::clock::Clock;
use crate::db::Db;
use crate::error::AppError;
use crate::exercises::EXERCISES;
use crate::html::Html;
use crate::humanize;
use crate::page::Page;
use crate::session::{KeptSession, SiblingSession};
use crate::settings::Settings;

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
    let switches = class_labs.at(|| clock.now());
    let (outage_until, shift) = (switches.cut_until, switches.shift);
    // This page reads real time (so a shift cannot end the teacher's session), but the class's
    // browsers read the shifted clock: their rows' deadlines and silences are judged on theirs.
    let class_clock = now.saturating_add(Duration::seconds(shift));
    let rows: Vec<Value> = kept
        .iter()
        .map(|r| {
            row(
                r,
                r.user_id.and_then(|id| names.get(&id)),
                class_clock,
                idle,
            )
        })
        .collect();
    let orphans = rows.iter().filter(|r| r["orphan"] == json!(true)).count();
    let expired = rows.iter().filter(|r| r["expired"] == json!(true)).count();
    let reach = reach(pool, &kept, now, idle).await?;
    let students: Vec<Value> = class::students(pool)
        .await?
        .iter()
        .map(|s| {
            let sessions = kept.iter().filter(|r| r.user_id == Some(s.id)).count();
            json!({
                "id": s.id, "name": s.username, "sessions": sessions,
                "learners": s.learners, "rows": s.progress_rows,
            })
        })
        .collect();
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
    page.render(
        "teacher",
        json!({
            "rows": rows,
            "orphans": orphans,
            "expired": expired,
            "reach": reach,
            "students": students,
            "keeps_sessions": indexed(&page, &sibling).is_some(),
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
    // The asking teacher's own row is read on real time, as this page is: never expired here.
    let expired = !r.current && r.expires_at <= now;
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

/// Who a class-wide switch will reach, for "this will reach N of M browsers". A switch acts on a
/// browser only when it makes a request while the switch is on, so the browsers counted are those
/// in use now, on real time (the shift moves deadlines, not the students): the kept sessions but
/// the teacher's that are live and not orphaned, of all kept sessions but the teacher's; and the
/// learners (browsers doing the exercises, cookie mode's included) seen in the last idle window,
/// of all learners.
async fn reach(
    pool: &sqlx::PgPool,
    kept: &[KeptSession],
    now: OffsetDateTime,
    idle: Duration,
) -> Result<Value, AppError> {
    let others = kept.iter().filter(|r| !r.current);
    let in_use = others
        .clone()
        .filter(|r| {
            r.expires_at > now
                && class::quiet_for(r.updated_at, now, idle) < class::orphan_after(idle)
        })
        .count();
    let (seen, learners) = class::learners_seen(pool, now.saturating_sub(idle)).await?;
    Ok(json!({
        "sessions": in_use,
        "of_sessions": others.count(),
        "learners": seen,
        "of_learners": learners,
        "idle_words": humanize::in_words(idle.whole_seconds().unsigned_abs()),
        "orphan_words": humanize::in_words(class::orphan_after(idle).whole_seconds().unsigned_abs()),
    }))
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
        "user_id": l.user_id,
        "seen": humanize::relative(l.last_seen_at, now),
        "seen_exact": humanize::exact(l.last_seen_at),
        "count": solved.len(),
        "solved": solved,
    })
}

pub(super) fn routes() -> Vec<rocket::Route> {
    rocket::routes![teacher_page]
}
