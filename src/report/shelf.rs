//! The report shelf: "what just happened" reports waiting in this process's memory for the page a
//! redirect lands on, bounded so that no client can push out another browser's unread report, nor
//! grow the shelf without end by never following its redirects.
//!
//! A report is kept under a random token (its browser holds that token, sealed, in the
//! `report_<mode>` cookie) for `report_keep_seconds` on the app's [`Clock`], and filed under the
//! browser that made the request: the token of its CSRF cookie — which only this server can seal,
//! and which every form POST must carry — or, for a request without one (a GET whose session
//! cookie was refused), its client address. Before each report is kept, the bounds are made room
//! for, each time by taking the oldest report of one browser:
//!
//! - **per browser** (`report_max_per_browser`): a browser's cookie names only its newest report,
//!   so past the bound its own oldest goes. A client posting as fast as it can with one CSRF
//!   cookie — a load generator that ignores `Set-Cookie` — only ever replaces its own reports.
//! - **per address** (`report_max_per_address`): a client can fetch a new CSRF cookie for every
//!   POST and pose as many browsers, but only this many reports' worth from one address; past it,
//!   the browser at that address holding the most gives one up.
//! - **in all**, by count (`report_max_kept`) and by estimated bytes (`report_max_bytes`): the
//!   browser holding the most, wherever it is, gives one up — never a browser that holds only its
//!   newest while another holds more. Between browsers holding as many, the older report goes: a
//!   redirect is followed within milliseconds, so the oldest is the likeliest abandoned.
//!
//! Browsers are ranked in ordered sets (most reports first, then oldest report), so each bound
//! costs O(log n) per report kept or taken: nothing is scanned, however full the shelf.
//!
//! What this does not stop: a client with many addresses (an IPv6 block counts as one /64, see
//! [`ClientAddr`]) that fetches a fresh CSRF cookie before each POST competes as many browsers
//! holding one report each, and pushes out the oldest reports of everyone holding one — within
//! `report_max_bytes`, which keeps the memory fixed.

use std::cmp::Reverse;
use std::collections::hash_map::RandomState;
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::hash::BuildHasher;
use std::mem::size_of;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::Rng;
use rocket::Request;
use time::{Duration, OffsetDateTime};

use crate::clock::Clock;
use crate::cookies::Jar;
use crate::throttle::ClientAddr;

use super::Told;
use crate::settings::Settings;

use super::heap::{allocation, Heap};

/// The shelf's bounds: the settings of the same names (README, settings table). A bound of 0
/// keeps nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    /// `report_keep_seconds`: how long a report waits to be read.
    pub keep_seconds: u64,
    /// `report_max_kept`: the most reports in all.
    pub max_kept: usize,
    /// `report_max_bytes`: the most estimated bytes in all (see [`ReportShelf::bytes`]).
    pub max_bytes: usize,
    /// `report_max_per_browser`: the most reports one browser holds.
    pub per_browser: usize,
    /// `report_max_per_address`: the most reports held for one client address.
    pub per_address: usize,
}

impl Bounds {
    pub fn of(settings: &Settings) -> Bounds {
        Bounds {
            keep_seconds: settings.report_keep_seconds,
            max_kept: settings.report_max_kept,
            max_bytes: settings.report_max_bytes,
            per_browser: settings.report_max_per_browser,
            per_address: settings.report_max_per_address,
        }
    }
}

/// Who a report is kept for, as the request shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Browser {
    /// The token of its CSRF cookie, when one came and decrypted.
    csrf: Option<String>,
    /// Its client address (an IPv6 /64 as one).
    address: IpAddr,
}

impl Browser {
    pub fn new(csrf: Option<String>, address: IpAddr) -> Browser {
        Browser { csrf, address }
    }

    /// The browser that sent `req`: its CSRF cookie as it came (not one the response renews),
    /// and the address the throttles count it against.
    pub fn of(req: &Request<'_>) -> Browser {
        Browser::new(
            Jar::of(req).and_then(|jar| crate::csrf::cookie_token(req, jar)),
            ClientAddr::of(req).0,
        )
    }
}

/// Managed state: the reports waiting for the page a redirect lands on, by token.
pub struct ReportShelf {
    bounds: Bounds,
    clock: Arc<Clock>,
    /// Keys the hash a CSRF token is filed under: the token itself is not kept, and a client
    /// that does not know the key cannot aim its token at another browser's.
    hasher: RandomState,
    shelf: Mutex<Shelf>,
}

impl ReportShelf {
    pub fn new(bounds: Bounds, clock: Arc<Clock>) -> ReportShelf {
        ReportShelf {
            bounds,
            clock,
            hasher: RandomState::new(),
            shelf: Mutex::default(),
        }
    }

    /// A new token: 128 random bits, base64url — unguessable, and sealed in its cookie besides.
    pub fn new_token() -> String {
        let mut bytes = [0u8; 16];
        rand::rng().fill_bytes(&mut bytes);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// Keeps `told` for `browser` under `token` (one of [`ReportShelf::new_token`]), first making
    /// room as the module says. False when it cannot be kept (a bound of 0, a report larger than
    /// `report_max_bytes`, a token not made here, or a panic poisoned the shelf): the landing page
    /// then says the report is gone.
    pub fn keep(&self, browser: Browser, token: String, told: Told) -> bool {
        let b = self.bounds;
        let bytes = estimate(&told);
        let Some(key) = token_key(&token) else {
            return false;
        };
        if b.max_kept == 0 || b.per_browser == 0 || b.per_address == 0 || bytes > b.max_bytes {
            return false;
        }
        let holder = Holder {
            address: browser.address,
            browser: browser.csrf.map(|t| self.hasher.hash_one(t)),
        };
        let now = self.clock.now();
        let Ok(mut shelf) = self.shelf.lock() else {
            return false;
        };
        shelf.expire(self.cutoff(now));
        if let Some(&number) = shelf.tokens.get(&key) {
            shelf.remove(number);
        }
        // Its own first: past its bound a browser only replaces its own reports...
        while shelf.holders.get(&holder).map_or(0, VecDeque::len) >= b.per_browser {
            if !shelf.give_up(Some(holder)) {
                break;
            }
        }
        // ...then its address's: the browser there holding the most...
        while let Some(at) = shelf.addresses.get(&holder.address) {
            if at.kept < b.per_address {
                break;
            }
            let richest = at.ranks.first().map(|&(_, _, h)| h);
            if !shelf.give_up(richest) {
                break;
            }
        }
        // ...then everyone's: the browser holding the most, anywhere.
        while shelf.reports.len() >= b.max_kept || shelf.bytes + bytes > b.max_bytes {
            let richest = shelf.ranks.first().map(|&(_, _, h)| h);
            if !shelf.give_up(richest) {
                break;
            }
        }
        shelf.insert(Kept {
            key,
            holder,
            at: now,
            bytes,
            told: Box::new(told),
        });
        true
    }

    /// Takes the report kept under `token`, once. `None` when it is gone: older than
    /// `report_keep_seconds`, pushed out to make room, or kept by another process.
    pub fn take(&self, token: &str) -> Option<Told> {
        let key = token_key(token)?;
        let now = self.clock.now();
        let mut shelf = self.shelf.lock().ok()?;
        // Expired reports go here too, so memory comes back after a flood once anyone reads.
        shelf.expire(self.cutoff(now));
        let number = *shelf.tokens.get(&key)?;
        shelf.remove(number).map(|kept| *kept.told)
    }

    /// How many reports are kept now.
    pub fn len(&self) -> usize {
        self.shelf.lock().map_or(0, |s| s.reports.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The estimated bytes kept now, which `report_max_bytes` bounds: each report (its box, and
    /// the strings and vectors it holds, as the allocator rounds them), plus its entries in the
    /// shelf's indexes.
    pub fn bytes(&self) -> usize {
        self.shelf.lock().map_or(0, |s| s.bytes)
    }

    /// The latest keep time that has expired by `now`; `None` (nothing has) when
    /// `report_keep_seconds` reaches back past the calendar's start.
    fn cutoff(&self, now: OffsetDateTime) -> Option<OffsetDateTime> {
        let keep = i64::try_from(self.bounds.keep_seconds).ok()?;
        now.checked_sub(Duration::seconds(keep))
    }
}

/// A token as the shelf files it: its 128 bits. `None` for anything [`ReportShelf::new_token`]
/// could not have made.
fn token_key(token: &str) -> Option<u128> {
    let bytes: [u8; 16] = URL_SAFE_NO_PAD.decode(token).ok()?.try_into().ok()?;
    Some(u128::from_le_bytes(bytes))
}

/// A browser as the shelf files it: its address, and a keyed hash of its CSRF token (`None`: no
/// CSRF cookie came, and the address speaks for it). A browser that moves to another address is
/// another holder there: only its newest report can be read, and that one is filed where it was
/// made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Holder {
    address: IpAddr,
    browser: Option<u64>,
}

/// A holder's place in the line to give up a report: the most reports first, then the holder
/// whose oldest report is oldest (reports are numbered in the order they were kept).
type Rank = (Reverse<usize>, u64, Holder);

struct Kept {
    key: u128,
    holder: Holder,
    at: OffsetDateTime,
    bytes: usize,
    /// Boxed: a report is some hundreds of bytes inline (most of it its summary's), and the
    /// B-tree's nodes, which run part empty, then hold only the pointer.
    told: Box<Told>,
}

/// The reports kept at one address, and its holders in line.
#[derive(Default)]
struct Address {
    kept: usize,
    ranks: BTreeSet<Rank>,
}

#[derive(Default)]
struct Shelf {
    /// Each token's report number.
    tokens: HashMap<u128, u64>,
    /// The reports by number: the order they were kept, so expiry takes from the front.
    reports: BTreeMap<u64, Kept>,
    /// Each holder's report numbers, oldest first.
    holders: HashMap<Holder, VecDeque<u64>>,
    /// Every holder in line.
    ranks: BTreeSet<Rank>,
    addresses: HashMap<IpAddr, Address>,
    /// The estimated bytes of every report kept.
    bytes: usize,
    next: u64,
}

impl Shelf {
    fn rank(&self, holder: Holder) -> Option<Rank> {
        let numbers = self.holders.get(&holder)?;
        Some((Reverse(numbers.len()), *numbers.front()?, holder))
    }

    /// Takes `holder` out of line while its reports change; [`Shelf::rejoin`] puts it back.
    fn leave(&mut self, holder: Holder) {
        if let Some(rank) = self.rank(holder) {
            self.ranks.remove(&rank);
            if let Some(at) = self.addresses.get_mut(&holder.address) {
                at.ranks.remove(&rank);
            }
        }
    }

    fn rejoin(&mut self, holder: Holder) {
        if let Some(rank) = self.rank(holder) {
            self.ranks.insert(rank);
            self.addresses
                .entry(holder.address)
                .or_default()
                .ranks
                .insert(rank);
        }
    }

    fn insert(&mut self, kept: Kept) {
        let number = self.next;
        self.next += 1;
        let holder = kept.holder;
        self.leave(holder);
        self.holders.entry(holder).or_default().push_back(number);
        self.addresses.entry(holder.address).or_default().kept += 1;
        self.bytes += kept.bytes;
        self.tokens.insert(kept.key, number);
        self.reports.insert(number, kept);
        self.rejoin(holder);
    }

    fn remove(&mut self, number: u64) -> Option<Kept> {
        let kept = self.reports.remove(&number)?;
        self.tokens.remove(&kept.key);
        self.bytes = self.bytes.saturating_sub(kept.bytes);
        let holder = kept.holder;
        self.leave(holder);
        if let Some(numbers) = self.holders.get_mut(&holder) {
            // At most `report_max_per_browser` long, and usually it is the front.
            numbers.retain(|&n| n != number);
            if numbers.is_empty() {
                self.holders.remove(&holder);
            }
        }
        if let Some(at) = self.addresses.get_mut(&holder.address) {
            at.kept = at.kept.saturating_sub(1);
            if at.kept == 0 {
                self.addresses.remove(&holder.address);
            }
        }
        self.rejoin(holder);
        Some(kept)
    }

    /// Drops `holder`'s oldest report. False when there is none to drop.
    fn give_up(&mut self, holder: Option<Holder>) -> bool {
        let oldest = holder
            .and_then(|h| self.holders.get(&h))
            .and_then(|numbers| numbers.front().copied());
        oldest.and_then(|n| self.remove(n)).is_some()
    }

    /// Drops every report kept at or before `cutoff`.
    fn expire(&mut self, cutoff: Option<OffsetDateTime>) {
        let Some(cutoff) = cutoff else {
            return;
        };
        while let Some((&number, kept)) = self.reports.first_key_value() {
            if kept.at > cutoff {
                break;
            }
            self.remove(number);
        }
    }
}

/// What keeping a report costs besides the report itself: its entry in each index (token, number,
/// its holder's queue, two lines), counted twice because hash tables and B-tree nodes run part
/// empty; and a holder's and an address's entries, as if every report had its own.
const PER_REPORT: usize = 2
    * (size_of::<(u128, u64)>()
        + size_of::<(u64, Kept)>()
        + size_of::<u64>()
        + 2 * size_of::<Rank>())
    + size_of::<(Holder, VecDeque<u64>)>()
    + size_of::<(IpAddr, Address)>();

/// The bytes keeping `told` costs: its box, what it holds, and its place in the indexes.
fn estimate(told: &Told) -> usize {
    allocation(size_of::<Told>()) + told.heap() + PER_REPORT
}

pub mod shared;

#[cfg(test)]
mod tests;
