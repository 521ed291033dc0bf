//! Device cookies, as OWASP's "Slow Down Online Guessing Attacks with Device Cookies" describes
//! them: a browser that logged in successfully as a name keeps a sealed cookie saying so, and its
//! later attempts for that name are judged against the device's own bucket of wrong passwords
//! instead of the name's lockout, which anyone can trigger by guessing. A flood of guesses then
//! locks out the guessers, not the account's owner on their own browser.
//!
//! The cookie holds the name, the account's id and its `device_secret`, and a random id of its
//! own, sealed (AES-256-GCM, the cookie's name as associated data) with the app's key: nobody can
//! make one without logging in as that account, it says nothing about any other, and it is bound
//! to the account rather than the name — once a reset, a password change or a deletion replaces
//! the account's secret (or its row), the cookie is no device at all.

use serde::{Deserialize, Serialize};

use super::users::UserRow;
use crate::cookies::{from_json, to_json, CookieValue, Jar, Kind, Lifetime};
use crate::crypto::random_token;
use crate::settings::Mode;

/// A valid device cookie: the name it was issued for and its random id (the key of its bucket).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    /// Short keys, since it rides along with every request.
    #[serde(rename = "u")]
    pub name: String,
    #[serde(rename = "d")]
    pub id: String,
    /// The account it was issued for, and that account's `device_secret` then.
    #[serde(rename = "a", default)]
    pub account: i64,
    #[serde(rename = "s", default)]
    pub secret: String,
    /// How long the browser keeps it (`login_device_lifetime`); never sealed.
    #[serde(skip)]
    lifetime: i64,
}

impl CookieValue for Device {
    fn kind(mode: Mode) -> Kind {
        Kind::Device(mode)
    }
    fn encode(&self) -> Option<String> {
        to_json(self)
    }
    fn decode(plaintext: &str) -> Option<Self> {
        from_json(plaintext)
    }
    fn lifetime(&self) -> Lifetime {
        Lifetime::Seconds(self.lifetime)
    }
}

impl Device {
    /// The device cookie this request carries, if it opens under the app's keys. Anything else
    /// (absent, tampered, another key, junk inside) is no device at all.
    pub fn read(jar: Jar<'_>) -> Option<Device> {
        jar.get()
    }

    /// Whether this device logged in as `name` (normalised as login looks names up).
    pub fn is_for(&self, name: &str) -> bool {
        self.name == name
    }

    /// Whether this device was issued for `user` as the account is now: its id, and the secret
    /// that a reset or a password change replaces. Compared in constant time.
    pub fn is_bound_to(&self, user: &UserRow) -> bool {
        use subtle::ConstantTimeEq;
        self.account == user.id
            && !self.secret.is_empty()
            && bool::from(self.secret.as_bytes().ct_eq(user.device_secret.as_bytes()))
    }

    /// A new device for the account `user`, with 128 random bits as its id, kept for
    /// `lifetime_secs`.
    pub fn new(user: &UserRow, lifetime_secs: i64) -> Device {
        Device {
            name: user.username.clone(),
            id: random_token(16),
            account: user.id,
            secret: user.device_secret.clone(),
            lifetime: lifetime_secs,
        }
    }

    /// Sends this device's cookie (HttpOnly, SameSite=Lax, Path=/, Secure and `__Host-` by
    /// setting, like every cookie of the app).
    pub fn issue(&self, jar: Jar<'_>) {
        jar.set(self);
    }
}
