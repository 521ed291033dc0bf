//! The shelf's bounds and fairness, each on a shelf of its own with a clock the test moves.

use super::*;
use crate::cookies::Exchange;
use crate::session::Summary;
use crate::settings::Mode;

const KEEP: u64 = 60;

fn bounds() -> Bounds {
    Bounds {
        keep_seconds: KEEP,
        max_kept: 10_000,
        max_bytes: 64 * 1024 * 1024,
        per_browser: 3,
        per_address: 64,
    }
}

fn shelf(bounds: Bounds) -> (ReportShelf, Arc<Clock>) {
    let clock = Arc::new(Clock::manual());
    (ReportShelf::new(bounds, clock.clone()), clock)
}

fn told(request: &str) -> Told {
    Told {
        request: request.into(),
        own: Summary::nothing(Mode::Server, "session_id"),
        siblings: Vec::new(),
        exchange: Exchange::default(),
    }
}

fn address(a: &str) -> IpAddr {
    a.parse().unwrap()
}

/// A browser with a CSRF cookie of its own.
fn browser(name: &str, at: &str) -> Browser {
    Browser::new(Some(format!("csrf-of-{name}")), address(at))
}

/// Keeps a report for `who`, returning its token.
fn keep(shelf: &ReportShelf, who: &Browser, request: &str) -> String {
    let token = ReportShelf::new_token();
    assert!(shelf.keep(who.clone(), token.clone(), told(request)));
    token
}

fn taken(shelf: &ReportShelf, token: &str) -> Option<String> {
    shelf.take(token).map(|t| t.request)
}

#[test]
fn a_kept_report_is_taken_once() {
    let (shelf, _) = shelf(bounds());
    let token = ReportShelf::new_token();
    assert_eq!(token.len(), 22, "128 bits, base64url");
    assert!(shelf.keep(
        browser("a", "192.0.2.1"),
        token.clone(),
        told("POST /color")
    ));
    assert_eq!(taken(&shelf, &token).as_deref(), Some("POST /color"));
    assert_eq!(taken(&shelf, &token), None);
    assert!(shelf.is_empty());
    assert_eq!(shelf.bytes(), 0, "taking gives its bytes back");
}

#[test]
fn nothing_is_kept_with_a_bound_of_zero() {
    for zero in [
        Bounds {
            max_kept: 0,
            ..bounds()
        },
        Bounds {
            max_bytes: 0,
            ..bounds()
        },
        Bounds {
            per_browser: 0,
            ..bounds()
        },
        Bounds {
            per_address: 0,
            ..bounds()
        },
    ] {
        let (shelf, _) = shelf(zero);
        let token = ReportShelf::new_token();
        assert!(!shelf.keep(browser("a", "192.0.2.1"), token, told("POST /color")));
        assert!(shelf.is_empty(), "{zero:?}");
    }
}

#[test]
fn a_token_the_shelf_did_not_make_finds_nothing() {
    let (shelf, _) = shelf(bounds());
    keep(&shelf, &browser("a", "192.0.2.1"), "POST /color");
    assert_eq!(taken(&shelf, "not a token"), None);
    assert_eq!(taken(&shelf, &ReportShelf::new_token()), None);
    assert!(!shelf.keep(browser("a", "192.0.2.1"), "short".into(), told("POST /")));
    assert_eq!(shelf.len(), 1);
}

#[test]
fn a_browser_keeps_only_its_newest_reports() {
    let (shelf, _) = shelf(bounds());
    let me = browser("me", "192.0.2.1");
    let tokens: Vec<String> = (0..5)
        .map(|i| keep(&shelf, &me, &format!("POST /{i}")))
        .collect();
    assert_eq!(shelf.len(), 3);
    assert_eq!(taken(&shelf, &tokens[0]), None);
    assert_eq!(taken(&shelf, &tokens[1]), None);
    assert_eq!(taken(&shelf, &tokens[4]).as_deref(), Some("POST /4"));
    assert_eq!(taken(&shelf, &tokens[2]).as_deref(), Some("POST /2"));
}

#[test]
fn a_victims_unread_report_survives_11000_keeps_by_another_browser() {
    let (shelf, _) = shelf(bounds());
    let victim = keep(&shelf, &browser("victim", "192.0.2.1"), "POST /color");
    // The flooder posts from the victim's address (one NAT) and from another one.
    let here = browser("flooder", "192.0.2.1");
    let there = browser("flooder", "198.51.100.7");
    for i in 0..11_000 {
        let at = if i % 2 == 0 { &here } else { &there };
        keep(&shelf, at, "POST /session/fast-forward");
    }
    assert_eq!(
        shelf.len(),
        1 + 3 + 3,
        "the flooder holds its newest, per address"
    );
    assert_eq!(taken(&shelf, &victim).as_deref(), Some("POST /color"));
}

#[test]
fn a_client_without_a_csrf_cookie_cannot_grow_the_shelf_past_its_address_bound() {
    let (shelf, _) = shelf(Bounds {
        per_browser: 100,
        per_address: 5,
        ..bounds()
    });
    let elsewhere = keep(&shelf, &browser("victim", "198.51.100.7"), "POST /color");
    let no_cookie = Browser::new(None, address("192.0.2.1"));
    for _ in 0..1_000 {
        keep(&shelf, &no_cookie, "GET /color");
    }
    assert_eq!(shelf.len(), 1 + 5);
    // A new CSRF cookie before every POST poses as many browsers, but one address still
    // holds no more than its bound.
    for i in 0..1_000 {
        keep(
            &shelf,
            &browser(&format!("mint{i}"), "192.0.2.1"),
            "POST /color",
        );
    }
    assert_eq!(shelf.len(), 1 + 5);
    assert_eq!(taken(&shelf, &elsewhere).as_deref(), Some("POST /color"));
}

#[test]
fn at_a_full_address_the_browser_holding_the_most_gives_one_up() {
    let (shelf, _) = shelf(Bounds {
        per_address: 4,
        ..bounds()
    });
    let victim = keep(&shelf, &browser("victim", "192.0.2.1"), "POST /color");
    let greedy = browser("greedy", "192.0.2.1");
    let first = keep(&shelf, &greedy, "POST /1");
    keep(&shelf, &greedy, "POST /2");
    keep(&shelf, &greedy, "POST /3");
    // A classmate behind the same NAT: the address is full, and greedy holds three.
    let classmate = keep(&shelf, &browser("classmate", "192.0.2.1"), "POST /notes");
    assert_eq!(shelf.len(), 4);
    assert_eq!(taken(&shelf, &first), None, "greedy's oldest went");
    assert_eq!(taken(&shelf, &victim).as_deref(), Some("POST /color"));
    assert_eq!(taken(&shelf, &classmate).as_deref(), Some("POST /notes"));
}

#[test]
fn when_the_shelf_is_full_only_a_browser_holding_more_than_one_gives_one_up() {
    let (shelf, _) = shelf(Bounds {
        max_kept: 5,
        ..bounds()
    });
    // The victim's report is the oldest on the shelf: oldest-first would take it.
    let victim = keep(&shelf, &browser("victim", "192.0.2.1"), "POST /color");
    let greedy = browser("greedy", "198.51.100.7");
    let first = keep(&shelf, &greedy, "POST /1");
    keep(&shelf, &greedy, "POST /2");
    keep(&shelf, &greedy, "POST /3");
    let others: Vec<String> = (0..3)
        .map(|i| {
            let at = format!("203.0.113.{i}");
            keep(&shelf, &browser(&format!("other{i}"), &at), "POST /notes")
        })
        .collect();
    assert_eq!(shelf.len(), 5);
    assert_eq!(taken(&shelf, &first), None);
    assert_eq!(taken(&shelf, &victim).as_deref(), Some("POST /color"));
    assert_eq!(taken(&shelf, &others[2]).as_deref(), Some("POST /notes"));
}

#[test]
fn the_estimated_bytes_stay_within_report_max_bytes() {
    let small = estimate(&told("POST /color"));
    let mut big = told("POST /notes");
    big.own.notes = vec!["n".repeat(10_000)];
    assert!(
        big.heap() >= told("POST /notes").heap() + 10_000,
        "a report's strings count"
    );
    let (shelf, _) = shelf(Bounds {
        max_bytes: 20 * small,
        ..bounds()
    });
    let victim = keep(&shelf, &browser("victim", "192.0.2.1"), "POST /color");
    for i in 0..1_000 {
        let at = format!("203.0.{}.{}", i / 250, i % 250);
        keep(&shelf, &browser(&format!("b{i}"), &at), "POST /color");
        keep(&shelf, &browser(&format!("b{i}"), &at), "POST /color");
        assert!(shelf.bytes() <= 20 * small, "{} bytes", shelf.bytes());
    }
    assert_eq!(shelf.len(), 20);
    assert!(
        !shelf.keep(browser("a", "192.0.2.9"), ReportShelf::new_token(), {
            let mut huge = told("POST /notes");
            huge.own.notes = vec!["n".repeat(20 * small)];
            huge
        }),
        "a report larger than the whole bound is not kept"
    );
    assert_eq!(
        taken(&shelf, &victim),
        None,
        "the oldest of many singles went"
    );
}

#[test]
fn a_report_expires_when_the_clock_passes_report_keep_seconds() {
    let (shelf, clock) = shelf(bounds());
    let me = browser("me", "192.0.2.1");
    let read_in_time = keep(&shelf, &me, "POST /color");
    clock.advance(KEEP as i64 - 1);
    assert_eq!(taken(&shelf, &read_in_time).as_deref(), Some("POST /color"));
    let too_late = keep(&shelf, &me, "POST /color");
    clock.advance(KEEP as i64);
    assert_eq!(taken(&shelf, &too_late), None);
    // Expired reports give back their room at the next keep, read or not.
    let unread = keep(&shelf, &browser("other", "192.0.2.2"), "POST /notes");
    clock.advance(KEEP as i64);
    keep(&shelf, &me, "POST /color");
    assert_eq!(shelf.len(), 1);
    assert_eq!(taken(&shelf, &unread), None);
}

#[test]
fn a_keep_time_reaching_past_the_calendar_keeps_reports_and_never_panics() {
    let (shelf, clock) = shelf(Bounds {
        keep_seconds: u64::MAX,
        ..bounds()
    });
    let token = keep(&shelf, &browser("me", "192.0.2.1"), "POST /color");
    clock.advance(10 * 366 * 24 * 3600);
    assert_eq!(taken(&shelf, &token).as_deref(), Some("POST /color"));
}
