//! `Session`, the request guard handlers use — the same whatever store runs.
//!
//! Creating it costs nothing: no cookie is opened and no store is asked until the handler first
//! asks for something (lazy load). Reads and writes go to an in-memory copy; each write re-seals
//! the cookie at once, so a handler learns of an oversized session while it can still answer 413.
//! What the request leaves behind is stored once, after the handler ([`super::finish`]).

use rocket::http::Status;
use rocket::request::{FromRequest, Outcome};
use rocket::Request;
use serde::de::DeserializeOwned;
use serde::Serialize;
use time::OffsetDateTime;

use super::layer::{Conditions, Opened, SessionLayer};
use super::record::{Record, Refusal};
use super::state::RequestState;
use super::summary::Summary;
use super::SessionError;
use crate::cookies::Jar;

/// The request guard handlers use. Cheap to create: nothing happens until it is used.
pub struct Session<'r> {
    pub(super) layer: &'r SessionLayer,
    pub(super) jar: Jar<'r>,
    pub(super) state: &'r RequestState,
    pub(super) user_agent: Option<&'r str>,
    pub(super) conditions: Conditions,
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Session<'r> {
    type Error = &'static str;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        match (req.rocket().state::<SessionLayer>(), Jar::of(req)) {
            (Some(layer), Some(jar)) => Outcome::Success(Session::of(req, layer, jar)),
            _ => Outcome::Error((
                Status::InternalServerError,
                "the session layer is not attached",
            )),
        }
    }
}

impl<'r> Session<'r> {
    /// This request's session in `layer`'s mode, its bookkeeping the one its guards share.
    pub fn of(req: &'r Request<'_>, layer: &'r SessionLayer, jar: Jar<'r>) -> Session<'r> {
        Session::assemble(req, layer, jar, req.local_cache(RequestState::default))
    }

    /// A session of `layer`'s mode for this request, its bookkeeping in `state` (this app's own,
    /// or the sibling's in `--mode both`).
    pub(super) fn assemble(
        req: &'r Request<'_>,
        layer: &'r SessionLayer,
        jar: Jar<'r>,
        state: &'r RequestState,
    ) -> Session<'r> {
        Session {
            layer,
            jar: jar.for_mode(layer.mode()),
            state,
            user_agent: req.headers().get_one("User-Agent"),
            conditions: layer.conditions(req),
        }
    }

    pub fn layer(&self) -> &'r SessionLayer {
        self.layer
    }

    /// The session cookie's name in this session's mode.
    pub fn cookie_name(&self) -> &'static str {
        self.jar.name(self.layer.cookie_kind())
    }

    pub fn mode(&self) -> crate::settings::Mode {
        self.layer.mode()
    }

    /// This request's cookies, in this session's mode.
    pub fn jar(&self) -> Jar<'r> {
        self.jar
    }

    /// What this browser's clock says: real time plus its lab offset. For deadline checks and
    /// the countdowns pages show, never for a time that is stored.
    pub fn clock_now(&self) -> OffsetDateTime {
        self.browser_time(self.layer.now())
    }

    /// The store's backend is cut off for this browser (its outage lab, or its class's).
    pub fn is_cut(&self) -> bool {
        self.conditions.cut
    }

    pub(super) fn browser_time(&self, real: OffsetDateTime) -> OffsetDateTime {
        real.saturating_add(time::Duration::seconds(self.conditions.offset))
    }

    /// The value under `key`, or `None` when absent. Costs the session's load on first use: one
    /// `SELECT` by primary key in server mode, a decryption in cookie mode.
    ///
    /// # Errors
    /// [`SessionError::Type`] when the value is not a `T`; [`SessionError::Store`] when the
    /// store cannot be reached.
    pub async fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, SessionError> {
        let inner = self.loaded().await?;
        match inner.current_record().and_then(|r| r.data.get(key)) {
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
    /// a new session), and one write follows after the handler (server mode: an `INSERT` or
    /// `UPDATE`).
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
        let expired = matches!(
            inner.refused,
            Some(Refusal::ExpiredIdle | Refusal::ExpiredAbsolute)
        );
        if expired && self.layer.keeps_sessions() && inner.stored.is_none() {
            // Refused as expired on this browser's clock (its fast-forward, or a class-wide
            // shift), the row may still stand on real time: left there, a copy of the cookie
            // works again once the shift is over. A logout deletes it whatever the clock says.
            if let Some(value) = self.jar.value(self.layer.cookie_kind()) {
                let store = self.layer.store_for(self.conditions.cut);
                let now = self.layer.now();
                let opened = self.layer.open(self.jar.config(), value, now, &store).await;
                inner.trips += store.around().trips();
                if let Opened::Found { record, key, .. } = opened? {
                    inner.stored = Some(super::state::Filed { key, record });
                }
            }
        }
        self.replace(&mut inner, None, false)
    }

    /// Logs this session in as `user_id` under a new identity (OWASP: renew the session id on
    /// any privilege change), which also restarts the absolute deadline. The data is kept for the
    /// same user or an anonymous session; another user's session starts empty. Server mode moves
    /// the row to a new id in one statement (`DELETE` + `INSERT`); cookie mode seals a new cookie.
    /// `entries` are stored with the login in the same change, so a login that would pass a
    /// size limit is refused whole (413) rather than saved half-done.
    ///
    /// # Errors
    /// [`SessionError::TooLarge`], [`SessionError::Store`].
    pub async fn log_in(
        &self,
        user_id: i64,
        remember: bool,
        entries: Vec<(&str, serde_json::Value)>,
    ) -> Result<(), SessionError> {
        let now = self.layer.now();
        let mut inner = self.loaded().await?;
        // lesson: login-new-id
        let mut next = match inner.current_record() {
            Some(r) if r.user_id.is_none_or(|id| id == user_id) => r.clone(),
            _ => self.new_record(now),
        };
        // A new key: the store files the session anew, and the old key dies with the write.
        let renew = true;
        // end lesson
        next.user_id = Some(user_id);
        next.remember = remember;
        next.created_at = now;
        next.last_seen = now;
        for (key, value) in entries {
            next.data.insert(key.to_string(), value);
        }
        self.replace(&mut inner, Some(next), renew)
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
            .current_record()
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
            self.jar.name(self.layer.cookie_kind()),
            why.as_str()
        );
        inner.refused = Some(why);
        self.replace(&mut inner, None, false)
    }

    /// Adds a sentence to this request's report ("what just happened"), e.g. what a sign-out
    /// did. Costs nothing: the report is never part of the session.
    pub async fn note(&self, text: impl Into<String>) {
        self.state.inner.lock().await.notes.push(text.into());
    }

    /// What this request has done to the session so far, for the page's own report.
    pub async fn summary(&self) -> Summary {
        let inner = self.state.inner.lock().await;
        Summary::of(&inner, self.layer, self.jar.name(self.layer.cookie_kind()))
    }

    /// Counts SQL statements the app ran for this request's login state (the user lookup, the
    /// epoch read), and the revocation check that passed, so `Session-Trace` tells the whole cost.
    pub async fn counted(&self, statements: u32, checked: Option<&'static str>) {
        let mut inner = self.state.inner.lock().await;
        inner.trips.sql += statements;
        if checked.is_some() {
            inner.checked = checked;
        }
    }

    /// Counts Redis commands a handler ran for this request's session on a connection of its
    /// own (the eviction lab's `DEL`), so `Session-Trace`'s `redis=N` tells every round trip the
    /// request made for the session, not only the store's.
    pub async fn counted_redis(&self, commands: u32) {
        self.state.inner.lock().await.trips.redis += commands;
    }

    pub async fn is_empty(&self) -> Result<bool, SessionError> {
        Ok(self.loaded().await?.current.is_none())
    }

    /// The session's random id, where its store names it one (server mode's row id, the
    /// credential the cookie carries).
    ///
    /// # Errors
    /// [`SessionError::Store`].
    pub async fn id(&self) -> Result<Option<String>, SessionError> {
        Ok(self
            .loaded()
            .await?
            .current_record()
            .and_then(|r| r.id.clone()))
    }

    /// The whole session as it stands, for the inspector.
    ///
    /// # Errors
    /// [`SessionError::Store`].
    pub async fn record(&self) -> Result<Option<Record>, SessionError> {
        Ok(self.loaded().await?.current_record().cloned())
    }

    /// Why the browser's cookie was refused, if it was.
    ///
    /// # Errors
    /// [`SessionError::Store`].
    pub async fn refusal(&self) -> Result<Option<Refusal>, SessionError> {
        Ok(self.loaded().await?.refused)
    }

    /// What a session cookie's value (as a browser would send it) opens to now, on this browser's
    /// clock: the steps a request takes, without the request and without keeping anything. Its
    /// round trips count in this request's figures, and are returned. The labs use it to show
    /// what a copied or tampered cookie would get.
    ///
    /// # Errors
    /// [`SessionError::Store`] when the store cannot be reached.
    pub async fn open_value(&self, value: &str) -> Result<(Opened, u32), SessionError> {
        let store = self.layer.store_for(self.conditions.cut);
        let opened = self
            .layer
            .open(self.jar.config(), value, self.clock_now(), &store)
            .await;
        let trips = store.around().trips();
        self.state.inner.lock().await.trips += trips;
        Ok((opened?, trips.sql))
    }
}
