//! Cookie mode's store: the whole session, as a versioned JSON payload, is the cookie.
//!
//! The payload carries its own issued-at and last-seen times because the browser controls the
//! cookie's Max-Age: a copied cookie can be replayed forever unless the server reads the times from
//! inside the encryption and refuses old ones. What it cannot do is end a session early — the
//! server keeps nothing to delete (README: "Session lifetime, and ending sessions early")
//! — unless it keeps state again: with `cookie_revocation = "denylist"` each session carries a
//! random id, a logout of a logged-in session records it in `revoked_sessions`, and every load
//! reads that table.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sqlx::PgPool;
use time::{Duration, OffsetDateTime};

use super::store::{
    Change, Committed, Deadlines, Loaded, Record, Refusal, SessionStore, Statements, StoreError,
};
use crate::crypto::random_token;
use crate::settings::Revocation;

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
    /// The session's random id, with the deny-list only.
    #[serde(default)]
    sid: Option<String>,
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
    #[serde(skip_serializing_if = "Option::is_none")]
    sid: Option<&'a str>,
    data: &'a Map<String, Value>,
}

pub struct CookieStore {
    revocation: Revocation,
    /// For the deny-list only.
    pool: Option<PgPool>,
    /// A revoked id is remembered until the latest a copy could be valid: its absolute deadline.
    absolute: Duration,
}

impl CookieStore {
    /// A store whose sessions are ended early as `revocation` says; the deny-list needs `pool`.
    pub fn new(revocation: Revocation, pool: Option<PgPool>, absolute: Duration) -> CookieStore {
        let revocation = match (revocation, &pool) {
            (Revocation::Denylist, None) => Revocation::Epoch,
            (r, _) => r,
        };
        CookieStore {
            revocation,
            pool,
            absolute,
        }
    }

    fn denylist(&self) -> Option<&PgPool> {
        match self.revocation {
            Revocation::Denylist => self.pool.as_ref(),
            _ => None,
        }
    }
}

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
        id: p.sid,
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
    /// Only the deny-list needs a name for a cookie session: 128 random bits.
    fn new_id(&self) -> Option<String> {
        self.denylist().map(|_| random_token(16))
    }

    fn cookie_plaintext(&self, record: &Record) -> Result<String, StoreError> {
        let payload = PayloadRef {
            v: PAYLOAD_VERSION,
            iat: record.created_at.unix_timestamp(),
            seen: record.last_seen.unix_timestamp(),
            rem: record.remember,
            uid: record.user_id,
            sid: record.id.as_deref(),
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
        statements: &mut Statements,
    ) -> Result<Loaded, StoreError> {
        // Expiry is checked by the layer, for both modes alike, from the times decoded here.
        let Some(record) = decode_payload(plaintext) else {
            return Ok(Loaded::Refused(Refusal::Malformed));
        };
        let Some(pool) = self.denylist() else {
            return Ok(Loaded::Found(record));
        };
        // The price of revoking a client-side session: one indexed read on every request.
        let Some(id) = record.id.as_deref() else {
            // Sealed before the deny-list was switched on: it could never be revoked.
            return Ok(Loaded::Refused(Refusal::Malformed));
        };
        statements.begin()?;
        let revoked: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM revoked_sessions WHERE id = $1)")
                .bind(id)
                .fetch_one(pool)
                .await?;
        Ok(if revoked {
            Loaded::Refused(Refusal::Revoked)
        } else {
            statements.checked = Some("denylist");
            Loaded::Found(record)
        })
    }

    async fn commit(
        &self,
        change: Change<'_>,
        _deadlines: Deadlines,
        statements: &mut Statements,
    ) -> Result<Committed, StoreError> {
        // The cookie sent with the response was the write. With the deny-list, a session that
        // ends (logout) or is replaced (login) is recorded, so every copy of it is refused.
        let ended = match change {
            Change::Delete(old) | Change::Replace { old, .. } => old,
            _ => return Ok(Committed::Saved),
        };
        // Only a login is worth revoking: a copy of an anonymous session grants nothing the
        // copier could not get with no cookie at all, and recording those let anyone grow the
        // table by a row per request (a color, then a logout). What one address may add is
        // bounded before the write (`denylist_address_burst`).
        if ended.user_id.is_none() {
            return Ok(Committed::Saved);
        }
        let (Some(pool), Some(id)) = (self.denylist(), ended.id.as_deref()) else {
            return Ok(Committed::Saved);
        };
        statements.begin()?;
        sqlx::query(
            "INSERT INTO revoked_sessions (id, expires_at) VALUES ($1, $2) \
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(id)
        .bind(ended.created_at.saturating_add(self.absolute))
        .execute(pool)
        .await?;
        Ok(Committed::Saved)
    }

    /// Only with the deny-list: otherwise the server kept nothing it could mark.
    fn ends_copies(&self) -> bool {
        self.denylist().is_some()
    }

    fn revocation(&self) -> Option<Revocation> {
        Some(self.revocation)
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
        let store = CookieStore::new(Revocation::Epoch, None, Duration::days(14));
        let text = store.cookie_plaintext(&r).unwrap();
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
