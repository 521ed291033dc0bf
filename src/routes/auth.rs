//! Signup, login and logout: what each does to the session is the lesson, so each step is spelled
//! out — a new id at login, a deleted row or removed cookie at logout, a new CSRF token at both.

use rocket::form::FromForm;
use rocket::http::Status;
use rocket::response::Redirect;
use rocket::{get, post};
use rocket_dyn_templates::Template;
use serde_json::json;

use crate::auth::{self, check_password, normalise_username, CreateError};
use crate::csrf::{CheckedForm, NoFields};
use crate::db::{Db, DbConnection};
use crate::error::AppError;
use crate::page::Page;

type Answer = Result<Result<Redirect, (Status, Template)>, AppError>;

/// `next` is followed only when it is a path on this site: `/x`, not `//evil.example` or
/// `/\evil.example` (which browsers treat as another host), nor anything with a scheme.
pub fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.starts_with("/\\")
                && !n.chars().any(|c| c.is_control() || c == '\\')
                // Anything Rocket could not send as a Location (spaces, raw non-ASCII) is refused.
                && rocket::http::uri::Origin::parse(n).is_ok() =>
        {
            n
        }
        _ => "/account",
    }
}

#[derive(FromForm)]
struct Credentials {
    username: String,
    password: String,
    remember: bool,
    next: Option<String>,
}

async fn form_page(
    page: &Page<'_>,
    template: &'static str,
    status: Status,
    username: &str,
    errors: Vec<String>,
    next: Option<&str>,
) -> Answer {
    let body = page
        .render(
            template,
            json!({ "username": username, "errors": errors, "next": next }),
        )
        .await?;
    Ok(Err((status, body)))
}

#[get("/signup")]
async fn signup_page(page: Page<'_>) -> Result<Template, AppError> {
    page.render("signup", json!({ "username": "", "errors": [] }))
        .await
}

/// Takes the pool rather than a connection: hashing comes first, and a connection held through
/// it would sit idle while other requests wait for one.
#[post("/signup", data = "<form>")]
async fn signup(page: Page<'_>, form: CheckedForm<Credentials>, db: &Db) -> Answer {
    let f = form.0;
    let mut errors = Vec::new();
    let name = normalise_username(&f.username)
        .map_err(|e| errors.push(e.to_string()))
        .ok();
    if let Err(e) = check_password(&f.password) {
        errors.push(e);
    }
    let Some(name) = name.filter(|_| errors.is_empty()) else {
        return form_page(
            &page,
            "signup",
            Status::UnprocessableEntity,
            &f.username,
            errors,
            None,
        )
        .await;
    };
    let pool = db.ready().await?;
    let user = match auth::create_user(pool, &name, f.password).await {
        Ok(user) => user,
        Err(CreateError::Taken) => {
            let why = vec![format!(
                "The name {name} is taken: choose another, or log in."
            )];
            return form_page(&page, "signup", Status::Conflict, &f.username, why, None).await;
        }
        Err(CreateError::Db(e)) => return Err(e.into()),
        Err(CreateError::Hash(e)) => return Err(AppError::Internal(e)),
    };
    auth::log_in(&page.session, &user, f.remember).await?;
    page.renew_csrf();
    Ok(Ok(Redirect::to("/account")))
}

#[get("/login?<next>")]
async fn login_page(page: Page<'_>, next: Option<&str>) -> Result<Template, AppError> {
    // Sent here by a page whose session was refused: say so, rather than a bare login form.
    let ended = page.last().and_then(|r| r.refused_why.clone());
    page.render(
        "login",
        json!({ "username": "", "errors": [], "next": next, "ended": ended }),
    )
    .await
}

#[post("/login", data = "<form>")]
async fn login(page: Page<'_>, form: CheckedForm<Credentials>, mut conn: DbConnection) -> Answer {
    let f = form.0;
    // A name that breaks the rules cannot exist, but it is looked up and verified all the same:
    // every miss costs the same query and the same hash.
    // The empty name stands in for any impossible one: the CHECK constraint keeps it out of
    // `users`, and unlike the raw input it is always valid text for PostgreSQL (a NUL is not).
    let name = normalise_username(&f.username).unwrap_or_default();
    let user = auth::find_by_name(&mut conn, &name).await?;
    page.session.count_statements(1).await;
    // The connection goes back before the hash, which can wait for a free core.
    drop(conn);
    let ok =
        auth::verify_password(f.password, user.as_ref().map(|u| u.password_hash.clone())).await;
    let Some(user) = user.filter(|_| ok) else {
        // One answer for "no such user" and "wrong password": the page must not tell which.
        let why = vec!["Wrong username or password.".to_string()];
        return form_page(
            &page,
            "login",
            Status::Unauthorized,
            &f.username,
            why,
            f.next.as_deref(),
        )
        .await;
    };
    auth::log_in(&page.session, &user, f.remember).await?;
    page.renew_csrf();
    Ok(Ok(Redirect::to(safe_next(f.next.as_deref()).to_string())))
}

#[post("/logout", data = "<_form>")]
async fn logout(page: Page<'_>, _form: CheckedForm<NoFields>) -> Result<Redirect, AppError> {
    page.session.flush().await?;
    page.session.note("You are logged out.").await;
    page.renew_csrf();
    Ok(Redirect::to("/"))
}

pub fn routes() -> Vec<rocket::Route> {
    rocket::routes![signup_page, signup, login_page, login, logout]
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(safe_next(Some("/notes?x=1")), "/notes?x=1");
        for bad in [
            "//evil.example",
            "/\\evil.example",
            "https://evil.example",
            "/a b",
            "/café",
            "evil",
            "",
            "/a\r\nb",
        ] {
            assert_eq!(safe_next(Some(bad)), "/account", "{bad:?}");
        }
        assert_eq!(safe_next(None), "/account");
    }
}
