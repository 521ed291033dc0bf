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
    /// The browser's id, the same in each device cookie this browser is given (empty in a cookie
    /// issued before browsers had one: its own id then stands for the browser).
    #[serde(rename = "b", default)]
    browser: String,
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

    /// The browser this device cookie was given to: the key of its signup bucket.
    pub fn browser(&self) -> &str {
        if self.browser.is_empty() {
            &self.id
        } else {
            &self.browser
        }
    }

    /// A new device for the account `user`, with 128 random bits as its id, kept for
    /// `lifetime_secs`, in the browser that held `before` (any device cookie it already carries,
    /// for whichever account), or in a browser given its first id now. The device's own id is new
    /// either way: its bucket of login attempts and any lockout belong to this cookie alone.
    pub fn new(user: &UserRow, lifetime_secs: i64, before: Option<&Device>) -> Device {
        let browser = before.map_or_else(|| random_token(16), |d| d.browser().to_string());
        Device {
            name: user.username.clone(),
            id: random_token(16),
            account: user.id,
            secret: user.device_secret.clone(),
            browser,
            lifetime: lifetime_secs,
        }
    }

    /// Sends this device's cookie (HttpOnly, SameSite=Lax, Path=/, Secure and `__Host-` by
    /// setting, like every cookie of the app).
    pub fn issue(&self, jar: Jar<'_>) {
        jar.set(self);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(id: i64, name: &str) -> UserRow {
        UserRow {
            id,
            username: name.to_string(),
            password_hash: String::new(),
            created_at: time::OffsetDateTime::UNIX_EPOCH,
            session_epoch: 0,
            device_secret: format!("secret-{id}"),
        }
    }

    #[test]
    fn a_browser_keeps_its_id_across_accounts_while_each_device_is_new() {
        let first = Device::new(&account(1, "ann"), 60, None);
        let second = Device::new(&account(2, "ben"), 60, Some(&first));
        let other_browser = Device::new(&account(2, "ben"), 60, None);
        assert_eq!(first.browser().len(), 22, "128 bits, base64url");
        assert_eq!(second.browser(), first.browser());
        assert_ne!(second.id, first.id, "the device's own bucket is new");
        assert_ne!(other_browser.browser(), first.browser());
        assert!(second.is_bound_to(&account(2, "ben")));
        assert!(!second.is_bound_to(&account(1, "ann")));
    }

    #[test]
    fn a_cookie_from_before_browser_ids_stands_for_its_browser_by_its_own_id() {
        let old: Device =
            serde_json::from_str(r#"{"u":"ann","d":"0123abcd","a":1,"s":"secret-1"}"#)
                .unwrap_or_else(|e| panic!("an older cookie still opens: {e}"));
        assert_eq!(old.browser(), "0123abcd");
        let next = Device::new(&account(1, "ann"), 60, Some(&old));
        assert_eq!(next.browser(), "0123abcd");
        let round: Device = serde_json::from_str(&next.encode().unwrap_or_default())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(round.browser(), "0123abcd");
    }
}
