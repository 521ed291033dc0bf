//! Sealing and opening cookie values: Rocket's private-cookie format (AES-256-GCM, the cookie's
//! name as associated data), done with the `cookie` crate so the app can see the exact sealed value
//! before sending it (for the 4096-byte check) and open values sealed with an older key.

use aes_gcm::aead::generic_array::GenericArray;
use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::Aes256Gcm;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use rocket::figment::Figment;

/// The current key first, then the fallbacks, in the order they were configured. Cloned for
/// `--mode both`'s sibling layer, which seals with the same keys.
#[derive(Clone)]
pub struct Keys {
    /// One AES-256-GCM cipher per key, its key schedule expanded once at start rather than for
    /// every cookie.
    ciphers: Vec<Aes256Gcm>,
    /// Each key's bytes, current first, for keys derived per purpose (never used to seal).
    masters: Vec<Vec<u8>>,
}

/// A value opened from a cookie, and whether an older key was needed to open it.
#[derive(Debug)]
pub struct Opened {
    pub plaintext: String,
    pub with_fallback: bool,
}

const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;

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
        let ciphers = keys
            .iter()
            .map(|k| Aes256Gcm::new(GenericArray::from_slice(k.encryption())))
            .collect();
        let masters = keys.iter().map(|k| k.master().to_vec()).collect();
        Ok(Keys { ciphers, masters })
    }

    /// Encrypts `plaintext` for a cookie called `name`; the result is the cookie's value.
    ///
    /// The format is Rocket's private cookies' (the `cookie` crate's): standard base64 of a
    /// random 12-byte nonce, the ciphertext and the 16-byte tag, with the cookie's name as
    /// associated data. Done here rather than through a throwaway `CookieJar`, which costs a
    /// hash set, copies of the name and value, and the key schedule again for every cookie.
    pub fn seal(&self, name: &str, plaintext: &str) -> String {
        use rand::Rng;
        let mut data = Vec::with_capacity(NONCE_LEN + plaintext.len() + TAG_LEN);
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        data.extend_from_slice(&nonce);
        data.extend_from_slice(plaintext.as_bytes());
        let sealed = self.ciphers.first().map(|cipher| {
            cipher.encrypt_in_place_detached(
                GenericArray::from_slice(&nonce),
                name.as_bytes(),
                &mut data[NONCE_LEN..],
            )
        });
        // AES-GCM refuses only plaintexts past 64 GiB, far beyond any cookie; should it ever
        // refuse, the empty value opens to nothing and the request is anonymous, not a panic.
        let Some(Ok(tag)) = sealed else {
            rocket::error!("could not seal a {name} cookie");
            return String::new();
        };
        data.extend_from_slice(&tag);
        STANDARD.encode(data)
    }

    /// A 32-byte key for one `purpose`, derived from each key in turn (the current one first):
    /// HMAC-SHA256 keyed with the secret key, over a label naming the purpose. A value computed
    /// with it can never be mistaken for a cookie sealed with the key itself, and a fallback key
    /// still verifies values made before a rotation.
    pub fn derive_all(&self, purpose: &str) -> Vec<[u8; 32]> {
        use hmac::{Hmac, Mac};
        self.masters
            .iter()
            .filter_map(|master| {
                let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(master).ok()?;
                mac.update(b"session-lab derived key: ");
                mac.update(purpose.as_bytes());
                Some(mac.finalize().into_bytes().into())
            })
            .collect()
    }

    /// The current key's derived key for `purpose` (see [`Keys::derive_all`]), for a value that
    /// needs no rotation: a demonstration's key of its own, never the key that seals cookies.
    pub fn derive(&self, purpose: &str) -> [u8; 32] {
        self.derive_all(purpose)
            .first()
            .copied()
            .unwrap_or_default()
    }

    /// Decrypts a cookie value sealed by [`Keys::seal`] (or by Rocket's private cookies) with the
    /// current key or any fallback. Anything else (tampered, truncated, renamed, another key) is
    /// `None`.
    pub fn open(&self, name: &str, value: &str) -> Option<Opened> {
        let data = STANDARD.decode(value).ok()?;
        if data.len() < NONCE_LEN + TAG_LEN {
            return None;
        }
        let (nonce, rest) = data.split_at(NONCE_LEN);
        let (ciphertext, tag) = rest.split_at(rest.len() - TAG_LEN);
        self.ciphers.iter().enumerate().find_map(|(i, cipher)| {
            let mut buf = ciphertext.to_vec();
            cipher
                .decrypt_in_place_detached(
                    GenericArray::from_slice(nonce),
                    name.as_bytes(),
                    &mut buf,
                    GenericArray::from_slice(tag),
                )
                .ok()?;
            Some(Opened {
                plaintext: String::from_utf8(buf).ok()?,
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
    // All zeros is what Rocket reads as "no key": it refuses to launch outside the debug profile,
    // and in the debug profile `build()` has already put a random key in its place and said so in
    // one line. Should zeros still reach here, seal with a random key rather than one everyone
    // knows, without a second warning.
    if !bytes.is_empty() && bytes.iter().all(|b| *b == 0) {
        return Some(cookie::Key::generate());
    }
    match bytes.len() {
        n if n >= 64 => cookie::Key::try_from(&bytes[..]).ok(),
        n if n >= 32 => Some(cookie::Key::derive_from(&bytes)),
        _ => None,
    }
}

/// `n` random bytes from the same CSPRNG as [`random_token`].
pub fn random_bytes(n: usize) -> Vec<u8> {
    use rand::Rng;
    let mut buf = vec![0u8; n];
    rand::rng().fill_bytes(&mut buf);
    buf
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
    fn values_sealed_by_the_cookie_crate_open_and_ours_open_there() {
        let secret = [9u8; 64];
        let k = keys(9, &[]);
        let key = cookie::Key::from(&secret[..]);
        let mut jar = cookie::CookieJar::new();
        jar.private_mut(&key)
            .add(cookie::Cookie::new("session_id", "some id"));
        let theirs = jar.get("session_id").unwrap().value().to_string();
        assert_eq!(k.open("session_id", &theirs).unwrap().plaintext, "some id");
        let mut jar = cookie::CookieJar::new();
        jar.add_original(cookie::Cookie::new("c", k.seal("c", "ours")));
        assert_eq!(jar.private(&key).get("c").unwrap().value(), "ours");
        assert!(k.open("c", "").is_none());
        assert!(k.open("c", "not base64!").is_none());
    }

    #[test]
    fn derived_keys_are_stable_per_purpose_and_secret() {
        assert_eq!(keys(7, &[]).derive("a"), keys(7, &[]).derive("a"));
        assert_ne!(keys(7, &[]).derive("a"), keys(7, &[]).derive("b"));
        assert_ne!(keys(7, &[]).derive("a"), keys(8, &[]).derive("a"));
    }

    #[test]
    fn derived_keys_depend_on_the_purpose_and_the_key() {
        let k = keys(7, &[STANDARD.encode([1u8; 64])]);
        let a = k.derive_all("a");
        assert_eq!(a.len(), 2, "one per key, the current one first");
        assert_eq!(a, k.derive_all("a"));
        assert_ne!(a[0], k.derive_all("b")[0]);
        assert_ne!(a[0], keys(8, &[]).derive_all("a")[0]);
        assert_eq!(a[1], keys(1, &[]).derive_all("a")[0]);
    }

    #[test]
    fn tokens_are_long_and_distinct() {
        let (a, b) = (random_token(32), random_token(32));
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
    }
}
