//! What every HTML page needs: the session, the CSRF token for its forms, and the shared layout's
//! context (mode, login state), gathered by one request guard.

use crate::html::Html;
use rocket::http::CookieJar;
use rocket::request::{FromRequest, Outcome, Request};
use serde_json::{json, Value};

use crate::auth::keys;
use crate::cookies::CookieConfig;
use crate::csrf::CsrfToken;
use crate::error::AppError;
use crate::session::{Report, Session};

pub struct Page<'r> {
    pub session: Session<'r>,
    pub csrf: CsrfToken,
    pub path: String,
    pub cookies: &'r CookieConfig,
    jar: &'r CookieJar<'r>,
    /// What the request before this one (a form post, a refused session) did, when it redirected
    /// here: read once from its cookie, which this page removes.
    last: Option<Report>,
    request: String,
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
        let last = jar.get(cookies.report).and_then(|c| {
            let opened = cookies.keys.open(cookies.report, c.value())?;
            serde_json::from_str(&opened.plaintext).ok()
        });
        if jar.get(cookies.report).is_some() {
            jar.remove(cookies.removal(cookies.report));
        }
        Outcome::Success(Page {
            session,
            csrf,
            path: req.uri().path().to_string(),
            cookies,
            jar,
            last,
            request: format!("{} {}", req.method(), req.uri().path()),
        })
    }
}

impl Page<'_> {
    /// What the previous request reported, if it redirected here.
    pub fn last(&self) -> Option<&Report> {
        self.last.as_ref()
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
        // The reports go to the template as words, not as data for it to assemble.
        let last = self
            .last
            .as_ref()
            .map(|r| json!({ "request": r.request, "story": r.story() }));
        let this = json!({ "request": this.request, "story": this.story() });
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
