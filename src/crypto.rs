//! Sealing and opening cookie values: Rocket's private-cookie format (AES-256-GCM, the cookie's
//! name as associated data), done with the `cookie` crate so the app can see the exact sealed value
//! before sending it (for the 4096-byte check) and open values sealed with an older key.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use rocket::figment::Figment;
use rocket::http::Cookie;

/// The current key first, then the fallbacks, in the order they were configured.
pub struct Keys {
    keys: Vec<cookie::Key>,
}

/// A value opened from a cookie, and whether an older key was needed to open it.
#[derive(Debug)]
pub struct Opened {
    pub plaintext: String,
    pub with_fallback: bool,
}

impl Keys {
    /// The keys Rocket would use: `secret_key` from the figment (same rules as Rocket: 64 or more
    /// bytes are used as they are, 32 to 63 are stretched), then `secret_key_fallbacks`.
    /// Without a `secret_key` (only allowed in the debug profile: Rocket refuses to launch
    /// elsewhere) a random key is made, so sessions end when the app restarts.
    ///
    /// # Errors
    /// A key that is not 32+ bytes of base64 or hex, as a message naming the setting.
    pub fn from_figment(figment: &Figment, fallbacks: &[String]) -> Result<Keys, String> {
        let mut keys = Vec::with_capacity(1 + fallbacks.len());
        keys.push(match figment.find_value("secret_key") {
            Ok(value) => {
                let bytes = match value.as_str() {
                    Some(text) => decode_key_text(text),
                    None => value.deserialize::<Vec<u8>>().ok(),
                };
                key_from_bytes(bytes)
                    .ok_or("secret_key: expected 32 or more bytes, in base64 or hex")?
            }
            Err(_) => cookie::Key::generate(),
        });
        for (i, text) in fallbacks.iter().enumerate() {
            let key = key_from_bytes(decode_key_text(text)).ok_or_else(|| {
                format!("secret_key_fallbacks[{i}]: expected 32 or more bytes of base64")
            })?;
            keys.push(key);
        }
        Ok(Keys { keys })
    }

    /// Encrypts `plaintext` for a cookie called `name`; the result is the cookie's value.
    pub fn seal(&self, name: &str, plaintext: &str) -> String {
        let mut jar = cookie::CookieJar::new();
        jar.private_mut(&self.keys[0])
            .add(Cookie::new(name.to_string(), plaintext.to_string()));
        jar.get(name)
            .map(|c| c.value().to_string())
            .unwrap_or_default()
    }

    /// Decrypts a cookie value sealed by [`Keys::seal`] with the current key or any fallback.
    /// Anything else (tampered, truncated, renamed, another key) is `None`.
    pub fn open(&self, name: &str, value: &str) -> Option<Opened> {
        self.keys.iter().enumerate().find_map(|(i, key)| {
            let mut jar = cookie::CookieJar::new();
            jar.add_original(Cookie::new(name.to_string(), value.to_string()));
            jar.private(key).get(name).map(|c| Opened {
                plaintext: c.value().to_string(),
                with_fallback: i > 0,
            })
        })
    }
}

fn decode_key_text(text: &str) -> Option<Vec<u8>> {
    let text = text.trim();
    if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return (0..64)
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
            .collect();
    }
    STANDARD.decode(text).ok()
}

fn key_from_bytes(bytes: Option<Vec<u8>>) -> Option<cookie::Key> {
    let bytes = bytes?;
    // All zeros is what Rocket reads as "no key" (and refuses outside the debug profile): seal
    // with a random key rather than one everyone knows.
    if !bytes.is_empty() && bytes.iter().all(|b| *b == 0) {
        rocket::warn!(
            "no secret_key (or an all-zero one): using a random key; sessions end at restart"
        );
        return Some(cookie::Key::generate());
    }
    match bytes.len() {
        n if n >= 64 => cookie::Key::try_from(&bytes[..]).ok(),
        n if n >= 32 => Some(cookie::Key::derive_from(&bytes)),
        _ => None,
    }
}

/// `bytes` random bytes from a CSPRNG seeded by the operating system (rand's `ThreadRng`,
/// ChaCha12, reseeded periodically), base64url without padding.
pub fn random_token(bytes: usize) -> String {
    use rand::Rng;
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(secret: u8, fallbacks: &[String]) -> Keys {
        let figment = Figment::new().merge(("secret_key", vec![secret; 64]));
        Keys::from_figment(&figment, fallbacks).unwrap()
    }

    #[test]
    fn a_sealed_value_opens_only_under_its_own_name_and_key() {
        let k = keys(7, &[]);
        let sealed = k.seal("session_data", "hello");
        assert_eq!(k.open("session_data", &sealed).unwrap().plaintext, "hello");
        assert!(k.open("session_id", &sealed).is_none());
        assert!(keys(8, &[]).open("session_data", &sealed).is_none());
        assert!(k
            .open("session_data", &sealed[..sealed.len() - 2])
            .is_none());
    }

    #[test]
    fn a_fallback_key_opens_old_values_and_says_so() {
        let old = keys(1, &[]);
        let sealed = old.seal("c", "v");
        let new = keys(2, &[STANDARD.encode([1u8; 64])]);
        let opened = new.open("c", &sealed).unwrap();
        assert!(opened.with_fallback);
        assert!(!new.open("c", &new.seal("c", "v")).unwrap().with_fallback);
    }

    #[test]
    fn tokens_are_long_and_distinct() {
        let (a, b) = (random_token(32), random_token(32));
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
    }
}
