//! Tasks as controller-api.md shows them: fields, long polling, status, result, cancel and listing.

#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

mod common;

use std::time::{Duration, Instant};

use aps_controller::State;
use common::{THING, get, http, provision, scripted, scripted_with};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn the_task_shows_first_info_as_description_and_latest_as_output() {
    let (c, endpoint) = scripted().await;
    let task = c
        .client()
        .provision(
            c.application(),
            THING,
            json!({"plan": ["accept", "accept", "accept", "done"]}),
        )
        .await
        .unwrap();
    let mut revisions = vec![];
    let done = c
        .client()
        .wait(task.id, |t| revisions.push(t.revision))
        .await
        .unwrap();
    assert_eq!(done.state, State::Success);
    assert_eq!(done.description.as_deref(), Some("step 1"));
    assert_eq!(done.output.as_deref(), Some("step 3"));
    assert_eq!(done.attempts, 4);
    assert!(done.completion_time.is_some());
    assert!(revisions.windows(2).all(|w| w[0] < w[1]), "{revisions:?}");
    // One transaction id per task, the sync phase first, then the async phase.
    let calls = endpoint.calls_for(&done.resource.id.to_string());
    assert_eq!(calls.len(), 4);
    let tx: Vec<_> = calls
        .iter()
        .map(|c| c.headers["aps-transaction-id"].clone())
        .collect();
    assert!(tx.iter().all(|t| *t == tx[0]));
    assert_eq!(calls[0].headers["aps-request-phase"], "sync");
    assert!(
        calls[1..]
            .iter()
            .all(|c| c.headers["aps-request-phase"] == "async")
    );
    assert!(
        !calls[0].headers["aps-controller-uri"]
            .to_str()
            .unwrap()
            .ends_with('/')
    );
    // Each recheck comes after APS-Retry-Timeout / time scale (30 ms), never at once.
    for pair in calls.windows(2) {
        assert!(
            pair[1].at - pair[0].at >= Duration::from_millis(29),
            "{:?}",
            pair[1].at - pair[0].at
        );
    }
    // The async calls carry the stored resource (with what the endpoint returned).
    assert_eq!(calls[1].body["calls"], 1);
    assert_eq!(calls[1].body["aps"]["status"], "aps:provisioning");
    let other = c
        .client()
        .provision(c.application(), THING, json!({}))
        .await
        .unwrap();
    let other = c.wait(&other).await.unwrap();
    let other_tx =
        &endpoint.calls_for(&other.resource.id.to_string())[0].headers["aps-transaction-id"];
    assert_ne!(*other_tx, tx[0], "a fresh transaction id per task");
}

#[tokio::test]
async fn a_202_without_a_usable_retry_timeout_rechecks_after_30_seconds() {
    let (c, _) = scripted().await;
    let task = c
        .client()
        .provision(
            c.application(),
            THING,
            json!({"plan": ["accept-bare", "done"]}),
        )
        .await
        .unwrap();
    let task = c
        .client()
        .poll(task.id, task.revision + 1, 5)
        .await
        .unwrap();
    assert_eq!(task.retry_after, Some(30));
    assert_eq!(c.wait(&task).await.unwrap().state, State::Success);
}

#[tokio::test]
async fn long_polls_wait_for_a_change_and_time_out_unchanged() {
    let (c, running) = common::running(10.0).await;
    assert_eq!(running.state, State::Running);
    let id = running.id;
    let lm = running.last_modified.to_string();
    // Unchanged for 1 s: answers after the poll timeout with the same task.
    let started = Instant::now();
    let (status, _, same) = get(
        &c,
        &format!(
            "/api/v1/tasks/{id}?poll_timeout=1&since_revision={}",
            running.revision
        ),
    )
    .await;
    assert_eq!(status, 200);
    assert!(started.elapsed() >= Duration::from_millis(900));
    assert_eq!(same["revision"], running.revision);
    // last_modified, with or without >=, wakes on the next change (the recheck after 3 s).
    for prefix in ["", "%3E%3D"] {
        let lm = lm.replace('+', "%2B");
        let (status, _, changed) = get(
            &c,
            &format!("/api/v1/tasks/{id}?poll_timeout=10&last_modified={prefix}{lm}"),
        )
        .await;
        assert_eq!(status, 200);
        assert!(
            changed["revision"].as_u64().unwrap() > running.revision,
            "{changed}"
        );
    }
    // An ended task answers at once when the client has not seen the end, else waits.
    let (_, _, ended) = get(
        &c,
        &format!("/api/v1/tasks/{id}?poll_timeout=1&since_revision=1"),
    )
    .await;
    assert_eq!(ended["state"], "success");
}

#[tokio::test]
async fn a_long_poll_without_last_modified_waits_for_the_next_change() {
    let (c, running) = common::running(15.0).await;
    let task = &running;
    let started = Instant::now();
    let (_, _, next) = get(&c, &format!("/api/v1/tasks/{}?poll_timeout=30", task.id)).await;
    assert!(next["revision"].as_u64().unwrap() > running.revision);
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "it waited for the recheck"
    );
}

#[tokio::test]
async fn bad_poll_parameters_are_400_in_the_aps_shape() {
    let (c, _) = scripted().await;
    let task = c
        .client()
        .provision(c.application(), THING, json!({}))
        .await
        .unwrap();
    for query in [
        "poll_timeout=0",
        "poll_timeout=121",
        "poll_timeout=abc",
        "poll_timeout=5&last_modified=yesterday",
        "poll_timeout=5&since_revision=x",
    ] {
        let (status, _, body) = get(&c, &format!("/api/v1/tasks/{}?{query}", task.id)).await;
        assert_eq!(status, 400, "{query}");
        assert_eq!(body["code"], 400);
        assert!(body["error"].is_string() && body["message"].is_string());
    }
}

#[tokio::test]
async fn status_and_result_follow_the_task() {
    let (c, _) = scripted_with(aps_controller::Controller::builder().time_scale(10.0)).await;
    let task = c
        .client()
        .provision(c.application(), THING, json!({"plan": ["accept", "done"]}))
        .await
        .unwrap();
    let (status, headers, body) = get(&c, &format!("/api/v1/tasks/{}/result", task.id)).await;
    assert_eq!(status, 202);
    assert!(headers.contains_key("retry-after"));
    assert_eq!(body["id"], task.id.to_string());
    let (status, _, s) = get(&c, &format!("/api/v1/tasks/{}/status", task.id)).await;
    assert_eq!(status, 200);
    let keys: Vec<&String> = s.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 6, "{s}");
    for key in [
        "id",
        "state",
        "description",
        "output",
        "lastModified",
        "revision",
    ] {
        assert!(s.get(key).is_some());
    }
    let done = c.wait(&task).await.unwrap();
    let (status, _, resource) = get(&c, &format!("/api/v1/tasks/{}/result", done.id)).await;
    assert_eq!(status, 200);
    assert_eq!(resource["aps"]["status"], "aps:ready");
    let (_, _, stored) = get(&c, &done.resource.href).await;
    assert_eq!(stored["aps"]["status"], "aps:ready");
}

#[tokio::test]
async fn cancel_stops_the_task() {
    let (c, endpoint) = scripted_with(aps_controller::Controller::builder().time_scale(1.0)).await;
    let (_, _, task) = provision(&c, &["accept", "done"], json!({"timeout": 0})).await;
    let id = task["id"].as_str().unwrap();
    common::eventually(5, || endpoint.calls().len() >= 2).await;
    let (status, _, canceled) = http(
        &c,
        Method::POST,
        &format!("/api/v1/tasks/{id}/cancel"),
        None,
        &[],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(canceled["state"], "canceled");
    assert!(canceled["completionTime"].is_string());
    let (status, _, body) = http(
        &c,
        Method::POST,
        &format!("/api/v1/tasks/{id}/cancel"),
        None,
        &[],
    )
    .await;
    assert_eq!(status, 409, "{body}");
    let (status, _, _) = get(&c, &format!("/api/v1/tasks/{id}/result")).await;
    assert_eq!(status, 409);
}

#[tokio::test]
async fn tasks_are_listed_newest_first_with_filters_and_pages() {
    let (c, _) = scripted().await;
    let mut ids = vec![];
    for _ in 0..5 {
        let (_, _, task) = provision(&c, &[], json!({"timeout": 0})).await;
        ids.push(task["id"].as_str().unwrap().to_owned());
    }
    for id in &ids {
        c.client().wait(id.parse().unwrap(), |_| {}).await.unwrap();
    }
    let (_, _, page) = get(&c, "/api/v1/tasks?limit=3").await;
    let listed: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, [&ids[4], &ids[3], &ids[2]].map(String::as_str));
    let next = page["next"].as_str().unwrap();
    let (_, _, rest) = get(&c, &format!("/api/v1/tasks?limit=3&next={next}")).await;
    assert_eq!(
        rest["items"].as_array().unwrap().len(),
        3,
        "two provisions and the install"
    );
    assert!(rest.get("next").is_none());
    let (_, _, ok) = get(&c, "/api/v1/tasks?state=success").await;
    assert_eq!(ok["items"].as_array().unwrap().len(), 6);
    let (_, _, none) = get(&c, "/api/v1/tasks?state=running").await;
    assert_eq!(none["items"], json!([]));
    let one = c.client().task(ids[0].parse().unwrap()).await.unwrap();
    let (_, _, mine) = get(&c, &format!("/api/v1/tasks?resource={}", one.resource.id)).await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
    let (status, _, _) = get(&c, "/api/v1/tasks?state=sleeping").await;
    assert_eq!(status, 400);
    let (_, _, resources) = get(
        &c,
        &format!(
            "/api/v1/resources?application={}&type={THING}",
            c.application()
        ),
    )
    .await;
    assert_eq!(resources["items"].as_array().unwrap().len(), 5);
}
