//! Device cookies, as OWASP's "Slow Down Online Guessing Attacks with Device Cookies" describes
//! them: a browser that logged in successfully as a name keeps a sealed cookie saying so, and its
//! later attempts for that name are judged against the device's own bucket of wrong passwords
//! instead of the name's lockout, which anyone can trigger by guessing. A flood of guesses then
//! locks out the guessers, not the account's owner on their own browser.
//!
//! The cookie holds the name and a random id, sealed (AES-256-GCM, the cookie's name as
//! associated data) with the app's key: nobody can make one without logging in as that name, and
//! it says nothing about any other name.

use rocket::http::CookieJar;
use serde::{Deserialize, Serialize};

use crate::cookies::CookieConfig;
use crate::crypto::random_token;

/// A valid device cookie: the name it was issued for and its random id (the key of its bucket).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub name: String,
    pub id: String,
}

/// What the cookie seals; short keys, since it rides along with every request.
#[derive(Serialize, Deserialize)]
struct Sealed {
    u: String,
    d: String,
}

impl Device {
    /// The device cookie this request carries, if it opens under the app's keys. Anything else
    /// (absent, tampered, another key, junk inside) is no device at all.
    pub fn read(jar: &CookieJar<'_>, cookies: &CookieConfig) -> Option<Device> {
        let value = jar.get(cookies.device)?.value().to_string();
        let opened = cookies.keys.open(cookies.device, &value)?;
        let sealed: Sealed = serde_json::from_str(&opened.plaintext).ok()?;
        Some(Device {
            name: sealed.u,
            id: sealed.d,
        })
    }

    /// Whether this device logged in as `name` (normalised as login looks names up).
    pub fn is_for(&self, name: &str) -> bool {
        self.name == name
    }

    /// A new device for `name`, with 128 random bits as its id.
    pub fn new(name: &str) -> Device {
        Device {
            name: name.to_string(),
            id: random_token(16),
        }
    }

    /// Sends this device's cookie: HttpOnly, SameSite=Lax, Path=/, Secure (and `__Host-`) by
    /// setting like every cookie of the app, and kept for `lifetime_secs`.
    pub fn issue(&self, jar: &CookieJar<'_>, cookies: &CookieConfig, lifetime_secs: i64) {
        let sealed = Sealed {
            u: self.name.clone(),
            d: self.id.clone(),
        };
        let Ok(plaintext) = serde_json::to_string(&sealed) else {
            return;
        };
        let mut cookie = cookies.sealed(cookies.device, &plaintext);
        cookie.set_max_age(time::Duration::seconds(lifetime_secs));
        jar.add(cookie);
    }
}
