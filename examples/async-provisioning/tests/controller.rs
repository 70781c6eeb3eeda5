//! The demo driven by a real controller (the framework's test kit): provision, coin flips at
//! 30 s rechecks, success, without waiting 30 s for real: in scaled time, and in paused time.
#![allow(clippy::unwrap_used)] // a test that cannot set itself up should stop right there

use std::time::{Duration, Instant};

use aps::testkit::State;
use async_provisioning::Coin;
use serde_json::json;

/// How many heads the coin seeded with `seed` shows before its first tails.
fn heads_before_tails(seed: u64) -> u32 {
    let coin = Coin::new(Some(seed));
    let mut heads = 0;
    while coin.flip() {
        heads += 1;
    }
    heads
}

#[tokio::test]
async fn provisioning_flips_the_coin_at_30_second_rechecks_until_it_is_done() {
    // A seed whose coin shows heads at least twice, so the task goes through "Still provisioning".
    let seed = (0..).find(|s| heads_before_tails(*s) >= 2).unwrap();
    let heads = heads_before_tails(seed);
    let started = Instant::now();

    let controller = aps::testkit::start(&async_provisioning::app(Some(seed)))
        .await
        .unwrap();
    let task = controller
        .provision("provisionable", json!({"note": "kept"}))
        .await
        .unwrap();
    let task = controller.wait(&task).await.unwrap();

    assert_eq!(task.state, State::Success, "{task:?}");
    assert_eq!(
        task.name,
        "Provisioning \"provisionable\" for APS application async-provisioning"
    );
    assert_eq!(
        task.description.as_deref(),
        Some("Provisioning the resource")
    );
    assert_eq!(task.output.as_deref(), Some("Still provisioning"));
    assert_eq!(
        task.attempts,
        heads + 2,
        "the sync call, {heads} heads, one tails"
    );
    assert!(task.error.is_none());
    assert_eq!(task.retry_after, Some(30));
    // Each of the rechecks asked for 30 s; the test kit's time scale makes them instant.
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );

    let stored = controller
        .client()
        .send(reqwest::Method::GET, &task.resource.href, None)
        .await
        .unwrap();
    assert_eq!(stored.status, 200);
    assert_eq!(stored.body["aps"]["status"], "aps:ready");
    assert_eq!(stored.body["note"], "kept");
}

#[tokio::test]
async fn a_coin_that_shows_tails_first_finishes_on_the_first_recheck() {
    let seed = (0..).find(|s| heads_before_tails(*s) == 0).unwrap();
    let controller = aps::testkit::start(&async_provisioning::app(Some(seed)))
        .await
        .unwrap();
    let task = controller
        .provision("provisionable", json!({}))
        .await
        .unwrap();
    let task = controller.wait(&task).await.unwrap();
    assert_eq!(task.state, State::Success);
    assert_eq!(task.output.as_deref(), Some("Provisioning the resource"));
    assert_eq!(task.attempts, 2);
}

#[tokio::test(start_paused = true)]
async fn provisioning_is_rechecked_every_30_seconds_until_the_coin_says_done() {
    let seed = (0..).find(|s| heads_before_tails(*s) >= 3).unwrap();
    let heads = heads_before_tails(seed);
    let wall = Instant::now();

    let controller = aps::testkit::start_paused(&async_provisioning::app(Some(seed)))
        .await
        .unwrap();
    let task = controller
        .provision("provisionable", json!({}))
        .await
        .unwrap();
    let task = controller.wait(&task).await.unwrap();

    assert_eq!(task.state, State::Success, "{task:?}");
    assert_eq!(
        task.attempts,
        heads + 2,
        "the sync call, {heads} heads, one tails"
    );
    let calls: Vec<_> = controller
        .calls()
        .into_iter()
        .filter(|call| call.path == "/provisionable/")
        .collect();
    let phases: Vec<_> = calls.iter().map(|call| call.phase.as_deref()).collect();
    let mut expected = vec![Some("async"); heads as usize + 1];
    expected.insert(0, Some("sync"));
    assert_eq!(phases, expected);
    // Each recheck comes exactly when the answer before it asked: 30 s of paused time later.
    let gaps: Vec<Duration> = calls.windows(2).map(|w| w[1].at - w[0].at).collect();
    assert_eq!(gaps, vec![Duration::from_secs(30); heads as usize + 1]);
    let took = wall.elapsed();
    eprintln!(
        "{} rechecks, 30 s apart in paused time, in {took:?} of wall time",
        heads + 1
    );
}
