//! Sessions the server can list and end, through the store's index: one user's ("your sessions",
//! "sign out everywhere else") and the whole class's (the teacher's board). Only a store that keeps
//! sessions has an index; elsewhere each answers `None`.

use super::guard::Session;
use super::store::{KeptSession, SessionStore, SessionSummary, StoreError};
use super::SessionError;

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

impl Session<'_> {
    /// Whether this mode can list and end sessions from the server.
    pub fn can_end_sessions_remotely(&self) -> bool {
        self.layer.keeps_sessions()
    }

    /// Runs `call` on the store as this request sees it, counting its round trips into this
    /// request's figures. `None` where the store keeps no sessions.
    async fn indexed<T>(
        &self,
        call: impl for<'s> FnOnce(
            &'s super::store::decorators::ForRequest<'s>,
            Option<&'s str>,
        ) -> std::pin::Pin<
            Box<
                dyn std::future::Future<Output = Result<super::store::Done<T>, StoreError>>
                    + Send
                    + 's,
            >,
        >,
    ) -> Result<Option<T>, SessionError> {
        if !self.layer.keeps_sessions() {
            return Ok(None);
        }
        let mut inner = self.loaded().await?;
        let current = inner.current.as_ref().map(|f| f.key.clone());
        let store = self.layer.store_for(self.conditions.cut);
        let done = call(&store, current.as_deref()).await;
        inner.trips += store.around().trips();
        Ok(Some(done?.value))
    }

    /// The user's live sessions (one statement), or `None` where the store keeps none.
    ///
    /// # Errors
    /// [`SessionError::Store`].
    pub async fn list_user_sessions(
        &self,
        user_id: i64,
    ) -> Result<Option<Vec<SessionSummary>>, SessionError> {
        let now = self.clock_now();
        self.indexed(|store, current| store.list_user(user_id, current, now))
            .await
    }

    /// Ends one of the user's sessions by its handle (one `DELETE`); if it was this one, this
    /// session ends too. `None` where the store keeps none.
    ///
    /// # Errors
    /// [`SessionError::Store`].
    pub async fn end_user_session(
        &self,
        user_id: i64,
        handle: i64,
    ) -> Result<Option<Ended>, SessionError> {
        let Some(ended) = self
            .indexed(|store, _| store.end_user_session(user_id, handle))
            .await?
        else {
            return Ok(None);
        };
        let mut inner = self.loaded().await?;
        // The store names what it ended as it files it (a row's key is the id's hash).
        let filed = inner.current.as_ref().map(|f| {
            self.layer
                .filed_under(&f.record)
                .unwrap_or_else(|| f.key.clone())
        });
        let this_one = ended.is_some() && ended == filed;
        if this_one {
            // Its row is gone already: only the cookie is left to remove.
            inner.stored = None;
            self.replace(&mut inner, None, false)?;
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
        self.indexed(|store, current| store.end_user_others(user_id, current))
            .await
    }

    /// Every kept session of the class, for the teacher, or `None` where the store keeps none.
    ///
    /// # Errors
    /// [`SessionError::Store`].
    pub async fn kept_sessions(&self) -> Result<Option<Vec<KeptSession>>, SessionError> {
        self.indexed(|store, current| store.list_all(current)).await
    }

    /// Ends every kept session but this one, returning how many ended, or `None` where the
    /// store keeps none.
    ///
    /// # Errors
    /// [`SessionError::Store`].
    pub async fn end_every_other_session(&self) -> Result<Option<u64>, SessionError> {
        self.indexed(|store, current| store.end_all(current)).await
    }
}
