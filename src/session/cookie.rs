//! Cookie mode's store: the whole session, as a versioned JSON payload, is the cookie.
//!
//! The payload carries its own issued-at and last-seen times because the browser controls the
//! cookie's Max-Age: a copied cookie can be replayed forever unless the server reads the times from
//! inside the encryption and refuses old ones. What it cannot do is end a session early — the
//! server keeps nothing to delete (README: "Session lifetime, and ending sessions early").

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;

use super::store::{
    Change, Committed, Deadlines, Loaded, Record, Refusal, SessionStore, Statements, StoreError,
};

/// Bumped when the payload's shape changes; older payloads are then refused, not misread.
/// Version 2 carries the login (`uid`) beside the map.
const PAYLOAD_VERSION: u8 = 2;

#[derive(Deserialize)]
struct Payload {
    v: u8,
    /// Issued at (creation or login), Unix seconds.
    iat: i64,
    /// Last seen (last sliding refresh), Unix seconds.
    seen: i64,
    #[serde(default)]
    rem: bool,
    /// The account logged in, if any.
    #[serde(default)]
    uid: Option<i64>,
    data: Map<String, Value>,
}

/// The payload as it is written: borrowing the map instead of cloning it for every seal.
#[derive(Serialize)]
struct PayloadRef<'a> {
    v: u8,
    iat: i64,
    seen: i64,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    rem: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    uid: Option<i64>,
    data: &'a Map<String, Value>,
}

pub struct CookieStore;

/// Decodes a cookie-mode payload (already decrypted). Public for the fuzz target: any input
/// must give `None` or a record, never a panic.
pub fn decode_payload(plaintext: &str) -> Option<Record> {
    let p: Payload = serde_json::from_str(plaintext).ok()?;
    if p.v != PAYLOAD_VERSION {
        return None;
    }
    let created_at = OffsetDateTime::from_unix_timestamp(p.iat).ok()?;
    let last_seen = OffsetDateTime::from_unix_timestamp(p.seen).ok()?;
    if last_seen < created_at {
        return None;
    }
    Some(Record {
        id: None,
        data: p.data,
        user_id: p.uid,
        created_at,
        last_seen,
        remember: p.rem,
        user_agent: None,
    })
}

#[rocket::async_trait]
impl SessionStore for CookieStore {
    fn new_id(&self) -> Option<String> {
        None
    }

    fn cookie_plaintext(&self, record: &Record) -> Result<String, StoreError> {
        let payload = PayloadRef {
            v: PAYLOAD_VERSION,
            iat: record.created_at.unix_timestamp(),
            seen: record.last_seen.unix_timestamp(),
            rem: record.remember,
            uid: record.user_id,
            data: &record.data,
        };
        Ok(serde_json::to_string(&payload)?)
    }

    /// The cookie is the session: any change to it, even a new last-seen time, is a new cookie.
    fn cookie_changes(&self, before: &Record, after: &Record) -> bool {
        before != after
    }

    async fn load(
        &self,
        plaintext: &str,
        _now: OffsetDateTime,
        _statements: &mut Statements,
    ) -> Result<Loaded, StoreError> {
        // Expiry is checked by the layer, for both modes alike, from the times decoded here.
        Ok(match decode_payload(plaintext) {
            Some(record) => Loaded::Found(record),
            None => Loaded::Refused(Refusal::Malformed),
        })
    }

    async fn commit(
        &self,
        _change: Change<'_>,
        _deadlines: Deadlines,
        _statements: &mut Statements,
    ) -> Result<Committed, StoreError> {
        // The cookie sent with the response was the write; there is nothing else to keep.
        Ok(Committed::Saved)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payload_round_trips_and_junk_is_refused() {
        let now = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        let mut r = Record::new(now, None);
        r.data.insert("color".into(), Value::from("red"));
        r.user_id = Some(7);
        let text = CookieStore.cookie_plaintext(&r).unwrap();
        assert_eq!(decode_payload(&text), Some(r));
        for junk in [
            "",
            "{}",
            "null",
            r#"{"v":1,"iat":1,"seen":1,"data":{}}"#,
            r#"{"v":2,"iat":5,"seen":1,"data":{}}"#,
        ] {
            assert_eq!(decode_payload(junk), None, "{junk}");
        }
    }
}
