//! The throttles on what a request creates that outlives it: accounts (signups, per browser and
//! per address), learners (the teacher's board's rows) and deny-list rows. Each is a bucket
//! check before the write, so a refused request has created nothing.

use super::{ClientAddr, Throttles, TooMany};

/// What a browser past its own signup bucket is told: which browser, and how the server knows it.
const BY_BROWSER: &str = "accounts created from this browser (its device cookie, left by an \
                          earlier signup or login here, names it)";

impl Throttles {
    /// A new learner (a browser's first prediction or hint) from `addr`: each adds a row to
    /// `learners` that the teacher's board lists, so one address may make only so many.
    ///
    /// # Errors
    /// [`TooMany`] when the address has used its burst.
    pub async fn new_learner(&self, addr: ClientAddr) -> Result<(), TooMany> {
        let id = addr.0.to_string();
        let limiter = &self.learner_address;
        self.one(limiter, "learner_address", &addr, &id)
            .await
            .map(drop)
    }

    /// Before a write that will add a row to the deny-list (a logout, or a new login, of a
    /// logged-in cookie-mode session): what one address may add is bounded, or a script could
    /// grow the table without end.
    ///
    /// # Errors
    /// [`TooMany`] when the address has used its burst.
    pub async fn denylist_entry(&self, addr: ClientAddr) -> Result<(), TooMany> {
        let id = addr.0.to_string();
        let limiter = &self.denylist_address;
        self.one(limiter, "denylist_address", &addr, &id)
            .await
            .map(drop)
    }

    /// An account about to be created from `addr`, by the browser a device cookie names, if
    /// any: that browser spends its own bucket, then the address's second one, for browsers
    /// that have been here before (so minting browser ids by logging in gains nothing past it).
    /// Browsers new to the app spend the first: a script keeping its cookies cannot empty it.
    ///
    /// # Errors
    /// [`TooMany`] and the sentence's words for the bucket that has used its burst.
    pub async fn signup(
        &self,
        addr: ClientAddr,
        b: Option<&str>,
    ) -> Result<(), (TooMany, &'static str)> {
        let id = addr.0.to_string();
        let by_address = |t| (t, "accounts created from your address");
        let Some(b) = b else {
            let first = self.one(&self.signup_address, "signup_address", &addr, &id);
            return first.await.map(drop).map_err(by_address);
        };
        let key: String = b.into();
        let browser = self.one(&self.signup_device, "signup_device", &key, b);
        browser.await.map_err(|t| (t, BY_BROWSER))?;
        let returning = &self.signup_returning;
        let second = self.one(returning, "signup_returning_address", &addr, &id);
        second.await.map(drop).map_err(by_address)
    }
}
