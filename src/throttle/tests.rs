//! The throttles' unit tests: the delay, the buckets and the device lockouts on a manual clock.

use super::*;

fn manual() -> Arc<Clock> {
    Arc::new(Clock::manual())
}

#[test]
fn the_delay_starts_at_half_the_burst_and_doubles() {
    let s = Settings {
        login_delay_ms: 250,
        ..Settings::default()
    };
    let t = Throttles::new(&s, &manual());
    let delays: Vec<u64> = (1..=12)
        .map(|used| t.delay(used, 10).as_millis() as u64)
        .collect();
    assert_eq!(
        delays,
        [0, 0, 0, 0, 0, 250, 500, 1000, 2000, 4000, 4000, 4000]
    );
}

#[test]
fn a_burst_then_a_wait_rounded_up_to_whole_seconds() {
    let l: Limiter<u8> = Limiter::new(3, 30, &manual());
    assert_eq!(l.check(&1), Verdict::Go { used: 1 });
    assert_eq!(l.check(&1), Verdict::Go { used: 2 });
    assert_eq!(l.check(&1), Verdict::Go { used: 3 });
    let Verdict::Wait(wait) = l.check(&1) else {
        panic!("the fourth attempt must wait");
    };
    assert_eq!(TooMany::after(wait).retry_after, 30);
    assert_eq!(l.check(&2), Verdict::Go { used: 1 }, "keys are independent");
}

#[test]
fn a_token_comes_back_when_the_clock_moves_and_not_before() {
    let clock = manual();
    let l: Limiter<u8> = Limiter::new(2, 30, &clock);
    assert_eq!(l.check(&1), Verdict::Go { used: 1 });
    assert_eq!(l.check(&1), Verdict::Go { used: 2 });
    assert_eq!(l.check(&1), Verdict::Wait(Duration::from_secs(30)));
    clock.advance(29);
    assert_eq!(l.check(&1), Verdict::Wait(Duration::from_secs(1)));
    clock.advance(1);
    assert_eq!(l.check(&1), Verdict::Go { used: 2 }, "one token, not two");
    assert_eq!(l.check(&1), Verdict::Wait(Duration::from_secs(30)));
}

#[rocket::async_test]
async fn a_device_spends_its_bucket_on_every_attempt_and_is_distrusted_by_its_last_wrong_one() {
    let s = Settings {
        login_device_burst: 3,
        login_device_interval: 60,
        ..Settings::default()
    };
    let clock = manual();
    let t = Throttles::new(&s, &clock);
    assert_eq!(
        t.device_attempt("d1").await,
        Ok(1),
        "a right password spends too"
    );
    assert_eq!(t.device_attempt("d1").await, Ok(2));
    t.device_failed("d1", 2).await;
    assert_eq!(t.device_attempt("d1").await, Ok(3));
    t.device_failed("d1", 3).await;
    assert_eq!(
        t.device_attempt("d1").await,
        Err(TooMany {
            retry_after: 60,
            unavailable: false
        }),
        "the wrong password that used the burst distrusts it"
    );
    assert_eq!(
        t.device_attempt("d2").await,
        Ok(1),
        "devices are independent"
    );
    clock.advance(59);
    assert!(
        t.device_attempt("d1").await.is_err(),
        "distrusted for one interval"
    );
    clock.advance(1);
    assert_eq!(
        t.device_attempt("d1").await,
        Ok(3),
        "one token back after it"
    );
}
