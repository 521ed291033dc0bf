//! Cookie mode's store: the key is the whole session, as a versioned JSON payload, so the cookie
//! that carries the key is the session.
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

use super::{Done, Loaded, Op, Record, Refusal, Saved, SessionStore, StoreError, Traits, Write};
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
    fn traits(&self) -> Traits {
        // Only with the deny-list does a logout kill copies: otherwise the server kept nothing it
        // could mark.
        Traits {
            keeps_sessions: false,
            holds_data: false,
            ends_copies: self.denylist().is_some(),
            revocation: Some(self.revocation),
        }
    }

    /// The record itself, as the versioned payload the cookie seals. With the deny-list a session
    /// also gets a random name (128 bits), new at each login, which a logout records.
    fn key(&self, record: &mut Record, renew: bool) -> Result<String, StoreError> {
        if self.denylist().is_some() && (renew || record.id.is_none()) {
            record.id = Some(random_token(16));
        }
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

    /// Only the deny-list reaches the database: its check on load, and the record of a logged-in
    /// session that ends.
    fn reaches_backend(&self, op: Op<'_>) -> bool {
        self.denylist().is_some()
            && match op {
                Op::Load(_) | Op::Sweep => true,
                Op::Save(write) => revoked_by(write).is_some(),
                Op::Index => false,
            }
    }

    async fn load(&self, key: &str, _now: OffsetDateTime) -> Result<Done<Loaded>, StoreError> {
        // Expiry is checked by the layer, for every store alike, from the times decoded here.
        let Some(record) = decode_payload(key) else {
            return Ok(Done::local(Loaded::Refused(Refusal::Malformed)));
        };
        let Some(pool) = self.denylist() else {
            return Ok(Done::local(Loaded::Found(record)));
        };
        // The price of revoking a client-side session: one indexed read on every request.
        let Some(id) = record.id.as_deref() else {
            // Sealed before the deny-list was switched on: it could never be revoked.
            return Ok(Done::local(Loaded::Refused(Refusal::Malformed)));
        };
        let revoked: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM revoked_sessions WHERE id = $1)")
                .bind(id)
                .fetch_one(pool)
                .await?;
        Ok(Done::sql(if revoked {
            Loaded::Refused(Refusal::Revoked)
        } else {
            Loaded::Found(record)
        }))
    }

    /// The cookie sent with the response was the write. With the deny-list, a logged-in session
    /// that ends (logout) or is replaced (login) is recorded, so every copy of it is refused.
    async fn save(&self, write: Write<'_>) -> Result<Done<Saved>, StoreError> {
        let (Some(pool), Some(ended)) = (self.denylist(), revoked_by(&write)) else {
            return Ok(Done::local(Saved::Saved));
        };
        let Some(id) = ended.id.as_deref() else {
            return Ok(Done::local(Saved::Saved));
        };
        sqlx::query(
            "INSERT INTO revoked_sessions (id, expires_at) VALUES ($1, $2) \
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(id)
        .bind(ended.created_at.saturating_add(self.absolute))
        .execute(pool)
        .await?;
        Ok(Done::sql(Saved::Saved))
    }

    fn sweeps(&self) -> bool {
        self.denylist().is_some()
    }

    /// Deny-list entries past the last moment a copy could have been valid.
    async fn sweep(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        let Some(pool) = self.denylist() else {
            return Ok(0);
        };
        super::server::sweep_table(
            pool,
            "DELETE FROM revoked_sessions WHERE id IN (SELECT id FROM revoked_sessions \
             WHERE expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)",
            now,
        )
        .await
    }
}

/// The session a write ends that the deny-list must record: a logged-in one, logged out or
/// replaced by a login. Only a login is worth revoking: a copy of an anonymous session grants
/// nothing the copier could not get with no cookie at all, and recording those let anyone grow the
/// table by a row per request (a color, then a logout). What one address may add is bounded
/// before the write (`denylist_address_burst`).
fn revoked_by<'a>(write: &Write<'a>) -> Option<&'a Record> {
    let ended = match *write {
        Write::Delete { record, .. } => record,
        Write::Renew { old, .. } => old,
        _ => return None,
    };
    ended.user_id.map(|_| ended)
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
        let text = store.key(&mut r.clone(), false).unwrap();
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
