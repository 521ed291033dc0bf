//! `/labs/outage`: a switch that cuts this browser off from PostgreSQL and gives it back, to watch
//! what each mode does without its database. The switch lives in the browser's lab cookie
//! ([`crate::lab`]), so it acts on this browser's requests alone, in every build.
//!
//! Neither the page nor the switch opens the session: in server mode that needs the database, and
//! the page must stay up to turn the database back on.

use crate::html::Html;
use rocket::form::FromForm;
use rocket::{get, post};
use serde_json::json;

use crate::browser_lab::Lab;
use crate::cookies::{Jar, Kind};
use crate::csrf::{CheckedForm, CsrfToken};
use crate::db::Db;
use crate::page::LastReport;
use crate::routes::compare::Seen;
use crate::session::Session;
use rocket::response::Redirect;

#[get("/labs/outage")]
fn outage_page(
    csrf: CsrfToken,
    jar: Jar<'_>,
    lab: &Lab,
    db: &Db,
    seen: Seen,
    last: LastReport,
) -> Html {
    Html::render(
        "outage",
        json!({
            "mode": jar.mode().as_str(),
            "cookie_name": jar.name(Kind::Session(jar.mode())),
            // Not `csrf_token`: the layout would read that as "show the login links", and this
            // page does not load the session to know who is logged in.
            "switch_token": csrf.0,
            "path": "/labs/outage",
            "cut": lab.cut,
            "timeout": db.connect_timeout(),
            "urls": seen.urls,
            // What the switch just did: the page never opens the session, but the report needs
            // none.
            "last": last.0,
        }),
    )
}

#[derive(FromForm)]
struct Switch {
    cut: bool,
}

#[post("/labs/outage", data = "<form>")]
async fn flip(
    form: CheckedForm<Switch>,
    lab: &Lab,
    jar: Jar<'_>,
    session: Session<'_>,
) -> Redirect {
    let cut = form.0.cut;
    session
        .note(if cut {
            "Cut this browser off from PostgreSQL: from now on every database access made for \
             its requests fails, as in a real outage. Nobody else is affected, and your session \
             was not opened, so nothing was lost."
        } else {
            "Gave this browser its database back: its next page that needs it connects again."
        })
        .await;
    rocket::info!(
        "outage lab: the database is {} for one browser",
        if cut { "cut off" } else { "back" }
    );
    lab.with_cut(cut).store(jar);
    Redirect::to("/labs/outage")
}

pub fn routes() -> Vec<rocket::Route> {
    rocket::routes![outage_page, flip]
}
