//! `Session`, the request guard handlers use — the same in both modes.
//!
//! Creating it costs nothing: no cookie is opened and no query runs until the handler first asks
//! for something (lazy load). Reads and writes go to an in-memory copy; each write re-seals the
//! cookie at once, so a handler learns of an oversized session while it can still answer 413.
//! What the request leaves behind is persisted once, after the handler, by the fairing.

use rocket::http::{CookieJar, Status};
use rocket::request::{FromRequest, Outcome};
use rocket::Request;
use serde::de::DeserializeOwned;
use serde::Serialize;
use time::OffsetDateTime;
use tokio::sync::MutexGuard;

use super::layer::{attributes_change, Inner, Opened, Outgoing, RequestState, SessionLayer};
use super::report::{self, Report};
use super::store::{Record, Refusal, SessionSummary};
use super::SessionError;
use crate::cookies::CookieConfig;
use crate::lab::Lab;

/// The request guard handlers use. Cheap to create: nothing happens until it is used.
pub struct Session<'r> {
    layer: &'r SessionLayer,
    cookies: &'r CookieConfig,
    state: &'r RequestState,
    jar: &'r CookieJar<'r>,
    user_agent: Option<&'r str>,
    /// This browser's labs: its clock offset for deadline checks, its outage switch.
    lab: &'r Lab,
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Session<'r> {
    type Error = &'static str;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let rocket = req.rocket();
        match (
            rocket.state::<SessionLayer>(),
            rocket.state::<CookieConfig>(),
        ) {
            (Some(layer), Some(cookies)) => Outcome::Success(Session::assemble(
                req,
                layer,
                cookies,
                req.local_cache(RequestState::default),
            )),
            _ => Outcome::Error((
                Status::InternalServerError,
                "the session layer is not attached",
            )),
        }
    }
}

impl<'r> Session<'r> {
    /// A session of `layer`'s mode for this request, its bookkeeping in `state` (this app's own,
    /// or the sibling's in `--mode both`).
    pub(super) fn assemble(
        req: &'r Request<'_>,
        layer: &'r SessionLayer,
        cookies: &'r CookieConfig,
        state: &'r RequestState,
    ) -> Session<'r> {
        Session {
            layer,
            cookies,
            state,
            jar: req.cookies(),
            user_agent: req.headers().get_one("User-Agent"),
            lab: Lab::of(req),
        }
    }

    /// This browser's labs (its fast-forwarded clock, its outage switch).
    pub fn lab(&self) -> &'r Lab {
        self.lab
    }

    /// What this browser's clock says: real time plus its lab offset. For deadline checks and
    /// the countdowns pages show, never for a time that is stored.
    pub fn clock_now(&self) -> OffsetDateTime {
        self.lab.now(self.layer.now())
    }

    pub fn layer(&self) -> &'r SessionLayer {
        self.layer
    }

    /// The cookies of this session's mode (its names, its key).
    pub fn cookies(&self) -> &'r CookieConfig {
        self.cookies
    }

    /// The value under `key`, or `None` when absent. Costs the session's load on first use: one
    /// `SELECT` by primary key in server mode, a decryption in cookie mode.
    ///
    /// # Errors
    /// [`SessionError::Type`] when the value is not a `T`; [`SessionError::Store`] when server
    /// mode cannot reach PostgreSQL.
    pub async fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, SessionError> {
        let inner = self.loaded().await?;
        match inner.current.as_ref().and_then(|r| r.data.get(key)) {
            None => Ok(None),
            Some(value) => T::deserialize(value)
                .map(Some)
                .map_err(|source| SessionError::Type {
                    key: key.to_string(),
                    source,
                }),
        }
    }

    /// Sets `key`. Re-seals the cookie at once (cookie mode: the whole map; server mode: only for
    /// a new session), and the fairing makes one write after the handler (server mode: an
    /// `INSERT` or `UPDATE`).
    ///
    /// # Errors
    /// [`SessionError::TooLarge`] (nothing changed), [`SessionError::Store`].
    pub async fn insert<T: Serialize>(&self, key: &str, value: T) -> Result<(), SessionError> {
        let value = serde_json::to_value(value).map_err(|source| SessionError::Type {
            key: key.to_string(),
            source,
        })?;
        self.change(|r| {
            r.data.insert(key.to_string(), value);
        })
        .await
    }

    /// Read-modify-write of one key in one call: `edit` gets the current value (or `T`'s
    /// default) and the result is stored as [`Session::insert`] would, at the same cost.
    ///
    /// # Errors
    /// As [`Session::get`] and [`Session::insert`]; on an error nothing changed.
    pub async fn update<T>(&self, key: &str, edit: impl FnOnce(&mut T)) -> Result<(), SessionError>
    where
        T: DeserializeOwned + Serialize + Default,
    {
        let mut value: T = self.get(key).await?.unwrap_or_default();
        edit(&mut value);
        self.insert(key, value).await
    }

    /// Removes `key`, returning its old value. An emptied session ends: its cookie is removed
    /// (and in server mode its row deleted, one `DELETE`).
    ///
    /// # Errors
    /// [`SessionError::Type`] when the value is not a `T` (then nothing is removed),
    /// [`SessionError::Store`].
    pub async fn remove<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, SessionError> {
        let old: Option<T> = self.get(key).await?;
        if old.is_some() {
            self.change(|r| {
                r.data.remove(key);
            })
            .await?;
        }
        Ok(old)
    }

    /// Ends the session: the row is deleted (server mode, one `DELETE`) and the cookie removed
    /// (both). A later write in the same request starts a new session.
    ///
    /// # Errors
    /// [`SessionError::Store`].
    pub async fn flush(&self) -> Result<(), SessionError> {
        let mut inner = self.loaded().await?;
        self.replace(&mut inner, None)
    }

    /// Logs this session in as `user_id` under a new identity (OWASP: renew the session id on
    /// any privilege change), which also restarts the absolute deadline. The data is kept for the
    /// same user or an anonymous session; another user's session starts empty. Server mode moves
    /// the row to a new id in one statement (`DELETE` + `INSERT`); cookie mode seals a new cookie.
    ///
    /// # Errors
    /// [`SessionError::TooLarge`], [`SessionError::Store`].
    /// `entries` are stored with the login in the same change, so a login that would pass a
    /// size limit is refused whole (413) rather than saved half-done.
    pub async fn log_in(
        &self,
        user_id: i64,
        remember: bool,
        entries: Vec<(&str, serde_json::Value)>,
    ) -> Result<(), SessionError> {
        let now = self.layer.now();
        let mut inner = self.loaded().await?;
        // lesson: login-new-id
        let mut next = match inner.current.clone() {
            Some(r) if r.user_id.is_none_or(|id| id == user_id) => r,
            _ => self.new_record(now),
        };
        next.id = self.layer.store().new_id();
        // end lesson
        next.user_id = Some(user_id);
        next.remember = remember;
        next.created_at = now;
        next.last_seen = now;
        for (key, value) in entries {
            next.data.insert(key.to_string(), value);
        }
        self.replace(&mut inner, Some(next))
    }

    /// The account this session is logged in as, if any (not yet checked against `users`: the
    /// app's `User` guard does that).
    ///
    /// # Errors
    /// [`SessionError::Store`].
    pub async fn user_id(&self) -> Result<Option<i64>, SessionError> {
        Ok(self
            .loaded()
            .await?
            .current
            .as_ref()
            .and_then(|r| r.user_id))
    }

    /// The app found the session's login no longer valid (its account signed out everywhere, or
    /// is gone): the session ends as [`Session::flush`] does, and the trace says why.
    ///
    /// # Errors
    /// [`SessionError::Store`].
    pub async fn refuse(&self, why: Refusal) -> Result<(), SessionError> {
        let mut inner = self.loaded().await?;
        rocket::info!(
            "session: refusing a {} cookie: {}",
            self.cookies.session,
            why.as_str()
        );
        inner.refused = Some(why);
        self.replace(&mut inner, None)
    }

    /// Tells the browser to drop its session cookie, as "Delete" in devtools' Cookies panel
    /// does, and changes nothing stored: server mode's row stays, orphaned until it expires.
    /// The fairing writes the removal, and `Session-Trace` says `save=delete`.
    pub async fn forget_cookie(&self) {
        let mut inner = self.state.inner.lock().await;
        inner.accessed = true;
        inner.outgoing = Outgoing::Remove;
    }

    /// Sets the browser's session cookie to `value` byte for byte, without opening it: the
    /// replay lab's "put back". The next request opens it as any cookie it carries. The fairing
    /// writes it with the session cookie's attributes, and `Session-Trace` says `save=write`.
    pub async fn adopt_cookie(&self, value: String) {
        let mut inner = self.state.inner.lock().await;
        inner.accessed = true;
        inner.outgoing = Outgoing::Set(self.cookies.build(self.cookies.session, value));
    }

    /// Adds a sentence to this request's report ("what just happened"), e.g. what a sign-out
    /// did. Costs nothing: the report travels in its own cookie, never in the session.
    pub async fn note(&self, text: impl Into<String>) {
        self.state.inner.lock().await.notes.push(text.into());
    }

    /// What this request has done to the session so far, for the page's own report.
    pub async fn report(&self, request: String) -> Report {
        let inner = self.state.inner.lock().await;
        report::draft(&inner, request, self.cookies, self.layer)
    }

    /// Records that a revocation check of the app's passed (`checked=epoch` in `Session-Trace`).
    pub async fn passed_check(&self, check: &'static str) {
        self.state.inner.lock().await.statements.checked = Some(check);
    }

    /// Counts SQL statements the app ran for this request's login state (the user lookup, the
    /// epoch read), so `Session-Trace`'s `queries` tells the whole cost.
    pub async fn count_statements(&self, n: u32) {
        self.state.inner.lock().await.statements.add(n);
    }

    pub async fn is_empty(&self) -> Result<bool, SessionError> {
        Ok(self.loaded().await?.current.is_none())
    }

    /// Server mode's row id (the credential the cookie carries), without copying the session.
    ///
    /// # Errors
    /// [`SessionError::Store`].
    pub async fn id(&self) -> Result<Option<String>, SessionError> {
        Ok(self
            .loaded()
            .await?
            .current
            .as_ref()
            .and_then(|r| r.id.clone()))
    }

    /// The whole session as it stands, for the inspector.
    ///
    /// # Errors
    /// [`SessionError::Store`].
    pub async fn record(&self) -> Result<Option<Record>, SessionError> {
        Ok(self.loaded().await?.current.clone())
    }

    /// Why the browser's cookie was refused, if it was.
    ///
    /// # Errors
    /// [`SessionError::Store`].
    pub async fn refusal(&self) -> Result<Option<Refusal>, SessionError> {
        Ok(self.loaded().await?.refused)
    }

    /// Whether this mode can list and end a user's sessions from the server.
    pub fn can_end_sessions_remotely(&self) -> bool {
        self.layer.user_sessions().is_some()
    }

    /// The user's live sessions (one statement), or `None` where the store keeps none.
    ///
    /// # Errors
    /// [`SessionError::Store`].
    pub async fn list_user_sessions(
        &self,
        user_id: i64,
    ) -> Result<Option<Vec<SessionSummary>>, SessionError> {
        let Some(sessions) = self.layer.user_sessions() else {
            return Ok(None);
        };
        let now = self.clock_now();
        let mut inner = self.loaded().await?;
        let current = inner.current.as_ref().and_then(|r| r.id.clone());
        let list = sessions
            .list(user_id, current.as_deref(), now, &mut inner.statements)
            .await?;
        Ok(Some(list))
    }

    /// Ends one of the user's sessions by its handle (one `DELETE`); if it was this one, this
    /// session ends too. Returns whether a session ended, or `None` where the store keeps none.
    ///
    /// # Errors
    /// [`SessionError::Store`].
    pub async fn end_user_session(
        &self,
        user_id: i64,
        handle: i64,
    ) -> Result<Option<Ended>, SessionError> {
        let Some(sessions) = self.layer.user_sessions() else {
            return Ok(None);
        };
        let mut inner = self.loaded().await?;
        let ended = sessions
            .end_one(user_id, handle, &mut inner.statements)
            .await?;
        let this_one =
            ended.is_some() && ended == inner.current.as_ref().and_then(|r| r.id.clone());
        if this_one {
            // Its row is gone already: only the cookie is left to remove.
            inner.stored = None;
            self.replace(&mut inner, None)?;
            return Ok(Some(Ended::ThisOne));
        }
        Ok(Some(if ended.is_some() {
            Ended::Another
        } else {
            Ended::None
        }))
    }

    /// Ends every other session of the user (one `DELETE`), returning how many ended, or `None`
    /// where the store keeps none.
    ///
    /// # Errors
    /// [`SessionError::Store`].
    pub async fn end_other_sessions(&self, user_id: i64) -> Result<Option<u64>, SessionError> {
        let Some(sessions) = self.layer.user_sessions() else {
            return Ok(None);
        };
        let mut inner = self.loaded().await?;
        let keep = inner.current.as_ref().and_then(|r| r.id.clone());
        let n = sessions
            .end_others(user_id, keep.as_deref(), &mut inner.statements)
            .await?;
        Ok(Some(n))
    }

    /// Locks the request's state, loading the session on first use.
    async fn loaded(&self) -> Result<MutexGuard<'r, Inner>, SessionError> {
        let mut inner = self.state.inner.lock().await;
        inner.accessed = true;
        if !inner.loaded {
            inner.statements.follow(self.lab);
            self.load(&mut inner).await?;
            inner.loaded = true;
        }
        Ok(inner)
    }

    async fn load(&self, inner: &mut Inner) -> Result<(), SessionError> {
        let layer = self.layer;
        let name = self.cookies.session;
        let Some(cookie) = self.jar.get(name) else {
            return Ok(());
        };
        inner.cookie_came = true;
        // Real time for what is written (the refresh below); this browser's clock, which the
        // inspector's fast-forward may have moved ahead, for whether the session has ended.
        let now = layer.now();
        let opened = layer
            .open(
                self.cookies,
                cookie.value(),
                self.lab.now(now),
                &mut inner.statements,
            )
            .await?;
        let mut record = match opened {
            Opened::Found {
                record,
                with_fallback,
            } => {
                inner.reseal = with_fallback;
                record
            }
            Opened::Refused(why) => {
                // A cookie came but cannot be used: the request is anonymous and the cookie goes.
                rocket::info!("session: refusing a {name} cookie: {}", why.as_str());
                inner.refused = Some(why);
                inner.outgoing = Outgoing::Remove;
                return Ok(());
            }
        };
        let deadlines = layer.deadlines(&record);
        inner.stored = Some(record.clone());
        inner.sent = Some(record.clone());
        if layer.needs_refresh(&deadlines, now) {
            let mut refreshed = record.clone();
            refreshed.last_seen = now;
            if inner.reseal || layer.store().cookie_changes(&record, &refreshed) {
                // A refresh that no longer fits keeps the old cookie, which works until its deadline.
                match layer.seal(self.cookies, &refreshed) {
                    Ok(c) => {
                        inner.outgoing = Outgoing::Set(c);
                        inner.sent = Some(refreshed.clone());
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

    fn new_record(&self, now: OffsetDateTime) -> Record {
        let mut record = Record::new(
            now,
            self.user_agent.map(|ua| ua.chars().take(256).collect()),
        );
        record.id = self.layer.store().new_id();
        record
    }

    /// Applies `edit` to a copy of the session and keeps it only if its cookie can be sent.
    async fn change(&self, edit: impl FnOnce(&mut Record)) -> Result<(), SessionError> {
        let mut inner = self.loaded().await?;
        let now = self.layer.now();
        let mut next = inner
            .current
            .clone()
            .unwrap_or_else(|| self.new_record(now));
        // The idle deadline moves only by the half-window rule applied at load, not with every
        // write: that keeps `expires_at` (indexed) unchanged on most updates, so PostgreSQL can
        // update the row in place (a HOT update) instead of adding an entry to every index.
        edit(&mut next);
        self.replace(&mut inner, Some(next))
    }

    /// Makes `next` the request's session and decides the cookie it needs. An empty session is
    /// no session: its cookie is removed and (server mode) its row deleted.
    fn replace(&self, inner: &mut Inner, next: Option<Record>) -> Result<(), SessionError> {
        let Some(next) = next.filter(|r| !r.is_empty()) else {
            if inner.current.is_some() {
                inner.dirty = true;
            }
            inner.current = None;
            // Remove the browser's cookie if it has (or is about to get) one.
            inner.outgoing = if inner.sent.is_some() || inner.refused.is_some() {
                Outgoing::Remove
            } else {
                Outgoing::Keep
            };
            inner.sent = None;
            return Ok(());
        };
        if inner.current.as_ref() == Some(&next) {
            return Ok(());
        }
        self.layer.check_data(&next)?;
        let resend = inner.reseal
            || inner.sent.as_ref().is_none_or(|sent| {
                self.layer.store().cookie_changes(sent, &next) || attributes_change(sent, &next)
            });
        if resend {
            inner.outgoing = Outgoing::Set(self.layer.seal(self.cookies, &next)?);
            inner.sent = Some(next.clone());
            inner.reseal = false;
        }
        inner.current = Some(next);
        inner.dirty = true;
        Ok(())
    }
}

/// What ending a session by its handle did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// This very session: the browser is logged out.
    ThisOne,
    /// Another of the user's sessions.
    Another,
    /// No session of this user had that handle.
    None,
}
