//! Pages rendered straight from the Tera templates that `rocket_dyn_templates` finds, loads and
//! (in debug builds) reloads — without its `Template` responder, which converts every context to
//! a figment value and back to JSON before Tera sees it.
//!
//! That round trip cost about 35,000 instructions a page (callgrind, BENCHMARKS.md): a sixth of a
//! whole `GET /color`. The templates, their directory and their reloading stay
//! `rocket_dyn_templates`' job; this module keeps a handle on the Tera instance it built, and
//! renders every page with it, error pages included.

use std::sync::{Arc, RwLock};

use rocket::fairing::AdHoc;
use rocket::http::{ContentType, Status};
use rocket::response::{self, Responder};
use rocket::{Orbit, Request, Rocket};
use rocket_dyn_templates::{tera, Template};
use serde_json::Value;

use crate::settings::Settings;

/// The templates as `rocket_dyn_templates` last loaded them, replaced whole when it reloads.
#[derive(Clone, Default)]
pub struct Templates(Arc<RwLock<Option<Arc<tera::Tera>>>>);

impl Templates {
    fn keep(&self, tera: &tera::Tera) {
        let copy = Arc::new(tera.clone());
        // A poisoned lock only means a writer panicked mid-swap; the value is still a whole
        // `Option`, so take it over rather than keep stale templates forever.
        let mut slot = self
            .0
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *slot = Some(copy);
    }

    fn current(&self) -> Option<Arc<tera::Tera>> {
        let slot = self
            .0
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        slot.clone()
    }
}

/// Attaches `rocket_dyn_templates` with the app's Tera functions, and keeps its Tera for [`Html`].
pub fn stage() -> AdHoc {
    AdHoc::on_ignite("Templates", |rocket| async {
        let templates = Templates::default();
        let kept = templates.clone();
        rocket
            .manage(templates)
            .attach(Template::custom(move |engines| {
                crate::headers::register(&mut engines.tera);
                crate::lessons::register(&mut engines.tera);
                crate::forms::register(&mut engines.tera);
                crate::nav::register(&mut engines.tera);
                kept.keep(&engines.tera);
            }))
    })
}

/// A page: a template name and its context, rendered when Rocket sends the response (as
/// `Template` does), so a failure becomes Rocket's 500 catcher.
pub struct Html {
    template: &'static str,
    context: Value,
}

impl Html {
    /// `context` must be a JSON object: its keys are the template's variables.
    pub fn render(template: &'static str, context: Value) -> Html {
        Html { template, context }
    }
}

/// As `Template` does: a route returning a page keeps Rocket from launching without the
/// templates' stage, instead of answering 500 at the first request.
impl rocket::Sentinel for Html {
    fn abort(rocket: &rocket::Rocket<rocket::Ignite>) -> bool {
        rocket.state::<Templates>().is_none()
    }
}

impl<'r> Responder<'r, 'static> for Html {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        let body =
            show(req.rocket(), self.template, self.context).ok_or(Status::InternalServerError)?;
        // A page that shows what crossed the wire is finished after the cookie writer ran: it is
        // held back whole until then, rather than read back out of the response.
        let outbox = crate::cookies::Outbox::of(req);
        if outbox.shows_exchange() {
            outbox.hold_page(body);
            return (ContentType::HTML, String::new()).respond_to(req);
        }
        (ContentType::HTML, body).respond_to(req)
    }
}

/// Renders `template` with `context` (a JSON object) from `rocket`'s templates: the one path every
/// page and error page takes. A failure is logged, with Tera's causes (which line, which
/// variable), and gives `None`. Adds `instance` (the setting) for the layout's footer, so every
/// page says which instance served it without each handler passing it along.
pub fn show(rocket: &Rocket<Orbit>, template: &str, mut context: Value) -> Option<String> {
    if let (Some(settings), Value::Object(map)) = (rocket.state::<Settings>(), &mut context) {
        map.insert(
            "instance".to_string(),
            Value::String(settings.instance_name().to_string()),
        );
    }
    let Some(tera) = rocket.state::<Templates>().and_then(Templates::current) else {
        rocket::error!("no templates loaded: is html::stage() attached?");
        return None;
    };
    let body = tera::Context::from_value(context).and_then(|c| tera.render(template, &c));
    match body {
        Ok(body) => Some(body),
        Err(e) => {
            rocket::error!("rendering {template}: {}", crate::logging::chain(&e));
            None
        }
    }
}

/// `text` in pieces of at most `width` bytes, for a template to join with `<wbr>`: where a long
/// identifier (a SHA-256 in hex) may break on a narrow screen, and nowhere else. ASCII in, so a
/// piece never splits a character; anything else comes out whole.
pub fn halves(text: &str, width: usize) -> Vec<String> {
    if !text.is_ascii() || width == 0 {
        return vec![text.to_string()];
    }
    text.as_bytes()
        .chunks(width)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect()
}
