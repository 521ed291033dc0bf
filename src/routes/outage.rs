//! `/labs/outage`: a switch that cuts this process off from PostgreSQL and gives it back, to watch
//! what each mode does without its database. The page exists in every build; the switch (its
//! POST) only in the debug profile of a debug build, like the inspector's fast-forward.
//!
//! The page never opens the session: in server mode that needs the database, and the page must
//! stay up to turn the database back on.

use crate::html::Html;
use rocket::{get, State};
use serde_json::json;

use crate::cookies::CookieConfig;
use crate::csrf::CsrfToken;
use crate::db::Db;
use crate::page::LastReport;
use crate::routes::compare::Seen;
use crate::settings::Settings;

#[get("/labs/outage")]
fn outage_page(
    csrf: CsrfToken,
    cookies: &State<CookieConfig>,
    settings: &State<Settings>,
    db: &Db,
    seen: Seen,
    last: LastReport,
) -> Html {
    Html::render(
        "outage",
        json!({
            "mode": cookies.mode.as_str(),
            "cookie_name": cookies.session,
            // Not `csrf_token`: the layout would read that as "show the login links", and this
            // page does not load the session to know who is logged in.
            "switch_token": csrf.0,
            "path": "/labs/outage",
            "available": settings.fast_forward,
            "cut": db.outage().is_cut(),
            "timeout": db.connect_timeout(),
            "urls": seen.urls,
            // What the switch just did: the page never opens the session, but the report needs
            // none.
            "last": last.0,
        }),
    )
}

pub fn routes() -> Vec<rocket::Route> {
    rocket::routes![outage_page]
}

/// Mounted only in the debug profile of a debug build.
pub fn debug_routes() -> Vec<rocket::Route> {
    #[cfg(debug_assertions)]
    return rocket::routes![switch::flip];
    #[cfg(not(debug_assertions))]
    return Vec::new();
}

/// The switch. Not compiled into release builds.
#[cfg(debug_assertions)]
mod switch {
    use rocket::form::FromForm;
    use rocket::post;
    use rocket::response::Redirect;

    use crate::csrf::CheckedForm;
    use crate::db::Db;
    use crate::session::Session;

    #[derive(FromForm)]
    pub struct Switch {
        cut: bool,
    }

    #[post("/labs/outage", data = "<form>")]
    pub async fn flip(form: CheckedForm<Switch>, db: &Db, session: Session<'_>) -> Redirect {
        let cut = form.0.cut;
        db.outage().set(cut);
        session
            .note(if cut {
                "Cut this process off from PostgreSQL: its pool now refuses every connection. \
                 Your session was not opened, so nothing was lost."
            } else {
                "Gave this process its database back: the next page that needs it connects again."
            })
            .await;
        rocket::warn!(
            "outage lab: the database is {}",
            if cut { "cut off" } else { "back" }
        );
        Redirect::to("/labs/outage")
    }
}
