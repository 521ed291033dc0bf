//! What every HTML page needs: the session, the CSRF token for its forms, the report of the
//! request that redirected here, and the shared layout's context (mode, login state), gathered by
//! one request guard.

use crate::html::Html;
use rocket::http::CookieJar;
use rocket::request::{FromRequest, Outcome, Request};
use serde_json::{json, Value};

use crate::auth::keys;
use crate::cookies::CookieConfig;
use crate::csrf::CsrfToken;
use crate::error::AppError;
use crate::session::report::{ShowsExchange, EXCHANGE_MARKER};
use crate::session::{ReportShelf, Session, Told};

pub struct Page<'r> {
    pub session: Session<'r>,
    pub csrf: CsrfToken,
    pub path: String,
    pub cookies: &'r CookieConfig,
    jar: &'r CookieJar<'r>,
    /// What the request before this one (a form post, a refused session) did, when it redirected
    /// here, as the layout shows it: taken once, its cookie removed.
    last: Option<Value>,
    request: String,
    /// Set when the page renders: its footer then gets its own exchange from the fairing.
    shows_exchange: &'r ShowsExchange,
}

/// Request guard: the report of the request that redirected here, as the layout shows it
/// (`None` when no report cookie came). Taking it removes its cookie and its kept copy: a report
/// is shown once. Needs no session, so pages that never open one (the outage lab) use it too.
pub struct LastReport(pub Option<Value>);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for LastReport {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        Outcome::Success(LastReport(take_last(req)))
    }
}

fn take_last(req: &Request<'_>) -> Option<Value> {
    let rocket = req.rocket();
    let cookies = rocket.state::<CookieConfig>()?;
    let shelf = rocket.state::<ReportShelf>()?;
    let jar = req.cookies();
    let cookie = jar.get(cookies.report)?;
    let token = cookies.keys.open(cookies.report, cookie.value());
    jar.remove(cookies.removal(cookies.report));
    let told = token.and_then(|t| shelf.take(&t.plaintext));
    Some(match told {
        Some(told) => told_view(&told),
        None => gone_view(),
    })
}

/// A report as the layout shows it: the request, its story in words, the exchange, and with
/// `--mode both` each mode's story side by side (server mode first, as on /compare).
fn told_view(told: &Told) -> Value {
    let sides = told.sibling.as_ref().map(|theirs| {
        let mut sides = [&told.own, theirs];
        sides.sort_by_key(|r| r.mode != "server");
        sides
            .iter()
            .map(|r| json!({ "mode": r.mode, "story": r.story() }))
            .collect::<Vec<_>>()
    });
    json!({
        "request": told.own.request,
        "story": if sides.is_some() { String::new() } else { told.own.story() },
        "sides": sides,
        "exchange": told.exchange.story(),
        "refused_why": told.own.refused_why,
    })
}

/// What the page says when the report cookie came but its report is not here any more.
fn gone_view() -> Value {
    json!({
        "request": "your last request",
        "story": "Your browser brought the token of a report, but this server no longer holds that \
                  report: it keeps each one in memory for a short while (report_keep_seconds), \
                  shows it once, and forgets it at a restart — and another instance never had it. \
                  Nothing about your session follows from that.",
        "sides": null,
        "exchange": "",
    })
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Page<'r> {
    type Error = &'static str;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let session = rocket::outcome::try_outcome!(req.guard::<Session<'r>>().await);
        let csrf = rocket::outcome::try_outcome!(req.guard::<CsrfToken>().await);
        let Some(cookies) = req.rocket().state::<CookieConfig>() else {
            return Outcome::Error((
                rocket::http::Status::InternalServerError,
                "no cookie configuration",
            ));
        };
        let jar = req.cookies();
        let last = take_last(req);
        Outcome::Success(Page {
            session,
            csrf,
            path: req.uri().path().to_string(),
            cookies,
            jar,
            last,
            request: format!("{} {}", req.method(), req.uri().path()),
            shows_exchange: req.local_cache(ShowsExchange::default),
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
        crate::csrf::renew(self.jar, self.cookies);
    }

    /// Renders `template` inside the layout. `context` must be a JSON object; the layout's own
    /// keys (`mode`, `user`, `csrf_token`, `path`) are added to it.
    ///
    /// # Errors
    /// [`AppError::Unavailable`] when server mode cannot load the session for the header.
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
        let this = self.session.report(self.request.clone()).await;
        // The reports go to the template as words, not as data for it to assemble. The page's
        // own exchange is known only once the response is complete: the fairing writes it in.
        self.shows_exchange
            .0
            .store(true, std::sync::atomic::Ordering::Relaxed);
        let this = json!({
            "request": this.request,
            "story": this.story(),
            "exchange": EXCHANGE_MARKER,
        });
        let last = &self.last;
        let mut base = json!({
            "mode": self.cookies.mode.as_str(),
            "cookie_name": self.cookies.session,
            "user": user,
            "csrf_token": self.csrf.0,
            "path": self.path,
            "last": last,
            "this": this,
        });
        if let (Some(base), Value::Object(extra)) = (base.as_object_mut(), context) {
            base.extend(extra);
        }
        Html::render(template, base)
    }
}
