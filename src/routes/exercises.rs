//! `/exercises`: the exercises, this learner's predictions, hints and progress, and the forms that
//! answer a prediction (which arms the exercise) or ask for a hint. `/exercises.json` gives the
//! same for scripts.
//!
//! The pages never write the session. Progress belongs to the learner (see [`crate::learner`]);
//! [`crate::exercises::board`] reads and stores it, keeping it in the learner cookie while the
//! database cannot be reached.

use rocket::form::FromForm;
use rocket::http::{Header, Status};
use rocket::response::{self, Redirect, Responder};
use rocket::serde::json::Json;
use rocket::{get, post, Request};
use serde_json::{json, Value};

use crate::cookies::{Jar, Kind, Lifetime};
use crate::csrf::{CheckedForm, NoFields};
use crate::error::AppError;
use crate::exercises::board::{board, keep, Board};
use crate::exercises::order::in_lesson_order;
use crate::exercises::{catalogue, detect, Exercise, ExerciseId};
use crate::html::Html;
use crate::learner::{arm_key, Arm, Learner, LearnerState, Pending};
use crate::page::Page;
use crate::settings::Mode;
use crate::throttle::{ClientAddr, Throttles};

/// The user id the plain cookie of `forge-plain` names at first: no real account.
const PLAIN_USER: i64 = 42;

/// One exercise as the page and the JSON show it, in this app's `mode`.
fn exercise_view(e: &Exercise, board: &Board, state: Option<&LearnerState>, mode: Mode) -> Value {
    let row = board.get(e.id, mode);
    let prediction = row.and_then(|r| r.prediction).map(|p| p as usize);
    let hints = row.map_or(0, |r| r.hints.max(0) as usize);
    let solved_here = row.is_some_and(|r| r.solved_at.is_some());
    let solved_in = board.solved_in(e.id);
    let solved = !solved_in.is_empty();
    let right = e.right_choice(mode);
    let armed = state.is_some_and(|s| s.armed.contains_key(&arm_key(e.id, mode)));
    let choices: Vec<Value> = e
        .choices
        .iter()
        .enumerate()
        .map(|(i, text)| {
            json!({
                "index": i,
                "text": text,
                "chosen": prediction == Some(i),
                "right": solved_here && i == right,
            })
        })
        .collect();
    json!({
        "id": e.id,
        "title": e.title,
        "lesson": e.lesson,
        "lesson_path": e.lesson_path,
        "readme": e.readme,
        // The catalogue names each exercise's section by its heading; the guide knows where it is.
        "guide": crate::guide::guide().section_url(e.readme),
        "modes": e.mode_names(),
        "applies": e.applies_to(mode),
        "question": e.question,
        "choices": choices,
        "answered": prediction.is_some(),
        "prediction": prediction.and_then(|p| e.choices.get(p)),
        "prediction_right": prediction == Some(right),
        "right_choice": e.choices.get(right).filter(|_| solved_here),
        "armed": armed,
        "task": e.task,
        "hints": &e.hints[..hints.min(e.hints.len())],
        "more_hints": hints < e.hints.len(),
        "answer": (solved || hints >= e.hints.len()).then_some(e.answer),
        "solved": solved,
        "solved_here": solved_here,
        "solved_in": solved_in,
        "evidence": row.and_then(|r| r.evidence.clone()),
        "explanation": solved_here.then_some(e.explanation),
    })
}

/// The page's words for what the form posted before it did (`?did=…&id=…`).
/// Said only when the board agrees (a link cannot make the page claim a prediction it has not
/// got).
fn what_happened(did: Option<&str>, id: Option<&str>, board: &Board, mode: Mode) -> Option<String> {
    let e = catalogue::named(id?)?;
    let row = board.get(e.id, mode)?;
    let offline = board.offline;
    let kept = if offline {
        " It is kept in your learner cookie until the database is back."
    } else {
        ""
    };
    match did? {
        "predict" if row.prediction.is_some() => Some(format!(
            "Your prediction for “{}” is recorded, and the exercise is armed: the server now \
             watches your requests. Next: {}{kept}",
            e.title, e.task
        )),
        "hint" if row.hints > 0 => Some(format!("A hint for “{}” is shown below.{kept}", e.title)),
        "forge" => Some(
            "The server rewrote your plain cookie as a forger would, to name another user: this \
             page's request already carried it."
                .to_string(),
        ),
        _ => None,
    }
}

#[get("/exercises?<did>&<id>")]
async fn exercises_page(
    page: Page<'_>,
    learner: Learner<'_>,
    did: Option<&str>,
    id: Option<&str>,
) -> Result<NoStore<Html>, AppError> {
    let mode = page.jar.mode();
    let board = board(&learner).await;
    let state = learner.cell().get();
    let order = in_lesson_order();
    let list: Vec<Value> = order
        .iter()
        .map(|e| exercise_view(e, &board, state.as_ref(), mode))
        .collect();
    // The score counts what this mode can do (server mode cannot overflow a cookie); what was
    // solved in another mode is said beside it.
    let (here, elsewhere): (Vec<&Exercise>, Vec<&Exercise>) =
        order.iter().partition(|e| e.applies_to(mode));
    let plain = page.jar.value(Kind::ExercisePlain);
    let html = page
        .render(
            "exercises",
            json!({
                "exercises": list,
                "solved": board.solved_count(&here),
                "total": here.len(),
                "solved_elsewhere": board.solved_count(&elsewhere),
                "other_modes": elsewhere.len(),
                "learner": state.is_some(),
                "offline": board.offline,
                "pending": state.as_ref().map_or(0, |s| s.pending.len()),
                "happened": what_happened(did, id, &board, mode),
                "plain_name": page.jar.name(Kind::ExercisePlain),
                "plain_user": plain.and_then(detect::plain_user),
                "learner_cookie": page.jar.name(Kind::Learner),
                "learner_unopened": learner.cell().unopened(),
            }),
        )
        .await?;
    Ok(NoStore(html))
}

#[get("/exercises.json")]
async fn exercises_json(learner: Learner<'_>, jar: Jar<'_>) -> NoStore<Json<Value>> {
    let board = board(&learner).await;
    let state = learner.cell().get();
    let list: Vec<Value> = in_lesson_order()
        .into_iter()
        .map(|e| {
            let v = exercise_view(e, &board, state.as_ref(), jar.mode());
            json!({
                "id": e.id,
                "title": e.title,
                "modes": e.mode_names(),
                "solved": v["solved"],
                "solved_in": v["solved_in"],
                "prediction": {
                    "question": e.question,
                    "choices": e.choices,
                    "answered": v["answered"],
                    "choice": v["choices"].as_array().and_then(|c| {
                        c.iter().position(|c| c["chosen"] == json!(true))
                    }),
                    // Said once the exercise is solved in this mode (before, it would give the
                    // answer away): whether the prediction was right.
                    "right": (v["solved_here"] == json!(true) && v["answered"] == json!(true))
                        .then(|| v["prediction_right"].clone()),
                },
            })
        })
        .collect();
    NoStore(Json(Value::Array(list)))
}

#[derive(FromForm)]
struct PredictForm {
    /// Text, so a wrong entry gets this page's 422 with the reason.
    choice: String,
}

/// Records the prediction and arms the exercise in this mode: from now on the learner's requests
/// are watched for it.
#[post("/exercises/<id>/predict", data = "<form>")]
async fn predict(
    id: &str,
    form: CheckedForm<PredictForm>,
    learner: Learner<'_>,
    jar: Jar<'_>,
    addr: ClientAddr,
) -> Result<Result<Redirect, (Status, Html)>, AppError> {
    let e = match known(learner.request(), id) {
        Ok(e) => e,
        Err(refused) => return Ok(Err(refused)),
    };
    let mode = jar.mode();
    if !e.applies_to(mode) {
        return Ok(Err(refuse(
            learner.request(),
            Status::UnprocessableEntity,
            format!(
                "“{}” is done in {} mode; this server runs {} mode.",
                e.title,
                e.mode_names().join(" or "),
                mode.as_str()
            ),
        )));
    }
    let choice = match form.0.choice.trim().parse::<usize>() {
        Ok(c) if c < e.choices.len() => c,
        _ => {
            return Ok(Err(refuse(
                learner.request(),
                Status::UnprocessableEntity,
                format!(
                    "“{}” is not one of the choices: pick one of the {} answers.",
                    form.0.choice,
                    e.choices.len()
                ),
            )))
        }
    };
    room_for_a_learner(&learner, addr).await?;
    let mut arm = Arm::default();
    if e.id == ExerciseId::ForgePlain {
        arm.n = Some(PLAIN_USER);
        // Plain on purpose: the exercise is to forge it.
        let value = detect::plain_value(PLAIN_USER, "guest");
        jar.put(Kind::ExercisePlain, value, Lifetime::Browser);
    }
    learner.cell().update(|s| {
        s.armed.insert(arm_key(e.id, mode), arm);
    });
    let p = Pending {
        exercise: e.id,
        mode,
        prediction: i16::try_from(choice).ok(),
        hint: false,
        evidence: None,
        at: crate::clock::now_for(learner.request().rocket()).unix_timestamp(),
    };
    keep(&learner, p).await;
    Ok(Ok(Redirect::to(format!(
        "/exercises?did=predict&id={}#{}",
        e.id, e.id
    ))))
}

/// Before a browser becomes a learner (its first prediction or hint), which adds a row to
/// `learners` and a line to the teacher's board: one address may make `learner_address_burst`,
/// then one per `learner_address_interval` (issue 22: a script made 411 a second). A browser that
/// already is one costs nothing.
///
/// # Errors
/// [`AppError::RetryLater`] (429) past the address's bound.
async fn room_for_a_learner(learner: &Learner<'_>, addr: ClientAddr) -> Result<(), AppError> {
    if learner.cell().exists() {
        return Ok(());
    }
    let Some(throttles) = learner.request().rocket().state::<Throttles>() else {
        return Err(AppError::Internal("the throttles are not attached".into()));
    };
    throttles
        .new_learner(addr)
        .await
        .map_err(|too_many| AppError::RetryLater {
            status: too_many.status(),
            retry_after: too_many.retry_after,
            why: too_many.sentence("new learners from your address"),
        })
}

/// One more hint; the second also opens the full answer.
#[post("/exercises/<id>/hint", data = "<_form>")]
async fn hint(
    id: &str,
    _form: CheckedForm<NoFields>,
    learner: Learner<'_>,
    jar: Jar<'_>,
    addr: ClientAddr,
) -> Result<Result<Redirect, (Status, Html)>, AppError> {
    let e = match known(learner.request(), id) {
        Ok(e) => e,
        Err(refused) => return Ok(Err(refused)),
    };
    // Predict first: a hint read before predicting turns the prediction into a quiz answer.
    let predicted = board(&learner)
        .await
        .get(e.id, jar.mode())
        .is_some_and(|r| r.prediction.is_some());
    if !predicted {
        return Ok(Err(refuse(
            learner.request(),
            Status::Conflict,
            format!(
                "Hints for “{}” open once your prediction is recorded: answer its question on \
                 /exercises first, then ask.",
                e.title
            ),
        )));
    }
    room_for_a_learner(&learner, addr).await?;
    // A learner asking for a hint is one from now on.
    learner.cell().update(|_| ());
    let p = Pending {
        exercise: e.id,
        mode: jar.mode(),
        prediction: None,
        hint: true,
        evidence: None,
        at: crate::clock::now_for(learner.request().rocket()).unix_timestamp(),
    };
    keep(&learner, p).await;
    Ok(Ok(Redirect::to(format!(
        "/exercises?did=hint&id={}#{}",
        e.id, e.id
    ))))
}

fn known(req: &Request<'_>, id: &str) -> Result<&'static Exercise, (Status, Html)> {
    catalogue::named(id).ok_or_else(|| {
        refuse(
            req,
            Status::NotFound,
            format!("There is no exercise called “{id}”: the list is at /exercises."),
        )
    })
}

fn refuse(req: &Request<'_>, status: Status, why: String) -> (Status, Html) {
    (
        status,
        Html::render("error", crate::error::page::context(req, status, Some(why))),
    )
}

/// Progress is this browser's own: never cached.
pub struct NoStore<R>(pub R);

impl<'r, R: Responder<'r, 'static>> Responder<'r, 'static> for NoStore<R> {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        let mut res = self.0.respond_to(req)?;
        res.set_header(Header::new("Cache-Control", "no-store"));
        Ok(res)
    }
}

pub fn routes() -> Vec<rocket::Route> {
    rocket::routes![exercises_page, exercises_json, predict, hint]
}
