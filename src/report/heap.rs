//! What a report holds on the heap, in bytes as the allocator hands them out: the estimate the
//! shelf's `report_max_bytes` is counted in.
//!
//! Every field of a report is named where it is counted, so a field added to one cannot escape
//! the estimate. Measured against RSS (a flood of reports from many addresses, release build):
//! the process grew 1.0 to 1.25 times what the estimate said (16 MiB and 64 MiB bounds) — most
//! likely freed request memory the allocator cannot hand back from between reports that stay.

use std::mem::size_of;

use super::Told;
use crate::cookies::wire::{SentCookie, SetCookieLine};
use crate::cookies::Exchange;
use crate::session::summary::AccountChange;
use crate::session::Summary;

/// The bytes a value holds on the heap.
pub trait Heap {
    fn heap(&self) -> usize;
}

/// The bytes an allocation of `n` takes from glibc's malloc: an 8-byte header, rounded up to 16,
/// at least 32.
pub fn allocation(n: usize) -> usize {
    match n {
        0 => 0,
        n => (n + 8).div_ceil(16).max(2) * 16,
    }
}

impl Heap for String {
    fn heap(&self) -> usize {
        allocation(self.capacity())
    }
}

impl Heap for usize {
    fn heap(&self) -> usize {
        0
    }
}

impl<T: Heap> Heap for Vec<T> {
    fn heap(&self) -> usize {
        allocation(self.capacity() * size_of::<T>()) + self.iter().map(Heap::heap).sum::<usize>()
    }
}

impl<T: Heap> Heap for Option<T> {
    fn heap(&self) -> usize {
        self.as_ref().map_or(0, Heap::heap)
    }
}

impl<A: Heap, B: Heap> Heap for (A, B) {
    fn heap(&self) -> usize {
        self.0.heap() + self.1.heap()
    }
}

impl Heap for Told {
    fn heap(&self) -> usize {
        let Told {
            request,
            own,
            siblings,
            exchange,
        } = self;
        request.heap() + own.heap() + siblings.heap() + exchange.heap()
    }
}

impl Heap for Summary {
    fn heap(&self) -> usize {
        // Every field named, so that a field added to the summary cannot escape the estimate.
        let Summary {
            mode: _,
            load: _,
            opened: _,
            accessed: _,
            cookie_came: _,
            refused: _,
            change: _,
            outcome: _,
            keys,
            account,
            user_before: _,
            user_after: _,
            trips: _,
            checked: _,
            cookie: _,
            cookie_name: _,
            data_bytes: _,
            keeps_sessions: _,
            ends_copies: _,
            copy_valid_until: _,
            notes,
        } = self;
        let account = match account {
            Some(AccountChange::In { name }) => name.heap(),
            _ => 0,
        };
        keys.heap() + account + notes.heap()
    }
}

impl Heap for Exchange {
    fn heap(&self) -> usize {
        let Exchange {
            status: _,
            reason: _,
            sent,
            answered,
        } = self;
        sent.heap() + answered.heap()
    }
}

impl Heap for SentCookie {
    fn heap(&self) -> usize {
        let SentCookie {
            name,
            bytes: _,
            session: _,
            purpose: _,
        } = self;
        name.heap()
    }
}

impl Heap for SetCookieLine {
    fn heap(&self) -> usize {
        let SetCookieLine {
            name,
            bytes: _,
            line,
            removes: _,
            session: _,
            purpose: _,
        } = self;
        name.heap() + line.heap()
    }
}
