//! One request's session bookkeeping: what came, what the handler changed, what must go out —
//! and from it, the one write the request makes. Kept per request (Rocket's request-local cache,
//! as tower-sessions keeps its `Session` in the request's extensions), shared by every guard of
//! the request and read by the layer's end-of-request step.

use tokio::sync::Mutex;

use super::layer::Sealed;
use super::record::{Deadlines, Record, Refusal};
use super::store::{Trips, Write};

/// Per-request state, one per mode (`--mode both`'s sibling has its own).
#[derive(Default)]
pub struct RequestState {
    pub(super) inner: Mutex<Inner>,
}

/// A session and the key its store files it under.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Filed {
    pub key: String,
    pub record: Record,
}

/// What the response must tell the browser about the session cookie.
#[derive(Debug, Default, Clone, PartialEq)]
pub(super) enum Outgoing {
    /// Nothing: the browser's cookie (or its lack of one) is right as it is.
    #[default]
    Keep,
    /// A new value, sealed when the handler made the change.
    Set(Sealed),
    /// Delete it.
    Remove,
}

#[derive(Default)]
pub(super) struct Inner {
    pub loaded: bool,
    /// A session cookie came with the request (whether or not it could be opened).
    pub cookie_came: bool,
    /// This request's handler touched the session (so the page shows session data).
    pub accessed: bool,
    /// Why the cookie that came was not used.
    pub refused: Option<Refusal>,
    /// The session as the request found it (server mode: a row with this id exists).
    pub stored: Option<Filed>,
    /// The session as this request leaves it.
    pub current: Option<Filed>,
    /// What the browser's cookie will carry once this response arrives.
    pub sent: Option<Filed>,
    /// `current` differs from `stored` in more than its last-seen time.
    pub dirty: bool,
    /// Only the idle deadline moved (a sliding refresh).
    pub touched: bool,
    /// The session was given a new key (a login).
    pub renewed: bool,
    /// The cookie was opened with a fallback key: re-seal it with the current key.
    pub reseal: bool,
    pub outgoing: Outgoing,
    /// Round trips run for the session and login state (`Session-Trace`).
    pub trips: Trips,
    /// The revocation check that passed, if one ran (`checked=epoch|denylist`).
    pub checked: Option<&'static str>,
    /// What handlers said about this request, for the report.
    pub notes: Vec<String>,
}

impl Inner {
    /// The one store write this request needs, if any, with the deadlines `deadlines` gives.
    pub fn write(&self, deadlines: impl Fn(&Record) -> Deadlines) -> Option<Write<'_>> {
        fn parts<'f>(
            f: &'f Filed,
            deadlines: &impl Fn(&Record) -> Deadlines,
        ) -> (&'f str, &'f Record, Deadlines) {
            (f.key.as_str(), &f.record, deadlines(&f.record))
        }
        let write = |f| parts(f, &deadlines);
        Some(match (&self.stored, &self.current) {
            (None, Some(new)) if self.dirty => {
                let (key, record, deadlines) = write(new);
                Write::Create {
                    key,
                    record,
                    deadlines,
                }
            }
            (Some(old), None) => Write::Delete {
                key: &old.key,
                record: &old.record,
            },
            (Some(old), Some(new)) if self.renewed => {
                let (key, record, deadlines) = write(new);
                Write::Renew {
                    old_key: &old.key,
                    old: &old.record,
                    key,
                    record,
                    deadlines,
                }
            }
            (Some(_), Some(new)) if self.dirty => {
                let (key, record, deadlines) = write(new);
                Write::Update {
                    key,
                    record,
                    deadlines,
                }
            }
            (Some(_), Some(new)) if self.touched => {
                let (key, record, deadlines) = write(new);
                Write::Touch {
                    key,
                    record,
                    deadlines,
                }
            }
            _ => return None,
        })
    }

    pub fn current_record(&self) -> Option<&Record> {
        self.current.as_ref().map(|f| &f.record)
    }

    pub fn stored_record(&self) -> Option<&Record> {
        self.stored.as_ref().map(|f| &f.record)
    }
}
