//! Password hashing never stalls the async workers. Its own test binary, so the hash counters it
//! reads count only its own logins. The counters exist only with the `hash-counts` feature, which
//! the package's dev-dependency on itself turns on for every test build (none in production).

mod common;

use common::*;

const PW: &str = "correct horse battery";

/// One async worker, the tightest Rocket can run on: were hashing done on it, each hash would run
/// to its end inside the poll that started it, so all eight would be finished by the time the page
/// is asked for.
#[rocket::tokio::test(flavor = "current_thread")]
async fn a_page_is_answered_while_eight_logins_hash() {
    use session_lab::auth::queue::hash_counts;
    let app = TestApp::spawn(ServerMode).await;
    signup(&app.browser(), "alice", PW).await;
    let browsers: Vec<Browser<'_>> = (0..8).map(|_| app.browser()).collect();
    for b in &browsers {
        b.csrf_token().await;
    }
    let reader = app.browser();
    reader.get("/color").await;
    let (base_started, base_finished) = (hash_counts::started(), hash_counts::finished());
    let logins = browsers.iter().map(|b| async move {
        assert_eq!(login(b, "alice", PW).await.status, 303);
    });
    let read = async {
        // Wait until all eight logins are hashing, then ask for a page. Thirty seconds is ample
        // for eight logins to reach their hash even on a loaded machine; past it, say so rather
        // than spin forever.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while hash_counts::started() < base_started + 8 {
            assert!(
                std::time::Instant::now() < deadline,
                "only {} of eight logins started hashing within 30 s",
                hash_counts::started() - base_started
            );
            rocket::tokio::task::yield_now().await;
        }
        let res = reader.get("/color").await;
        assert_eq!(res.status, 200);
        hash_counts::finished() - base_finished
    };
    let ((), finished_during) = rocket::tokio::join!(
        async {
            futures::future::join_all(logins).await;
        },
        read
    );
    assert!(
        finished_during < 8,
        "the page waited for all eight hashes ({finished_during} finished)"
    );
    assert_eq!(hash_counts::finished() - base_finished, 8);
}
