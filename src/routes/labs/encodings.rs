//! The tamper lab's arithmetic, apart from its page: one bit changed in a decoded value, which
//! part of a sealed value a byte falls in, and the two weaker encodings the page sets beside
//! encryption — signed-only (base64url JSON, `.`, an HMAC-SHA256 tag, the way Django's
//! `signed_cookies` and Flask's session make it) and plain base64url JSON.
//!
//! None of these is a cookie the app issues or trusts: the page computes them to show what each
//! encoding lets a client read and change.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// AES-256-GCM as Rocket's private cookies use it: a 12-byte nonce before the ciphertext and a
/// 16-byte authentication tag after it.
pub const NONCE_LEN: usize = 12;
pub const TAG_LEN: usize = 16;

/// Which part of a sealed value of `len` bytes byte `index` falls in.
pub fn sealed_part(index: usize, len: usize) -> &'static str {
    if index < NONCE_LEN {
        "nonce"
    } else if index + TAG_LEN >= len {
        "tag"
    } else {
        "ciphertext"
    }
}

/// `bytes` with the lowest bit of byte `index` inverted — the smallest change there is — or
/// `None` past the end.
pub fn flip(bytes: &[u8], index: usize) -> Option<Vec<u8>> {
    let mut out = bytes.to_vec();
    *out.get_mut(index)? ^= 1;
    Some(out)
}

/// A plain cookie: the JSON, base64url so it fits a cookie. Anyone can decode and re-encode it.
pub fn plain(json: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(json)
}

/// What a server trusting plain cookies would read from one: the JSON text, if it is any.
pub fn read_plain(value: &str) -> Result<serde_json::Value, &'static str> {
    let bytes = URL_SAFE_NO_PAD.decode(value).map_err(|_| "not base64url")?;
    serde_json::from_slice(&bytes).map_err(|_| "not JSON")
}

/// Signs and checks signed-only cookies with one key.
pub struct Signer {
    key: [u8; 32],
}

/// Why a signed-only value was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadSignature {
    /// No `.` between the payload and the tag.
    NoTag,
    /// The tag does not match the payload: it was changed, or signed with another key.
    Mismatch,
    /// The tag matches but the payload is not base64url JSON (only the key's holder could do that).
    NotJson,
}

impl BadSignature {
    pub fn as_str(self) -> &'static str {
        match self {
            BadSignature::NoTag => "no tag",
            BadSignature::Mismatch => "the HMAC tag does not match",
            BadSignature::NotJson => "signed, but not JSON",
        }
    }
}

impl Signer {
    pub fn new(key: [u8; 32]) -> Signer {
        Signer { key }
    }

    fn mac(&self, payload: &str) -> Hmac<Sha256> {
        // HMAC pads a key shorter than the hash's 64-byte block with zeros (RFC 2104), so the
        // padded array is the same key — and taking an array, `KeyInit::new` cannot fail.
        let mut block = [0u8; 64];
        block[..32].copy_from_slice(&self.key);
        let mut mac = <Hmac<Sha256> as hmac::digest::KeyInit>::new(&block.into());
        mac.update(payload.as_bytes());
        mac
    }

    /// `payload.tag`: the JSON in base64url, a dot, and HMAC-SHA256 of that base64 text (what
    /// travels is what is signed, as in Django and Flask), also base64url.
    pub fn sign(&self, json: &[u8]) -> String {
        let payload = plain(json);
        let tag = URL_SAFE_NO_PAD.encode(self.mac(&payload).finalize().into_bytes());
        format!("{payload}.{tag}")
    }

    /// The JSON a signed-only value carries, once its tag checks out (in constant time).
    pub fn verify(&self, value: &str) -> Result<serde_json::Value, BadSignature> {
        let (payload, tag) = value.rsplit_once('.').ok_or(BadSignature::NoTag)?;
        let tag = URL_SAFE_NO_PAD
            .decode(tag)
            .map_err(|_| BadSignature::Mismatch)?;
        self.mac(payload)
            .verify_slice(&tag)
            .map_err(|_| BadSignature::Mismatch)?;
        read_plain(payload).map_err(|_| BadSignature::NotJson)
    }

    /// `value` with its payload replaced by `json` and its tag kept: what someone without the
    /// key can make of a signed cookie.
    pub fn with_payload(value: &str, json: &[u8]) -> String {
        let tag = value.rsplit_once('.').map_or("", |(_, tag)| tag);
        format!("{}.{tag}", plain(json))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const JSON: &[u8] = br#"{"color":"red","user_id":3}"#;

    #[test]
    fn parts_of_a_sealed_value() {
        assert_eq!(sealed_part(0, 60), "nonce");
        assert_eq!(sealed_part(11, 60), "nonce");
        assert_eq!(sealed_part(12, 60), "ciphertext");
        assert_eq!(sealed_part(43, 60), "ciphertext");
        assert_eq!(sealed_part(44, 60), "tag");
        assert_eq!(sealed_part(59, 60), "tag");
    }

    #[test]
    fn a_flip_changes_one_bit_and_nothing_past_the_end() {
        assert_eq!(flip(b"ab", 1), Some(b"ac".to_vec()));
        assert_eq!(flip(b"ab", 2), None);
    }

    #[test]
    fn signed_values_are_readable_but_no_byte_of_them_can_change() {
        let signer = Signer::new([9; 32]);
        let value = signer.sign(JSON);
        let json: serde_json::Value = serde_json::from_slice(JSON).unwrap();
        assert_eq!(signer.verify(&value), Ok(json.clone()));
        assert_eq!(read_plain(value.split('.').next().unwrap()), Ok(json));
        for i in 0..value.len() {
            let mut bytes = value.clone().into_bytes();
            bytes[i] ^= 1;
            let changed = String::from_utf8(bytes).unwrap();
            assert!(signer.verify(&changed).is_err(), "byte {i}");
        }
        let forged = Signer::with_payload(&value, br#"{"color":"red","user_id":1}"#);
        assert_eq!(signer.verify(&forged), Err(BadSignature::Mismatch));
        assert_eq!(
            Signer::new([8; 32]).verify(&value),
            Err(BadSignature::Mismatch)
        );
    }

    #[test]
    fn the_tag_is_standard_hmac_sha256_the_one_the_cookie_crate_computes() {
        // An independent HMAC-SHA256: the cookie crate's signed jar prefixes the standard-base64
        // tag of the value; its signing key is the first half of a 64-byte key.
        let mut master = [0u8; 64];
        master[..32].copy_from_slice(&[9; 32]);
        let key = cookie::Key::from(&master);
        let value = Signer::new([9; 32]).sign(JSON);
        let (payload, tag) = value.rsplit_once('.').unwrap();
        let mut jar = cookie::CookieJar::new();
        jar.signed_mut(&key)
            .add(cookie::Cookie::new("c", payload.to_string()));
        let theirs = jar.get("c").unwrap().value().to_string();
        let their_tag = base64::engine::general_purpose::STANDARD
            .decode(&theirs[..44])
            .unwrap();
        assert_eq!(URL_SAFE_NO_PAD.decode(tag).unwrap(), their_tag);
    }

    #[test]
    fn plain_values_are_anyones_to_change() {
        let value = plain(JSON);
        let forged = plain(br#"{"color":"red","user_id":1}"#);
        assert_eq!(read_plain(&forged).unwrap()["user_id"], 1);
        assert_eq!(read_plain(&value).unwrap()["user_id"], 3);
        assert_eq!(read_plain("%%"), Err("not base64url"));
    }
}
