//! The session layer: one `Session` request guard that handlers use, the same in both modes.
//!
//! How a request goes:
//! 1. The guard costs nothing: no cookie is read and no query runs until the handler first asks
//!    the session for something (lazy load).
//! 2. Reads and writes go to an in-memory copy. Each write re-seals the cookie at once and puts it
//!    in Rocket's cookie jar — a cookie added after the handler returns would never reach the
//!    browser — and that is also where cookie mode checks the 4096-byte limit, so a handler learns
//!    of an oversized session while it can still answer 413.
//! 3. After the handler, the fairing in this module makes the request's one database write (server
//!    mode), if anything changed, and adds the `Session-Trace` header.

pub mod cookie;
pub mod server;
pub mod store;

use std::sync::Arc;

use rocket::fairing::{Fairing, Info, Kind};
use rocket::http::{Cookie, CookieJar, Header, SameSite, Status};
use rocket::request::{FromRequest, Outcome};
use rocket::{Request, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};
use time::{Duration, OffsetDateTime};
use tokio::sync::{Mutex, MutexGuard};

use crate::clock::Clock;
use crate::crypto::Keys;
use crate::settings::{Mode, Settings};
use store::Change;
pub use store::SessionStore;
pub use store::{Deadlines, Record, SessionError};

/// The keys this app keeps in sessions, in one place so they are spelled once.
pub mod keys {
    pub const USER_ID: &str = "user_id";
    pub const USERNAME: &str = "username";
    pub const SESSION_EPOCH: &str = "session_epoch";
    pub const COLOR: &str = "color";
    pub const NOTES: &str = "notes";
}

/// Browsers keep at most 4096 bytes of `name=value` per cookie (RFC 6265 §6.1's minimum, which is
/// what Chrome, Firefox and Safari enforce); past it they drop the cookie silently.
pub const COOKIE_LIMIT: usize = 4096;

/// What the layer did when it loaded the session, for `Session-Trace`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LoadTrace {
    #[default]
    None,
    Hit,
    Miss,
}

/// What the layer did to persist it, for `Session-Trace`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SaveTrace {
    #[default]
    None,
    Write,
    Delete,
}

/// The session layer's shared state, managed by Rocket.
pub struct SessionLayer {
    mode: Mode,
    store: Box<dyn SessionStore>,
    keys: Keys,
    clock: Arc<Clock>,
    idle: Duration,
    absolute: Duration,
    secure: bool,
    trace: bool,
}

impl SessionLayer {
    pub fn new(
        settings: &Settings,
        keys: Keys,
        clock: Arc<Clock>,
        store: Box<dyn SessionStore>,
    ) -> SessionLayer {
        SessionLayer {
            mode: settings.mode,
            store,
            keys,
            clock,
            idle: Duration::seconds(settings.idle_timeout),
            absolute: Duration::seconds(settings.absolute_timeout),
            secure: settings.cookie_secure,
            trace: settings.trace,
        }
    }

    pub fn mode(&self) -> Mode {
        self.mode
    }

    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    pub fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    pub fn deadlines(&self, record: &Record) -> Deadlines {
        Deadlines {
            idle: record.last_seen.saturating_add(self.idle),
            absolute: record.created_at.saturating_add(self.absolute),
        }
    }

    /// The attributes every cookie of this app carries (SPEC "Cookies").
    pub fn cookie(&self, name: &'static str, value: String) -> Cookie<'static> {
        Cookie::build((name, value))
            .http_only(true)
            .same_site(SameSite::Lax)
            .path("/")
            .secure(self.secure)
            .expires(::cookie::Expiration::Session)
            .build()
    }

    fn session_cookie(&self, sealed: String, record: &Record) -> Cookie<'static> {
        let mut c = self.cookie(self.mode.cookie_name(), sealed);
        if record.remember {
            // Persistent until the absolute deadline; the server still enforces both deadlines.
            c.set_expires(self.deadlines(record).absolute);
        }
        c
    }

    /// Removes a cookie: same name, Path and attributes, so the browser really drops it.
    pub fn remove_cookie(&self, jar: &CookieJar<'_>, name: &'static str) {
        jar.remove(self.cookie(name, String::new()));
    }

    /// Seals `record` into a cookie, refusing one that browsers would drop.
    fn seal(&self, record: &Record) -> Result<Cookie<'static>, SessionError> {
        let plaintext = self.store.cookie_plaintext(record)?;
        let name = self.mode.cookie_name();
        let sealed = self.keys.seal(name, &plaintext);
        let bytes = encoded_size(name, &sealed);
        if bytes > COOKIE_LIMIT {
            return Err(SessionError::TooLarge {
                bytes,
                limit: COOKIE_LIMIT,
            });
        }
        Ok(self.session_cookie(sealed, record))
    }
}

/// The size browsers count: `name=value` as sent in `Set-Cookie`, percent-encoding included.
pub fn encoded_size(name: &str, value: &str) -> usize {
    Cookie::new(name, value)
        .encoded()
        .stripped()
        .to_string()
        .len()
}

/// Per-request state, shared by every guard of one request through `local_cache`.
#[derive(Default)]
pub struct RequestState {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    loaded: bool,
    /// The session as the store holds it now (server mode: a row with this id exists).
    stored: Option<Record>,
    /// The session as this request leaves it.
    current: Option<Record>,
    /// `current` differs from `stored` in its data or id.
    dirty: bool,
    /// Only the idle deadline moved (a sliding refresh).
    touched: bool,
    /// The cookie was opened with a fallback key: re-seal it with the current key on the next write.
    reseal: bool,
    /// A session cookie came with the request, or was sent back by it.
    cookie_present: bool,
    load: LoadTrace,
    queries: u32,
    /// This request's handler touched the session (so the page shows session data).
    accessed: bool,
}

/// The request guard handlers use. Cheap to create: nothing happens until it is used.
pub struct Session<'r> {
    layer: &'r SessionLayer,
    state: &'r RequestState,
    cookies: &'r CookieJar<'r>,
    user_agent: Option<&'r str>,
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Session<'r> {
    type Error = &'static str;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        match req.rocket().state::<SessionLayer>() {
            Some(layer) => Outcome::Success(Session {
                layer,
                state: req.local_cache(RequestState::default),
                cookies: req.cookies(),
                user_agent: req.headers().get_one("User-Agent"),
            }),
            None => Outcome::Error((
                Status::InternalServerError,
                "the session layer is not attached",
            )),
        }
    }
}

impl<'r> Session<'r> {
    pub fn mode(&self) -> Mode {
        self.layer.mode
    }

    pub fn layer(&self) -> &'r SessionLayer {
        self.layer
    }

    pub fn cookies(&self) -> &'r CookieJar<'r> {
        self.cookies
    }

    /// A typed value; `None` when absent or of another type.
    ///
    /// # Errors
    /// [`SessionError::Unavailable`] when server mode cannot reach PostgreSQL.
    pub async fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, SessionError> {
        let inner = self.loaded().await?;
        Ok(inner
            .current
            .as_ref()
            .and_then(|r| r.data.get(key))
            .and_then(|v| serde_json::from_value(v.clone()).ok()))
    }

    /// Sets `key`. The cookie is re-sealed at once, so an oversized session fails here.
    ///
    /// # Errors
    /// [`SessionError::TooLarge`] (nothing changed), [`SessionError::Unavailable`].
    pub async fn insert<T: Serialize>(&self, key: &str, value: T) -> Result<(), SessionError> {
        let value =
            serde_json::to_value(value).map_err(|e| SessionError::Internal(e.to_string()))?;
        self.change(|r| {
            r.data.insert(key.to_string(), value);
        })
        .await
    }

    /// Removes `key`, returning its old value. An emptied session ends (its cookie is removed).
    ///
    /// # Errors
    /// [`SessionError::Unavailable`].
    pub async fn remove(&self, key: &str) -> Result<Option<Value>, SessionError> {
        let mut old = None;
        if self
            .loaded()
            .await?
            .current
            .as_ref()
            .is_some_and(|r| r.data.contains_key(key))
        {
            self.change(|r| old = r.data.remove(key)).await?;
        }
        Ok(old)
    }

    /// Removes every key. An empty session is no session, so this ends it like [`Session::flush`].
    ///
    /// # Errors
    /// [`SessionError::Unavailable`].
    pub async fn clear(&self) -> Result<(), SessionError> {
        self.flush().await
    }

    /// Ends the session: the row is deleted (server mode) and the cookie removed (both).
    ///
    /// # Errors
    /// [`SessionError::Unavailable`].
    pub async fn flush(&self) -> Result<(), SessionError> {
        let mut inner = self.loaded().await?;
        self.replace(&mut inner, None)
    }

    /// Keeps the data under a new identity: server mode moves it to a new id and deletes the old
    /// row; cookie mode seals a new cookie with a new issued-at. Called at login (OWASP: renew the
    /// session id on any privilege change), which also restarts the absolute deadline.
    ///
    /// # Errors
    /// [`SessionError::TooLarge`], [`SessionError::Unavailable`].
    pub async fn cycle_id(&self) -> Result<(), SessionError> {
        let now = self.layer.now();
        let mut inner = self.loaded().await?;
        let mut next = inner
            .current
            .clone()
            .unwrap_or_else(|| self.new_record(now));
        next.id = self.layer.store.new_id();
        next.created_at = now;
        next.last_seen = now;
        self.replace(&mut inner, Some(next))
    }

    /// "Remember me": a persistent cookie (until the absolute deadline) instead of one that ends
    /// with the browser.
    ///
    /// # Errors
    /// As [`Session::insert`].
    pub async fn set_remember(&self, remember: bool) -> Result<(), SessionError> {
        self.change(|r| r.remember = remember).await
    }

    pub async fn is_empty(&self) -> Result<bool, SessionError> {
        Ok(self
            .loaded()
            .await?
            .current
            .as_ref()
            .is_none_or(|r| r.data.is_empty()))
    }

    /// Server mode's row id (the credential the cookie carries), without copying the session.
    ///
    /// # Errors
    /// [`SessionError::Unavailable`].
    pub async fn id(&self) -> Result<Option<String>, SessionError> {
        Ok(self
            .loaded()
            .await?
            .current
            .as_ref()
            .and_then(|r| r.id.clone()))
    }

    /// The whole session as it stands, for the inspector and the header's login state.
    ///
    /// # Errors
    /// [`SessionError::Unavailable`].
    pub async fn record(&self) -> Result<Option<Record>, SessionError> {
        Ok(self.loaded().await?.current.clone())
    }

    /// Locks the request's state, loading the session on first use.
    async fn loaded(&self) -> Result<MutexGuard<'r, Inner>, SessionError> {
        let mut inner = self.state.inner.lock().await;
        inner.accessed = true;
        if !inner.loaded {
            self.load(&mut inner).await?;
            inner.loaded = true;
        }
        Ok(inner)
    }

    async fn load(&self, inner: &mut Inner) -> Result<(), SessionError> {
        let layer = self.layer;
        let name = layer.mode.cookie_name();
        let Some(cookie) = self.cookies.get(name) else {
            return Ok(());
        };
        inner.cookie_present = true;
        let now = layer.now();
        let record = match layer.keys.open(name, cookie.value()) {
            Some(opened) => {
                inner.reseal = opened.with_fallback;
                layer
                    .store
                    .load(&opened.plaintext, now, &mut inner.queries)
                    .await?
            }
            None => {
                rocket::warn!("session: ignoring a {name} cookie that does not decrypt (tampered, truncated or another key)");
                None
            }
        };
        let Some(mut record) = record else {
            self.reject(inner, "unknown, malformed or expired");
            return Ok(());
        };
        let deadlines = layer.deadlines(&record);
        if now >= deadlines.expires_at() {
            self.reject(inner, "expired");
            return Ok(());
        }
        inner.load = LoadTrace::Hit;
        inner.stored = Some(record.clone());
        // Sliding expiry without a write per read: push the idle deadline only once less than
        // half of the idle window is left, i.e. at most one write per session per half window.
        if deadlines.idle - now < layer.idle / 2 {
            let mut refreshed = record.clone();
            refreshed.last_seen = now;
            if layer.mode == Mode::Cookie || inner.reseal {
                // A refresh that no longer fits keeps the old cookie, which works until its deadline.
                match layer.seal(&refreshed) {
                    Ok(c) => {
                        self.cookies.add(c);
                        inner.reseal = false;
                        (record, inner.touched) = (refreshed, true);
                    }
                    Err(e) => rocket::info!("session: not refreshed: {e}"),
                }
            } else {
                (record, inner.touched) = (refreshed, true);
            }
        }
        inner.current = Some(record);
        Ok(())
    }

    /// A cookie came but cannot be used: the request is anonymous and the cookie is removed.
    fn reject(&self, inner: &mut Inner, why: &str) {
        rocket::info!(
            "session: refusing a {} cookie: {why}",
            self.layer.mode.cookie_name()
        );
        inner.load = LoadTrace::Miss;
        inner.cookie_present = false;
        self.layer
            .remove_cookie(self.cookies, self.layer.mode.cookie_name());
    }

    fn new_record(&self, now: OffsetDateTime) -> Record {
        Record::new(
            now,
            self.user_agent.map(|ua| ua.chars().take(256).collect()),
        )
    }

    /// Applies `edit` to a copy of the session and keeps it only if its cookie can be sent.
    async fn change(&self, edit: impl FnOnce(&mut Record)) -> Result<(), SessionError> {
        let mut inner = self.loaded().await?;
        let now = self.layer.now();
        let mut next = inner.current.clone().unwrap_or_else(|| {
            let mut r = self.new_record(now);
            r.id = self.layer.store.new_id();
            r
        });
        // The idle deadline moves only by the half-window rule applied at load, not with every
        // write: that keeps `expires_at` (indexed) unchanged on most updates, so PostgreSQL can
        // update the row in place (a HOT update) instead of adding an entry to every index.
        edit(&mut next);
        self.replace(&mut inner, Some(next))
    }

    /// Makes `next` the request's session, sending the cookie it needs. An empty session is no
    /// session: its cookie is removed and (server mode) its row deleted.
    fn replace(&self, inner: &mut Inner, next: Option<Record>) -> Result<(), SessionError> {
        let layer = self.layer;
        let next = next.filter(|r| !r.data.is_empty());
        let Some(next) = next else {
            if inner.cookie_present {
                layer.remove_cookie(self.cookies, layer.mode.cookie_name());
                inner.cookie_present = false;
            }
            inner.dirty = inner.current.is_some() || inner.dirty;
            inner.current = None;
            return Ok(());
        };
        if inner.current.as_ref() == Some(&next) {
            return Ok(());
        }
        // Server mode's cookie carries only the id: it is re-sent only when the id, the
        // persistence or the key changes. Cookie mode's cookie is the data: always re-sent.
        let resend = match (&inner.current, layer.mode) {
            (_, Mode::Cookie) => true,
            (Some(cur), Mode::Server) => {
                cur.id != next.id || cur.remember != next.remember || inner.reseal
            }
            (None, Mode::Server) => true,
        };
        if resend {
            self.cookies.add(layer.seal(&next)?);
            inner.cookie_present = true;
            inner.reseal = false;
        }
        inner.current = Some(next);
        inner.dirty = true;
        Ok(())
    }
}

impl Inner {
    /// The one store write this request needs, if any.
    fn change(&self) -> Option<Change<'_>> {
        let stored_id = self.stored.as_ref().and_then(|r| r.id.as_deref());
        match (stored_id, &self.current) {
            (None, Some(r)) if self.dirty => Some(Change::Insert(r)),
            (Some(old), None) => Some(Change::Delete(old)),
            (Some(old), Some(r)) if r.id.as_deref() != Some(old) => {
                Some(Change::Replace { old, new: r })
            }
            (Some(_), Some(r)) if self.dirty => Some(Change::Update(r)),
            (Some(_), Some(r)) if self.touched => Some(Change::Touch(r)),
            _ => None,
        }
    }
}

/// Persists each request's change once, after its handler, and reports it in `Session-Trace`.
pub struct SessionFairing;

#[rocket::async_trait]
impl Fairing for SessionFairing {
    fn info(&self) -> Info {
        Info {
            name: "Session commit",
            kind: Kind::Response,
        }
    }

    async fn on_response<'r>(&self, req: &'r Request<'_>, res: &mut Response<'r>) {
        let Some(layer) = req.rocket().state::<SessionLayer>() else {
            return;
        };
        let state = req.local_cache(RequestState::default);
        let mut inner = state.inner.lock().await;
        let name = layer.mode.cookie_name();
        let mut save = SaveTrace::None;
        if res.status().code >= 500 {
            // Nothing is persisted for a failed request: its handler may have stopped half-way.
            drop_cookie_from(res, name);
        } else if layer.mode == Mode::Server {
            if let Some(change) = inner.change() {
                let is_delete = matches!(change, Change::Delete(_));
                let deadlines = match &inner.current {
                    Some(r) => layer.deadlines(r),
                    None => Deadlines {
                        idle: layer.now(),
                        absolute: layer.now(),
                    },
                };
                let mut queries = 0;
                let result = layer.store.commit(change, deadlines, &mut queries).await;
                inner.queries += queries;
                match result {
                    Ok(()) if is_delete => save = SaveTrace::Delete,
                    Ok(()) => save = SaveTrace::Write,
                    Err(e) => {
                        rocket::error!("session: could not save the session: {e}");
                        crate::error::replace_with_error(req, res, &e);
                    }
                }
            }
        }
        // Then what the browser is told, read from the response itself: a catcher's response,
        // for one, carries none of the cookies the handler set.
        if save == SaveTrace::None {
            save = cookie_sent(res, name);
        }
        if inner.accessed {
            res.set_header(Header::new("Cache-Control", "no-store"));
            if let Some(r) = &inner.current {
                rocket::debug!("session map: {}", Value::Object(r.data.clone()));
            }
        }
        if layer.trace {
            let load = match inner.load {
                LoadTrace::None => "none",
                LoadTrace::Hit => "hit",
                LoadTrace::Miss => "miss",
            };
            let save = match save {
                SaveTrace::None => "none",
                SaveTrace::Write => "write",
                SaveTrace::Delete => "delete",
            };
            let trace = format!(
                "mode={}; load={load}; save={save}; queries={}",
                layer.mode, inner.queries
            );
            res.set_header(Header::new("Session-Trace", trace));
        }
    }
}

/// Whether the response sets (`Write`) or removes (`Delete`) the cookie called `name`.
fn cookie_sent(res: &Response<'_>, name: &str) -> SaveTrace {
    res.headers()
        .get("Set-Cookie")
        .filter_map(|line| Cookie::parse(line).ok())
        .filter(|c| c.name() == name)
        .last()
        .map_or(SaveTrace::None, |c| {
            if c.max_age().is_some_and(|age| age.is_zero()) {
                SaveTrace::Delete
            } else {
                SaveTrace::Write
            }
        })
}

/// Takes the `Set-Cookie` for `name` out of a response, keeping the others.
fn drop_cookie_from(res: &mut Response<'_>, name: &str) {
    let keep: Vec<String> = res
        .headers()
        .get("Set-Cookie")
        .filter(|line| !line.starts_with(&format!("{name}=")))
        .map(str::to_string)
        .collect();
    res.remove_header("Set-Cookie");
    for line in keep {
        res.adjoin_raw_header("Set-Cookie", line);
    }
}

/// A view of the session map for templates: the data, or an empty map.
pub fn data_of(record: &Option<Record>) -> Map<String, Value> {
    record.as_ref().map(|r| r.data.clone()).unwrap_or_default()
}
