//! What the session layer did for one request, as one typed record — published once per request to
//! whoever reacts to it (the "what just happened" reports, the exercises), and the source of the
//! `Session-Trace` header. Facts only: the pages word them (templates), the exercises recognise
//! them; nothing here is HTML.

use serde::Serialize;

use super::layer::SessionLayer;
use super::record::{Deadlines, Refusal};
use super::state::{Inner, Outgoing};
use super::store::{Traits, Trips, Write};
use crate::settings::Mode;

/// `Session-Trace`'s `load`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Load {
    /// No session cookie, or the handler never touched the session.
    None,
    /// A valid session was loaded.
    Hit,
    /// A cookie came but was refused — or could not be checked (its store was unreachable).
    Miss,
}

/// What the store was asked to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Change {
    Insert,
    Update,
    /// A new identity (a login): a new key, the old one dead.
    Renew,
    /// Only the idle deadline moved.
    Refresh,
    Delete,
}

/// What became of the change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Not decided yet: the page is still being made (its own footer's report).
    Pending,
    /// Nothing to do, or done.
    Kept,
    /// The session was deleted while the request ran: the change was not kept (409).
    Gone,
    /// The store could not be reached: the change was not kept (503).
    Unavailable,
    /// The store failed otherwise: the change was not kept (500).
    Failed,
}

/// What the response tells the browser about the session cookie.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum CookieAction {
    Keep,
    Set { bytes: usize },
    Remove,
}

/// The account the session belongs to, when that changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "way", rename_all = "kebab-case")]
pub enum AccountChange {
    /// Logged in, as `name` when the map says.
    In {
        name: Option<String>,
    },
    Out,
}

/// One request's session, in facts.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub mode: Mode,
    pub load: Load,
    /// The handler opened the session (`load=none` also when it never did).
    pub opened: bool,
    /// The handler read or wrote the session (so the page shows session data).
    pub accessed: bool,
    pub cookie_came: bool,
    #[serde(serialize_with = "refusal_name")]
    pub refused: Option<Refusal>,
    pub change: Option<Change>,
    pub outcome: Outcome,
    /// Session keys added, changed or removed.
    pub keys: Vec<String>,
    pub account: Option<AccountChange>,
    pub user_before: Option<i64>,
    pub user_after: Option<i64>,
    pub trips: Trips,
    /// The revocation check that passed (`epoch` or `denylist`).
    pub checked: Option<&'static str>,
    pub cookie: CookieAction,
    /// The session cookie's name in this mode.
    pub cookie_name: &'static str,
    /// The session's data as JSON, in bytes, after a change that was kept.
    pub data_bytes: Option<usize>,
    /// Whether the server keeps sessions as rows, and whether ending one kills its copies.
    pub keeps_sessions: bool,
    pub ends_copies: bool,
    /// After a session ended whose copies live on (cookie mode without the deny-list): until when
    /// an unused copy works (idle), and the latest it can (absolute).
    #[serde(skip)]
    pub copy_valid_until: Option<Deadlines>,
    /// What handlers said about the request, in words.
    pub notes: Vec<String>,
}

fn refusal_name<S: serde::Serializer>(r: &Option<Refusal>, s: S) -> Result<S::Ok, S::Error> {
    match r {
        Some(r) => s.serialize_some(r.as_str()),
        None => s.serialize_none(),
    }
}

impl Summary {
    /// A request that did nothing with its session (no cookie came, nothing was touched).
    pub fn nothing(mode: Mode, cookie_name: &'static str) -> Summary {
        Summary {
            mode,
            load: Load::None,
            opened: false,
            accessed: false,
            cookie_came: false,
            refused: None,
            change: None,
            outcome: Outcome::Kept,
            keys: Vec::new(),
            account: None,
            user_before: None,
            user_after: None,
            trips: Trips::default(),
            checked: None,
            cookie: CookieAction::Keep,
            cookie_name,
            data_bytes: None,
            keeps_sessions: false,
            ends_copies: false,
            copy_valid_until: None,
            notes: Vec::new(),
        }
    }

    /// The facts of `inner` as they stand (before the write, for a page's own footer; after it,
    /// with the outcome set, for everything else).
    pub(super) fn of(inner: &Inner, layer: &SessionLayer, cookie_name: &'static str) -> Summary {
        let change = inner.write(|r| layer.deadlines(r)).map(|w| match w {
            Write::Create { .. } => Change::Insert,
            Write::Update { .. } => Change::Update,
            Write::Renew { .. } => Change::Renew,
            Write::Touch { .. } => Change::Refresh,
            Write::Delete { .. } => Change::Delete,
        });
        let user_before = inner.stored_record().and_then(|r| r.user_id);
        let user_after = inner.current_record().and_then(|r| r.user_id);
        let traits: Traits = layer.traits();
        Summary {
            mode: layer.mode(),
            load: load(inner),
            opened: inner.loaded,
            accessed: inner.accessed,
            cookie_came: inner.cookie_came,
            refused: inner.refused,
            change,
            outcome: Outcome::Pending,
            keys: changed_keys(inner),
            account: account_change(inner, user_before, user_after),
            user_before,
            user_after,
            trips: inner.trips,
            checked: inner.checked,
            cookie: match &inner.outgoing {
                Outgoing::Keep => CookieAction::Keep,
                Outgoing::Set(sealed) => CookieAction::Set {
                    bytes: sealed.bytes,
                },
                Outgoing::Remove => CookieAction::Remove,
            },
            cookie_name,
            data_bytes: None,
            keeps_sessions: traits.keeps_sessions,
            ends_copies: traits.ends_copies,
            copy_valid_until: None,
            notes: inner.notes.clone(),
        }
    }

    /// The change was stored, or there was none to store.
    pub fn kept(&self) -> bool {
        self.outcome == Outcome::Kept
    }

    /// New data or a new identity was saved (an insert, update or renew that was kept).
    pub fn saved(&self) -> bool {
        self.kept()
            && matches!(
                self.change,
                Some(Change::Insert | Change::Update | Change::Renew)
            )
    }

    /// The session that came was ended (logout, emptied) and that was kept.
    pub fn ended(&self) -> bool {
        self.kept() && self.change == Some(Change::Delete)
    }

    /// The session was created by this request (its first cookie), and that was kept.
    pub fn inserted(&self) -> bool {
        self.kept() && self.change == Some(Change::Insert)
    }

    /// The size of the new session cookie the response sets, as the browser counts it.
    pub fn cookie_sent(&self) -> Option<usize> {
        match self.cookie {
            CookieAction::Set { bytes } => Some(bytes),
            _ => None,
        }
    }

    /// The response removes the session cookie.
    pub fn cookie_removed(&self) -> bool {
        self.cookie == CookieAction::Remove
    }

    /// A session cookie came and opened to a live session.
    pub fn hit(&self) -> bool {
        self.load == Load::Hit
    }

    /// `Session-Trace`'s `save`: `write` (a row written or a new cookie sent, a sliding refresh
    /// included), `delete` (row deleted or cookie removed) or `none`.
    pub fn save(&self) -> &'static str {
        match (self.outcome, self.change) {
            (Outcome::Gone | Outcome::Unavailable | Outcome::Failed, _) => "none",
            (_, Some(Change::Delete)) => "delete",
            (_, Some(_)) => "write",
            (_, None) => match self.cookie {
                CookieAction::Keep => "none",
                CookieAction::Set { .. } => "write",
                CookieAction::Remove => "delete",
            },
        }
    }

    /// The `Session-Trace` header's value:
    /// `mode=server; load=hit; save=none; queries=1[; redis=N][; cache=…][; checked=…][; refused=…]`.
    pub fn trace(&self) -> String {
        let load = match self.load {
            Load::None => "none",
            Load::Hit => "hit",
            Load::Miss => "miss",
        };
        let mut trace = format!(
            "mode={}; load={load}; save={}; queries={}",
            self.mode.as_str(),
            self.save(),
            self.trips.sql
        );
        if self.trips.redis > 0 {
            trace.push_str(&format!("; redis={}", self.trips.redis));
        }
        if let Some(cache) = self.trips.cache {
            trace.push_str("; cache=");
            trace.push_str(cache.as_str());
        }
        if let Some(checked) = self.checked {
            trace.push_str("; checked=");
            trace.push_str(checked);
        }
        if let Some(why) = self.refused {
            trace.push_str("; refused=");
            trace.push_str(why.as_str());
        } else if self.cookie_came && !self.opened && self.load == Load::Miss {
            // The cookie came, but its store could not be reached to check it (an outage).
            trace.push_str("; store=unavailable");
        }
        trace
    }
}

/// `Session-Trace`'s `load`: `miss` also when a cookie came that the store could not check.
fn load(inner: &Inner) -> Load {
    match (&inner.refused, &inner.stored) {
        (Some(_), _) => Load::Miss,
        (None, Some(_)) => Load::Hit,
        (None, None) if inner.cookie_came && !inner.loaded => Load::Miss,
        (None, None) => Load::None,
    }
}

/// Whether the session's account changed: logged in (as whom, when the map says) or out.
fn account_change(inner: &Inner, before: Option<i64>, after: Option<i64>) -> Option<AccountChange> {
    match (before, after) {
        (b, Some(a)) if b != Some(a) => {
            let name = inner
                .current_record()
                .and_then(|r| r.data.get(crate::session_map_keys::USERNAME))
                .and_then(|v| v.as_str())
                .map(str::to_string);
            Some(AccountChange::In { name })
        }
        (Some(_), None) => Some(AccountChange::Out),
        _ => None,
    }
}

/// Keys whose values differ between the session as it came and as it leaves.
fn changed_keys(inner: &Inner) -> Vec<String> {
    let empty = serde_json::Map::new();
    let before = inner.stored_record().map_or(&empty, |r| &r.data);
    let after = inner.current_record().map_or(&empty, |r| &r.data);
    let mut keys: Vec<String> = before
        .iter()
        .filter(|(k, v)| after.get(*k) != Some(*v))
        .map(|(k, _)| k.clone())
        .chain(after.keys().filter(|k| !before.contains_key(*k)).cloned())
        .collect();
    keys.sort();
    keys
}
