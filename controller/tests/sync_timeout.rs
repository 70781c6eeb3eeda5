//! The server's default wait (`--sync-timeout`, the builder's `sync_timeout`) is capped at an
//! hour like any other wait. The test runs on a paused clock that only it moves, so the hour
//! takes no real time.

#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use aps_controller::Controller;
use serde_json::{Value, json};

/// Lets the controller act on what happened: round trips through its API, with the clock
/// moving a millisecond at a time (tokio's timers round up to whole milliseconds, so one due
/// "now" needs that to fire).
async fn settle(c: &aps_controller::testkit::TestController) {
    for _ in 0..3 {
        tokio::time::advance(Duration::from_millis(1)).await;
        common::get(c, "/api/v1/tasks?limit=1").await;
    }
}

#[tokio::test]
async fn a_default_wait_above_an_hour_answers_202_after_the_hour() {
    let builder = Controller::builder()
        .time_scale(1.0)
        .sync_timeout(Duration::from_secs(7200));
    let (c, _) = common::scripted_with(builder).await;
    // With the runtime never idle, its paused clock moves only when the test advances it.
    let busy = tokio::spawn(async {
        loop {
            tokio::task::yield_now().await;
        }
    });
    tokio::time::pause();
    let answered = AtomicBool::new(false);
    let request = async {
        // No `timeout`: the server's default applies. Every call answers 202 (recheck in 30 s).
        let answer = common::provision(&c, &["accept"; 8], json!({})).await;
        answered.store(true, Ordering::SeqCst);
        answer
    };
    let start = tokio::time::Instant::now();
    let clock = async {
        // Until the sync phase has answered 202, so the request is waiting.
        let task = loop {
            let (_, _, list) = common::get(&c, "/api/v1/tasks?state=running").await;
            let first = list["items"].as_array().and_then(|items| items.first());
            if let Some(task) = first.filter(|t| !t["retryAfter"].is_null()) {
                break task.clone();
            }
            settle(&c).await;
        };
        let hour = start + Duration::from_secs(3600);
        let almost = hour - Duration::from_secs(1);
        tokio::time::advance(almost - tokio::time::Instant::now()).await;
        settle(&c).await;
        assert!(!answered.load(Ordering::SeqCst), "answered before the hour");
        tokio::time::advance(hour - tokio::time::Instant::now()).await;
        let end = std::time::Instant::now() + Duration::from_secs(20);
        while !answered.load(Ordering::SeqCst) {
            assert!(std::time::Instant::now() < end, "no answer at the hour");
            settle(&c).await;
        }
        let late = tokio::time::Instant::now() - hour;
        assert!(
            late < Duration::from_secs(1),
            "answered {late:?} after the hour"
        );
        task
    };
    let ((status, _, body), task): ((u16, _, Value), Value) = tokio::join!(request, clock);
    busy.abort();
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["id"], task["id"]);
    assert_eq!(body["state"], "running");
}
