//! What every HTML page needs: the session, the CSRF token for its forms, the report of the
//! request that redirected here, and the shared layout's context (mode, login state), gathered by
//! one request guard.

use rocket::request::{FromRequest, Outcome, Request};
use serde_json::{json, Value};

use crate::auth::keys;
use crate::browser_lab::Lab;
use crate::cookies::wire::EXCHANGE_MARKER;
use crate::cookies::Jar;
use crate::csrf::CsrfToken;
use crate::error::AppError;
use crate::html::Html;
use crate::report;
use crate::session::Session;

pub struct Page<'r> {
    pub session: Session<'r>,
    pub csrf: CsrfToken,
    pub path: String,
    /// This request's cookies (the app's own mode).
    pub jar: Jar<'r>,
    /// This browser's labs (its fast-forwarded clock, its outage switch).
    pub lab: &'r Lab,
    /// What the request before this one (a form post, a refused session) did, when it redirected
    /// here, as the layout shows it: taken once, its cookie removed.
    last: Option<Value>,
    request: String,
}

/// Request guard: the report of the request that redirected here, as the layout shows it
/// (`None` when no report cookie came). Taking it removes its cookie and its kept copy: a report
/// is shown once. Needs no session, so pages that never open one (the outage lab) use it too.
pub struct LastReport(pub Option<Value>);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for LastReport {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        Outcome::Success(LastReport(report::take_last(req).await))
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Page<'r> {
    type Error = &'static str;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let session = rocket::outcome::try_outcome!(req.guard::<Session<'r>>().await);
        let csrf = rocket::outcome::try_outcome!(req.guard::<CsrfToken>().await);
        let jar = rocket::outcome::try_outcome!(req.guard::<Jar<'r>>().await);
        Outcome::Success(Page {
            session,
            csrf,
            path: req.uri().path().to_string(),
            jar,
            lab: Lab::of(req),
            last: report::take_last(req).await,
            request: report::request_line(req),
        })
    }
}

impl Page<'_> {
    /// Why the previous request's session cookie was refused, if it was and redirected here.
    pub fn last_refusal(&self) -> Option<String> {
        let last = self.last.as_ref()?;
        last.get("refused_why")?.as_str().map(str::to_string)
    }

    /// A new CSRF token (login, logout): forms shown before no longer post.
    pub fn renew_csrf(&self) {
        crate::csrf::renew(self.jar);
    }

    /// Renders `template` inside the layout. `context` must be a JSON object; the layout's own
    /// keys (`mode`, `user`, `csrf_token`, `path`) are added to it.
    ///
    /// # Errors
    /// [`AppError::Unavailable`] when the session's store cannot be reached for the header.
    pub async fn render(&self, template: &'static str, context: Value) -> Result<Html, AppError> {
        let user: Option<String> = self.session.get(keys::USERNAME).await?;
        Ok(self.render_as(user, template, context).await)
    }

    /// As [`Page::render`], with the header's login state given instead of read from the
    /// session: for a page that must render when this app's session store cannot be reached
    /// (`/compare` in an outage), which says so in `context` (`who_unknown`).
    pub async fn render_as(
        &self,
        user: Option<String>,
        template: &'static str,
        context: Value,
    ) -> Html {
        let summary = self.session.summary().await;
        // The page's own exchange is known only once the response is complete: the report
        // writes it in after the cookie writer ran.
        self.jar.outbox().show_exchange();
        let this = json!({
            "request": self.request,
            "story": report::story::story(&summary, self.session.clock_now()),
            "exchange": EXCHANGE_MARKER,
        });
        let mut base = json!({
            "mode": self.jar.mode().as_str(),
            "cookie_name": self.jar.name(self.session.layer().cookie_kind()),
            "user": user,
            "csrf_token": self.csrf.0,
            "path": self.path,
            "last": self.last,
            "this": this,
        });
        if let (Some(base), Value::Object(extra)) = (base.as_object_mut(), context) {
            base.extend(extra);
        }
        Html::render(template, base)
    }
}
