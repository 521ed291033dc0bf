//! What every HTML page needs: the session, the CSRF token for its forms, and the shared layout's
//! context (mode, login state), gathered by one request guard.

use rocket::http::CookieJar;
use rocket::request::{FromRequest, Outcome, Request};
use rocket_dyn_templates::Template;
use serde_json::{json, Value};

use crate::auth::keys;
use crate::cookies::CookieConfig;
use crate::csrf::CsrfToken;
use crate::error::AppError;
use crate::session::Session;

pub struct Page<'r> {
    pub session: Session<'r>,
    pub csrf: CsrfToken,
    pub path: String,
    pub cookies: &'r CookieConfig,
    jar: &'r CookieJar<'r>,
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
        Outcome::Success(Page {
            session,
            csrf,
            path: req.uri().path().to_string(),
            cookies,
            jar: req.cookies(),
        })
    }
}

impl Page<'_> {
    /// A new CSRF token (login, logout): forms shown before no longer post.
    pub fn renew_csrf(&self) {
        crate::csrf::renew(self.jar, self.cookies);
    }

    /// Renders `template` inside the layout. `context` must be a JSON object; the layout's own
    /// keys (`mode`, `user`, `csrf_token`, `path`) are added to it.
    ///
    /// # Errors
    /// [`AppError::Unavailable`] when server mode cannot load the session for the header.
    pub async fn render(
        &self,
        template: &'static str,
        context: Value,
    ) -> Result<Template, AppError> {
        let user: Option<String> = self.session.get(keys::USERNAME).await?;
        let mut base = json!({
            "mode": self.cookies.mode.as_str(),
            "cookie_name": self.cookies.session,
            "user": user,
            "csrf_token": self.csrf.0,
            "path": self.path,
        });
        if let (Some(base), Value::Object(extra)) = (base.as_object_mut(), context) {
            base.extend(extra);
        }
        Ok(Template::render(template, base))
    }
}
