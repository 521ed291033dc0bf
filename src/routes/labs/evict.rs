//! `/labs/evict`: sessions are not permanent storage. In redis mode this browser's session is one
//! key in Redis; the lab deletes that key — that one alone, as Redis drops a key it evicts under
//! `maxmemory` or loses in a restart — and the next request, which still carries the cookie, is
//! refused as `evicted`. In another mode the page says how to start redis mode instead.
//!
//! The lab never flushes anything (no `FLUSHDB`, no `FLUSHALL`: they would end every learner's
//! session, and whatever else shares the server). It finds the key the way a request would — it
//! opens the browser's own cookie and asks the store where that session is filed — so it cannot
//! name anyone else's.

use std::time::Duration;

use rocket::response::Redirect;
use rocket::{get, post, State};
use serde_json::json;

use crate::csrf::{CheckedForm, NoFields};
use crate::error::AppError;
use crate::html::Html;
use crate::page::Page;
use crate::routes::compare::Seen;
use crate::session::{Opened, Refusal, Session, SessionError, StoreError, Unavailable};
use crate::settings::{Mode, Settings};

/// How long the lab waits for Redis before its page says 503, as the store does.
const TIMEOUT: Duration = Duration::from_secs(2);

#[get("/labs/evict")]
async fn evict_page(page: Page<'_>, seen: Seen) -> Result<Html, AppError> {
    let session = &page.session;
    let redis_here = session.mode() == Mode::Redis;
    let (mut key, mut expires) = (None, None);
    if redis_here {
        if let Some(record) = session.record().await? {
            key = session.layer().filed_under(&record);
            let d = session.layer().deadlines(&record);
            expires = Some(crate::humanize::relative(
                d.expires_at(),
                session.clock_now(),
            ));
        }
    }
    let refused = if redis_here {
        session.refusal().await?
    } else {
        None
    };
    let context = json!({
        "redis_here": redis_here,
        "key": key,
        "expires_in_words": expires,
        "refused": refused.map(|r| r.as_str()),
        "evicted": refused == Some(Refusal::Evicted),
        "cookie_name": session.cookie_name(),
        "urls": seen.urls,
    });
    page.render("labs_evict", context).await
}

/// Deletes the one Redis key this browser's session is filed under, and nothing else. The session
/// itself is never loaded here (only its cookie opened, as the replay lab does), so the end of the
/// request has nothing to write back over the eviction.
#[post("/labs/evict", data = "<_form>")]
async fn evict(
    session: Session<'_>,
    settings: &State<Settings>,
    _form: CheckedForm<NoFields>,
) -> Result<Redirect, AppError> {
    if session.mode() != Mode::Redis {
        return Err(AppError::Conflict(format!(
            "This app runs {} mode, which keeps no session in Redis: start it with --mode redis \
             (or --mode all, and open this lab on the redis-mode port).",
            session.mode()
        )));
    }
    let layer = session.layer();
    let Some(value) = session.jar().value(layer.cookie_kind()) else {
        return Err(AppError::Conflict(
            "Your browser has no session cookie yet, so Redis holds no session of yours: set a \
             color first."
                .into(),
        ));
    };
    // lesson: evict-find
    let (opened, _) = session.open_value(value).await?;
    let key = match opened {
        Opened::Found { record, .. } => layer.filed_under(&record),
        Opened::Refused(why) => {
            return Err(AppError::Conflict(format!(
                "Your cookie opens no session already (refused={}): there is nothing to evict. \
                 Set a color to start a new one.",
                why.as_str()
            )))
        }
    };
    // end lesson
    let key = key.ok_or_else(|| AppError::Internal("a redis-mode session with no key".into()))?;
    let deleted = delete_one_key(&settings.redis_url, &key).await?;
    // The DEL is a round trip for this session like the MGET that found its key: counted too.
    session.counted_redis(1).await;
    rocket::info!("eviction lab: deleted one session key ({deleted} removed)");
    session
        .note(format!(
            "Deleted one key from Redis — {key} — as Redis does when it evicts a key to free \
             memory. Nothing else in Redis was touched. Your browser still holds its \
             {} cookie: this page, loaded next, carries it.",
            session.cookie_name()
        ))
        .await;
    Ok(Redirect::to("/labs/evict"))
}

/// `DEL key` on a connection of the lab's own: the number of keys removed (0 or 1). Redis out of
/// reach is the same 503 the store answers.
async fn delete_one_key(url: &str, key: &str) -> Result<i64, AppError> {
    let unreachable =
        |e: redis::RedisError| SessionError::Store(StoreError::Unavailable(Unavailable::Redis(e)));
    let client = redis::Client::open(url).map_err(unreachable)?;
    let timed_out = || unreachable(redis::RedisError::from((redis::ErrorKind::Io, "timed out")));
    let mut connection = tokio::time::timeout(TIMEOUT, client.get_multiplexed_async_connection())
        .await
        .map_err(|_| timed_out())?
        .map_err(unreachable)?;
    // lesson: evict-delete
    let command = redis::cmd("DEL").arg(key).to_owned();
    let removed: i64 = tokio::time::timeout(TIMEOUT, command.query_async(&mut connection))
        .await
        .map_err(|_| timed_out())?
        .map_err(unreachable)?;
    // end lesson
    Ok(removed)
}

pub fn routes() -> Vec<rocket::Route> {
    rocket::routes![evict_page, evict]
}
