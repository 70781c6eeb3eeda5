//! The operation envelope of controller-api.md: timeout modes, Prefer, the outcomes of synchronous requests, and one operation at a time per resource.

#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

mod common;

use std::time::{Duration, Instant};

use common::{THING, get, http, provision, scripted, scripted_with, thing};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn timeout_zero_answers_202_with_the_task_location_and_retry_after() {
    let (c, _) = scripted().await;
    let (status, headers, task) = provision(&c, &["accept", "done"], json!({"timeout": 0})).await;
    assert_eq!(status, 202);
    let id = task["id"].as_str().unwrap();
    assert_eq!(headers["location"], format!("/api/v1/tasks/{id}").as_str());
    assert!(
        headers["retry-after"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            >= 1
    );
    for field in [
        "id",
        "name",
        "operation",
        "application",
        "resource",
        "state",
        "description",
        "output",
        "attempts",
        "nextCheck",
        "retryAfter",
        "creationTime",
        "lastModified",
        "completionTime",
        "revision",
        "error",
        "statusURI",
        "resultURI",
    ] {
        assert!(task.get(field).is_some(), "task JSON lacks {field}: {task}");
    }
    assert_eq!(
        task["name"],
        "Provisioning \"thing\" for APS application scripted"
    );
    assert_eq!(task["operation"], "provision");
    assert_eq!(task["resource"]["service"], "thing");
    assert_eq!(task["resource"]["type"], THING);
    assert_eq!(
        task["resource"]["href"],
        format!(
            "/api/v1/resources/{}",
            task["resource"]["id"].as_str().unwrap()
        )
    );
    assert_eq!(task["statusURI"], format!("/api/v1/tasks/{id}/status"));
    assert_eq!(task["resultURI"], format!("/api/v1/tasks/{id}/result"));
    assert_eq!(
        task["lastModified"].as_str().unwrap().len(),
        "2026-11-23T10:00:00.123456Z".len()
    );
}

#[tokio::test]
async fn a_synchronous_provision_that_finishes_in_time_answers_201_with_the_resource() {
    let (c, _) = scripted().await;
    for extra in [json!({}), json!({"timeout": -1}), json!({"timeout": 10})] {
        let (status, _, resource) = provision(&c, &["accept", "accept", "done"], extra).await;
        assert_eq!(status, 201, "{resource}");
        assert_eq!(resource["aps"]["status"], "aps:ready");
        assert_eq!(resource["calls"], 3, "the endpoint's last body is stored");
        assert_eq!(resource["size"], 1, "schema defaults are applied");
    }
}

#[tokio::test]
async fn a_synchronous_request_that_does_not_finish_in_time_answers_202() {
    let (c, _) = scripted_with(aps_controller::Controller::builder().time_scale(1.0)).await;
    let started = Instant::now();
    let (status, headers, task) = provision(&c, &["accept", "done"], json!({"timeout": 1})).await;
    assert_eq!(status, 202, "{task}");
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert!(headers.contains_key("location"));
    assert_eq!(task["state"], "running");
    assert_eq!(task["retryAfter"], 30);
}

#[tokio::test]
async fn prefer_respond_async_and_wait_choose_the_mode_and_the_body_wins() {
    let (c, _) = scripted().await;
    let body = json!({"application": c.application(), "resource": thing(&["accept", "done"])});
    let (status, _, _) = http(
        &c,
        Method::POST,
        "/api/v1/resources",
        Some(body.clone()),
        &[("Prefer", "respond-async")],
    )
    .await;
    assert_eq!(status, 202);
    let (status, _, _) = http(
        &c,
        Method::POST,
        "/api/v1/resources",
        Some(body.clone()),
        &[("Prefer", "wait=10")],
    )
    .await;
    assert_eq!(status, 201);
    let mut with_timeout = body.clone();
    with_timeout["timeout"] = json!(10);
    let (status, _, _) = http(
        &c,
        Method::POST,
        "/api/v1/resources",
        Some(with_timeout),
        &[("Prefer", "respond-async")],
    )
    .await;
    assert_eq!(status, 201, "the body's timeout wins over Prefer");
}

#[tokio::test]
async fn endpoint_4xx_passes_through_and_5xx_is_502_with_the_task() {
    let (c, _) = scripted().await;
    let (status, _, body) = provision(&c, &["422"], json!({})).await;
    assert_eq!(status, 422);
    assert_eq!(body["code"], 422);
    assert_eq!(body["message"], "scripted 422");
    assert_eq!(body["task"]["state"], "failure");
    assert_eq!(body["task"]["output"], "scripted 422");
    for plan in [["accept", "500"], ["html", "done"]] {
        let (status, _, body) = provision(&c, &plan, json!({})).await;
        assert_eq!(status, 502, "{body}");
        assert_eq!(body["code"], 502);
        assert_eq!(body["task"]["state"], "failure");
        let (_, _, resource) = get(&c, body["task"]["resource"]["href"].as_str().unwrap()).await;
        assert_eq!(
            resource["aps"]["status"], "aps:provisioning",
            "a failure keeps the transitional status"
        );
    }
}

#[tokio::test]
async fn configure_answers_200_and_unprovision_204_and_removes_the_resource() {
    let (c, endpoint) = scripted().await;
    let (_, _, resource) = provision(&c, &[], json!({})).await;
    let href = format!(
        "/api/v1/resources/{}",
        resource["aps"]["id"].as_str().unwrap()
    );
    let (status, _, configured) = http(
        &c,
        Method::PUT,
        &href,
        Some(json!({"resource": {"size": 5, "plan": ["accept", "done"]}})),
        &[],
    )
    .await;
    assert_eq!(status, 200, "{configured}");
    assert_eq!(configured["size"], 5);
    assert_eq!(configured["aps"]["status"], "aps:ready");
    let (status, _, body) = http(&c, Method::DELETE, &href, None, &[]).await;
    assert_eq!(status, 204, "{body}");
    let (status, _, _) = get(&c, &href).await;
    assert_eq!(status, 404);
    let methods: Vec<Method> = endpoint.calls().iter().map(|c| c.method.clone()).collect();
    assert!(methods.contains(&Method::PUT) && methods.contains(&Method::DELETE));
    // DELETE ?timeout=0 answers 202 at once.
    let (_, _, resource) = provision(&c, &[], json!({})).await;
    let href = format!(
        "/api/v1/resources/{}?timeout=0",
        resource["aps"]["id"].as_str().unwrap()
    );
    let (status, _, task) = http(&c, Method::DELETE, &href, None, &[]).await;
    assert_eq!(status, 202);
    assert_eq!(task["operation"], "unprovision");
    assert_eq!(
        task["name"],
        "Unprovisioning \"thing\" for APS application scripted"
    );
    let done = c
        .client()
        .wait(task["id"].as_str().unwrap().parse().unwrap(), |_| {})
        .await
        .unwrap();
    let (status, _, _) = get(&c, &format!("/api/v1/tasks/{}/result", done.id)).await;
    assert_eq!(status, 204);
}

#[tokio::test]
async fn a_second_mutation_while_a_task_runs_is_409_naming_the_task() {
    let (c, _) = scripted_with(aps_controller::Controller::builder().time_scale(1.0)).await;
    let (_, _, task) = provision(&c, &["accept", "done"], json!({"timeout": 0})).await;
    let href = task["resource"]["href"].as_str().unwrap();
    let (status, _, body) = http(
        &c,
        Method::PUT,
        href,
        Some(json!({"resource": {"size": 2}, "timeout": 0})),
        &[],
    )
    .await;
    assert_eq!(status, 409);
    assert_eq!(body["code"], 409);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains(task["id"].as_str().unwrap())
    );
    let (status, _, _) = http(&c, Method::DELETE, href, None, &[]).await;
    assert_eq!(status, 409);
}

#[tokio::test]
async fn unprovision_takes_its_timeout_and_callback_url_from_a_json_body() {
    let (c, _) = scripted().await;
    let receiver = common::Receiver::default();
    let hook = format!("{}/hook?token=t", common::serve(receiver.router()).await);
    // The endpoint accepts the DELETE once, then is done at the recheck.
    let href = |resource: &serde_json::Value| {
        format!(
            "/api/v1/resources/{}",
            resource["aps"]["id"].as_str().unwrap()
        )
    };
    let (_, _, resource) = provision(&c, &["accept", "done"], json!({})).await;
    let body = json!({"timeout": 0, "callbackURL": hook});
    let (status, headers, task) = http(&c, Method::DELETE, &href(&resource), Some(body), &[]).await;
    assert_eq!(status, 202, "timeout 0 in the body: {task}");
    let id = task["id"].as_str().unwrap();
    assert_eq!(headers["location"], format!("/api/v1/tasks/{id}").as_str());
    assert!(headers.contains_key("retry-after"));
    assert_eq!(task["operation"], "unprovision");
    assert!(!task.to_string().contains("token"), "{task}");
    let done = c.client().wait(id.parse().unwrap(), |_| {}).await.unwrap();
    assert_eq!(done.state, aps_controller::State::Success);
    let (status, _, _) = get(&c, &href(&resource)).await;
    assert_eq!(status, 404);
    // The body's callbackURL is called with the final task.
    common::eventually(10, || !receiver.deliveries().is_empty()).await;
    let (_, query, delivered) = receiver.deliveries().remove(0);
    assert_eq!(query, "token=t");
    let delivered: serde_json::Value = serde_json::from_str(&delivered).unwrap();
    assert_eq!(delivered["id"], id);
    assert_eq!(delivered["state"], "success");

    // A body timeout that leaves time enough answers 204, even against Prefer: respond-async
    // (the body wins) and for -1 (the server's default).
    for (timeout, prefer) in [(json!(10), "respond-async"), (json!(-1), "wait=0")] {
        let (_, _, resource) = provision(&c, &["accept", "done"], json!({})).await;
        let body = json!({ "timeout": timeout });
        let (status, _, answer) = http(
            &c,
            Method::DELETE,
            &href(&resource),
            Some(body),
            &[("Prefer", prefer)],
        )
        .await;
        assert_eq!(status, 204, "timeout {timeout}: {answer}");
        assert_eq!(answer, serde_json::Value::Null);
        let (status, _, _) = get(&c, &href(&resource)).await;
        assert_eq!(status, 404);
    }
}
