//! `/labs/…`: pages that stage the attacks the guide (docs/guide/devtools.md) describes — a copied cookie replayed, a
//! tampered one sent — and show what the app makes of them, in both modes.
//!
//! The labs only look: they open cookie values the way a request would and report the outcome.
//! They never write a session; the lab actions that set the session cookie ("put the copy back",
//! "send the stored key") do it on purpose, and say so. The eviction lab deletes one Redis key,
//! this browser's own, as Redis itself would.

mod dump;
mod encodings;
mod evict;
mod outage;
mod replay;
mod tamper;

pub fn routes() -> Vec<rocket::Route> {
    [
        replay::routes(),
        tamper::routes(),
        outage::routes(),
        evict::routes(),
        dump::routes(),
    ]
    .concat()
}

/// The first characters of a cookie value: enough to recognise it, not a credential to copy.
pub(crate) fn start_of(value: &str) -> String {
    let start: String = value.chars().take(16).collect();
    if start.len() < value.len() {
        format!("{start}…")
    } else {
        start
    }
}
