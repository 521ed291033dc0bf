//! Decorators: a store wrapped in something that happens around each of its calls, behind the same
//! [`SessionStore`] trait — so it works on any store, present or future.
//!
//! - [`Outage`]: this browser's outage lab. While it is on, every call that would reach the
//!   store's backend fails as a stopped backend makes it fail, without asking the store; a call
//!   the store answers from what it is given (a cookie store's load) still works, which is the
//!   lesson of the outage lab.
//! - [`Counted`]: adds up the round trips the store's answers report, for `Session-Trace`.
//!
//! Both are made per request, around a `&dyn SessionStore`, and cost nothing to make.

use std::sync::Mutex;

use time::OffsetDateTime;

use super::{
    Done, KeptSession, Loaded, Op, Record, Saved, SessionStore, SessionSummary, StoreError, Traits,
    Trips, Unavailable, Write,
};

/// What a decorator does around each call of the store it wraps.
pub trait Around: Send + Sync {
    /// Before the call: let it through, or refuse it. `reaches_backend` says whether the call
    /// would need the store's backend.
    ///
    /// # Errors
    /// The refusal, instead of the call.
    fn before(&self, _reaches_backend: bool) -> Result<(), StoreError> {
        Ok(())
    }

    /// After a call that answered: the round trips it took.
    fn after(&self, _trips: Trips) {}
}

/// `store`, with `around` run around each of its calls.
pub struct Decorated<S, A> {
    store: S,
    around: A,
}

impl<S: SessionStore, A: Around> Decorated<S, A> {
    pub fn new(store: S, around: A) -> Decorated<S, A> {
        Decorated { store, around }
    }

    /// What is around the store (a counter's figures).
    pub fn around(&self) -> &A {
        &self.around
    }

    async fn run<T>(
        &self,
        op: Op<'_>,
        call: impl std::future::Future<Output = Result<Done<T>, StoreError>>,
    ) -> Result<Done<T>, StoreError> {
        self.around.before(self.store.reaches_backend(op))?;
        let done = call.await?;
        self.around.after(done.trips);
        Ok(done)
    }
}

#[rocket::async_trait]
impl<S: SessionStore, A: Around> SessionStore for Decorated<S, A> {
    fn traits(&self) -> Traits {
        self.store.traits()
    }

    fn key(&self, record: &mut Record, renew: bool) -> Result<String, StoreError> {
        self.store.key(record, renew)
    }

    fn filed_under(&self, record: &Record) -> Option<String> {
        self.store.filed_under(record)
    }

    fn reaches_backend(&self, op: Op<'_>) -> bool {
        self.store.reaches_backend(op)
    }

    async fn load(&self, key: &str, now: OffsetDateTime) -> Result<Done<Loaded>, StoreError> {
        self.run(Op::Load(key), self.store.load(key, now)).await
    }

    async fn save(&self, write: Write<'_>) -> Result<Done<Saved>, StoreError> {
        self.run(Op::Save(&write), self.store.save(write)).await
    }

    async fn list_user(
        &self,
        user_id: i64,
        current: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<Done<Vec<SessionSummary>>, StoreError> {
        let call = self.store.list_user(user_id, current, now);
        self.run(Op::Index, call).await
    }

    async fn end_user_session(
        &self,
        user_id: i64,
        handle: i64,
    ) -> Result<Done<Option<String>>, StoreError> {
        let call = self.store.end_user_session(user_id, handle);
        self.run(Op::Index, call).await
    }

    async fn end_user_others(
        &self,
        user_id: i64,
        keep: Option<&str>,
    ) -> Result<Done<u64>, StoreError> {
        self.run(Op::Index, self.store.end_user_others(user_id, keep))
            .await
    }

    async fn list_all(&self, current: Option<&str>) -> Result<Done<Vec<KeptSession>>, StoreError> {
        self.run(Op::Index, self.store.list_all(current)).await
    }

    async fn end_all(&self, keep: Option<&str>) -> Result<Done<u64>, StoreError> {
        self.run(Op::Index, self.store.end_all(keep)).await
    }

    fn sweeps(&self) -> bool {
        self.store.sweeps()
    }

    async fn sweep(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        self.around.before(self.store.reaches_backend(Op::Sweep))?;
        self.store.sweep(now).await
    }
}

/// A browser's outage lab: while `cut`, the backend is unreachable for its requests.
#[derive(Debug, Clone, Copy, Default)]
pub struct Outage {
    pub cut: bool,
}

impl Around for Outage {
    fn before(&self, reaches_backend: bool) -> Result<(), StoreError> {
        if self.cut && reaches_backend {
            return Err(StoreError::Unavailable(Unavailable::Cut));
        }
        Ok(())
    }
}

/// The round trips a request's store calls took.
#[derive(Debug, Default)]
pub struct Counted {
    trips: Mutex<Trips>,
}

impl Counted {
    /// The round trips counted so far.
    pub fn trips(&self) -> Trips {
        self.trips.lock().map(|t| *t).unwrap_or_default()
    }
}

impl Around for Counted {
    fn after(&self, trips: Trips) {
        if let Ok(mut t) = self.trips.lock() {
            *t += trips;
        }
    }
}

/// Both, as the layer wraps its store for each request: counted outside, so a call the outage
/// refuses counts nothing (it never ran).
pub type ForRequest<'s> = Decorated<Decorated<&'s dyn SessionStore, Outage>, Counted>;

/// `store` as one request of a browser whose outage lab is `cut` sees it.
pub fn for_request(store: &dyn SessionStore, cut: bool) -> ForRequest<'_> {
    Decorated::new(Decorated::new(store, Outage { cut }), Counted::default())
}
