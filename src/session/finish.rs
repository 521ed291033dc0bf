//! The end of a request for one mode's session: its one store write, its cookie queued for the
//! writer, and the [`Summary`] of what it all did.
//!
//! The write and the cookie are decided together, from the response's status: a response that
//! failed (5xx) keeps neither, so a stored row never needs a cookie the browser did not get.

use rocket::http::Status;
use serde_json::Value;

use super::guard::Session;
use super::state::Outgoing;
use super::store::{Saved, SessionStore, StoreError, Write};
use super::summary::{Change, Outcome, Summary};

impl Session<'_> {
    /// Stores what the request left behind and queues the session cookie; returns the summary.
    /// `status` is the response's so far: nothing is stored for a failed one.
    pub async fn finish(&self, status: Status) -> Summary {
        let layer = self.layer;
        let mut inner = self.state.inner.lock().await;
        let mut outcome = Outcome::Kept;
        if status.code < 500 {
            if let Some(write) = inner.write(|r| layer.deadlines(r)) {
                let update = matches!(write, Write::Update { .. });
                let store = layer.store_for(self.conditions.cut);
                let result = store.save(write).await;
                inner.trips += store.around().trips();
                outcome = match result {
                    Ok(done) if done.value == Saved::Saved => Outcome::Kept,
                    Ok(_) => {
                        // The session was deleted while this request ran (a logout in another
                        // tab, a sign-out elsewhere). A refresh lost nothing: the cookie just
                        // goes. A write is not reported as saved: the page says it was lost.
                        inner.outgoing = Outgoing::Remove;
                        if update {
                            rocket::info!(
                                "session: ended while the request ran; its change was not kept"
                            );
                        }
                        Outcome::Gone
                    }
                    Err(e) => {
                        rocket::error!(
                            "session: could not save the session: {}",
                            crate::logging::chain(&e)
                        );
                        match e {
                            StoreError::Unavailable(_) => Outcome::Unavailable,
                            _ => Outcome::Failed,
                        }
                    }
                };
            }
        }
        // Only when asked for (`session_log_map`): the map is what users stored, and a debug
        // log is read by more people, and kept longer, than the sessions table.
        if let (true, true, Some(r)) = (inner.accessed, layer.log_map, inner.current_record()) {
            rocket::debug!("session map: {}", Value::Object(r.data.clone()));
        }
        let sent = status.code < 500 && matches!(outcome, Outcome::Kept | Outcome::Gone);
        if !sent {
            // Nothing goes out for a change that was not kept.
            inner.outgoing = Outgoing::Keep;
        }
        let mut summary = Summary::of(&inner, layer, self.jar.name(layer.cookie_kind()));
        summary.outcome = outcome;
        let kind = layer.cookie_kind();
        match std::mem::take(&mut inner.outgoing) {
            Outgoing::Keep => {}
            Outgoing::Set(sealed) => self.jar.put(kind, sealed.value, sealed.lifetime),
            Outgoing::Remove => self.jar.remove(kind),
        }
        if summary.saved() {
            summary.data_bytes = inner.current_record().and_then(|r| r.data_bytes().ok());
        }
        // A session ended whose copies live on: a copy of its cookie still works until its idle
        // deadline if left unused, and never past its absolute one.
        if summary.ended() && !summary.ends_copies {
            summary.copy_valid_until = inner.stored_record().map(|r| layer.deadlines(r));
        }
        summary
    }

    /// Whether the request used this session at all (opened it, or said something about it).
    pub async fn used(&self) -> bool {
        let inner = self.state.inner.lock().await;
        inner.loaded || !inner.notes.is_empty()
    }
}

impl Summary {
    /// The status a response must take instead of its own when the session's change was not
    /// kept: 503 when the store could not be reached, 409 when the session ended meanwhile (only
    /// for a write: a lost refresh lost nothing), 500 for anything else.
    pub fn failure(&self) -> Option<Status> {
        match self.outcome {
            Outcome::Unavailable => Some(Status::ServiceUnavailable),
            Outcome::Failed => Some(Status::InternalServerError),
            Outcome::Gone if self.change == Some(Change::Update) => Some(Status::Conflict),
            _ => None,
        }
    }
}
