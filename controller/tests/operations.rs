//! Packages, instances, resources and the endpoint-facing API of controller-api.md, bad input, and how the engine copes with an unreachable endpoint or a deadline.

#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

mod common;

use std::time::Duration;

use aps_controller::State;
use common::{Scripted, THING, get, http, provision, scripted, scripted_with, thing};
use reqwest::Method;
use serde_json::{Value, json};

#[tokio::test]
async fn bad_input_is_answered_in_the_aps_shape() {
    let (c, _) = scripted().await;
    let url = c.controller().url();
    let raw = reqwest::Client::new();
    let malformed = raw
        .post(format!("{url}/api/v1/resources"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), 400);
    let body: Value = malformed.json().await.unwrap();
    assert_eq!(body["code"], 400);
    let unknown_app = json!({"application": uuid::Uuid::new_v4(), "resource": thing(&[])});
    let unknown_type = json!({"application": c.application(), "resource": {"aps": {"type": "http://nowhere/1.0"}}});
    let no_type = json!({"application": c.application(), "resource": {}});
    let root = json!({"application": c.application(), "resource": {"aps": {"type": "app"}}});
    let bad_callback =
        json!({"application": c.application(), "resource": thing(&[]), "callbackURL": "ftp://x/"});
    for (body, code) in [
        (unknown_app, 404),
        (unknown_type, 400),
        (no_type, 400),
        (root, 400),
        (bad_callback, 400),
        (json!([1]), 400),
        (
            json!({"timeout": -5, "application": c.application(), "resource": thing(&[])}),
            400,
        ),
    ] {
        let (status, _, answer) = http(
            &c,
            Method::POST,
            "/api/v1/resources",
            Some(body.clone()),
            &[],
        )
        .await;
        assert_eq!(status, code, "{body} → {answer}");
        assert_eq!(answer["code"], code);
    }
    for (method, path, code) in [
        (
            Method::GET,
            format!("/api/v1/tasks/{}", uuid::Uuid::new_v4()),
            404,
        ),
        (Method::GET, "/api/v1/tasks/not-a-uuid".to_owned(), 400),
        (
            Method::GET,
            "/api/v1/resources/..%2f..%2fetc".to_owned(),
            400,
        ),
        (
            Method::GET,
            "/aps/2/resources/..%2f..%2fetc".to_owned(),
            400,
        ),
        (
            Method::POST,
            format!("/api/v1/tasks/{}/cancel", uuid::Uuid::new_v4()),
            404,
        ),
        (
            Method::GET,
            format!("/api/v1/resources/{}", uuid::Uuid::new_v4()),
            404,
        ),
        (
            Method::GET,
            format!("/api/v1/applications/{}", uuid::Uuid::new_v4()),
            404,
        ),
        (Method::GET, "/api/v1/nothing".to_owned(), 404),
        (Method::PATCH, "/api/v1/tasks".to_owned(), 405),
    ] {
        let (status, _, answer) = http(&c, method, &path, None, &[]).await;
        assert_eq!(status, code, "{path}");
        assert_eq!(answer["code"], code);
    }
    let (status, _, answer) = http(
        &c,
        Method::POST,
        "/api/v1/applications",
        Some(json!({"package": uuid::Uuid::new_v4(), "endpoint": "http://x"})),
        &[],
    )
    .await;
    assert_eq!((status, answer["code"].as_u64()), (404, Some(404)));
}

#[tokio::test]
async fn packages_are_imported_from_zips_and_instances_installed() {
    let (c, _) = scripted().await;
    let url = c.controller().url();
    let raw = reqwest::Client::new();
    let zip = common::zip_of(&Scripted::model());
    let answer = raw
        .post(format!("{url}/api/v1/packages"))
        .header("content-type", "application/zip")
        .body(zip)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 201);
    let package: Value = answer.json().await.unwrap();
    assert_eq!(package["name"], "scripted");
    assert_eq!(package["root"], "app");
    assert_eq!(package["services"].as_array().unwrap().len(), 2);
    let broken = raw
        .post(format!("{url}/api/v1/packages"))
        .body("not a zip")
        .send()
        .await
        .unwrap();
    assert_eq!(broken.status(), 400);
    let error: Value = broken.json().await.unwrap();
    assert_eq!(error["code"], 400);
    // The install flow against an endpoint over real HTTP.
    let endpoint = common::serve(Scripted::default().router()).await;
    let install = json!({"package": package["id"], "endpoint": endpoint, "settings": {"size": 3}});
    let (status, _, app) = http(&c, Method::POST, "/api/v1/applications", Some(install), &[]).await;
    assert_eq!(status, 201, "{app}");
    assert_eq!(app["package"], package["id"]);
    assert_eq!(app["root"]["aps"]["status"], "aps:ready");
    assert_eq!(app["root"]["size"], 3);
    let (_, _, listed) = get(&c, "/api/v1/applications").await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 2);
    let (status, _, one) = http(
        &c,
        Method::GET,
        &format!("/api/v1/applications/{}", app["id"].as_str().unwrap()),
        None,
        &[],
    )
    .await;
    assert_eq!((status, &one["endpoint"]), (200, &json!(endpoint)));
}

#[tokio::test]
async fn only_the_owning_instance_reads_and_changes_a_resource() {
    let (c, _) = scripted().await;
    let (_, _, resource) = provision(&c, &[], json!({})).await;
    let path = format!(
        "/aps/2/resources/{}",
        resource["aps"]["id"].as_str().unwrap()
    );
    let owner = c.application().to_string();
    let (status, _, body) =
        http(&c, Method::GET, &path, None, &[("APS-Instance-ID", &owner)]).await;
    assert_eq!(status, 200);
    assert_eq!(body["aps"]["id"], resource["aps"]["id"]);
    for headers in [
        vec![],
        vec![("APS-Instance-ID", "6f1c1a40-3b51-4d36-a0bb-0d8b8a6f2a9e")],
    ] {
        let (status, _, body) = http(&c, Method::GET, &path, None, &headers).await;
        assert_eq!((status, body["code"].as_u64()), (403, Some(403)));
        let (status, _, _) = http(&c, Method::PUT, &path, Some(json!({"size": 9})), &headers).await;
        assert_eq!(status, 403);
    }
    // An `aps.id` that is not an id at all is refused; another resource's is ignored.
    let (status, _, refused) = http(
        &c,
        Method::PUT,
        &path,
        Some(json!({"size": 9, "aps": {"id": "hijack"}})),
        &[("APS-Instance-ID", &owner)],
    )
    .await;
    assert_eq!((status, &refused["error"]), (400, &json!("InvalidId")));
    let other = uuid::Uuid::new_v4().to_string();
    let (status, _, changed) = http(
        &c,
        Method::PUT,
        &path,
        Some(json!({"size": 9, "aps": {"id": other}})),
        &[("APS-Instance-ID", &owner)],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(changed["size"], 9);
    assert_eq!(changed["aps"]["id"], resource["aps"]["id"]);
    assert!(changed["aps"]["revision"].as_u64() > resource["aps"]["revision"].as_u64());
}

#[tokio::test]
async fn connection_failures_are_retried_with_backoff_until_the_endpoint_answers() {
    let (c, _) = scripted().await;
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = free.local_addr().unwrap();
    drop(free);
    let url = c.controller().url();
    let package = common::upload(&url).await;
    let install =
        json!({"package": package["id"], "endpoint": format!("http://{addr}"), "timeout": 0});
    let (_, _, task) = http(&c, Method::POST, "/api/v1/applications", Some(install), &[]).await;
    let id: uuid::Uuid = task["id"].as_str().unwrap().parse().unwrap();
    let mut task = c.task(id).await.unwrap();
    while task.attempts < 3 {
        task = c.client().poll(id, task.revision, 5).await.unwrap();
    }
    assert_eq!(task.state, State::Running, "never failed for that alone");
    assert!(
        task.output
            .as_deref()
            .unwrap()
            .contains("could not be reached"),
        "{:?}",
        task.output
    );
    common::serve_at(addr, Scripted::default().router()).await;
    let done = c.client().wait(id, |_| {}).await.unwrap();
    assert_eq!(done.state, State::Success);
}

#[tokio::test]
async fn a_task_fails_when_its_deadline_passes() {
    let builder = aps_controller::Controller::builder()
        .time_scale(1000.0)
        .task_deadline(Duration::from_millis(300));
    let (c, _) = scripted_with(builder).await;
    let plan: Vec<&str> = vec!["accept"; 1000];
    let task = c
        .client()
        .provision(c.application(), THING, json!({"plan": plan}))
        .await
        .unwrap();
    let done = c.wait(&task).await.unwrap();
    assert_eq!(done.state, State::Failure);
    assert_eq!(done.error.unwrap().error, "DeadlineExceeded");
}

#[tokio::test]
async fn an_unfinished_task_resumes_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("controller.db");
    let endpoint = common::serve(Scripted::default().router()).await;
    let start = |scale: f64| {
        aps_controller::Controller::builder()
            .database(db.to_string_lossy())
            .listen("127.0.0.1:0".parse().unwrap())
            .time_scale(scale)
            .start()
    };
    // Real time: the recheck is 30 s away when the controller stops.
    let first = start(1.0).await.unwrap();
    let package = first.import(&Scripted::model()).await.unwrap();
    let install = first
        .client()
        .install(package.id, &endpoint, json!({}))
        .await
        .unwrap();
    let app = first
        .client()
        .wait(install.id, |_| {})
        .await
        .unwrap()
        .application;
    let task = first
        .client()
        .provision(app, THING, json!({"plan": ["accept", "done"]}))
        .await
        .unwrap();
    let running = first
        .client()
        .poll(task.id, task.revision + 1, 5)
        .await
        .unwrap();
    assert_eq!(running.state, State::Running);
    drop(first);
    let second = start(1000.0).await.unwrap();
    let done = second.client().wait(task.id, |_| {}).await.unwrap();
    assert_eq!(done.state, State::Success);
    assert!(done.revision > running.revision);
    assert_eq!(done.description.as_deref(), Some("step 1"));
}

#[tokio::test]
async fn an_endpoint_change_during_an_operation_is_sent_with_the_next_recheck() {
    let (c, endpoint) = scripted_with(aps_controller::Controller::builder().time_scale(30.0)).await;
    let task = c
        .client()
        .provision(
            c.application(),
            THING,
            json!({"plan": ["accept", "accept", "done"]}),
        )
        .await
        .unwrap();
    // The sync phase answered 202; the next recheck is a second away.
    let mut running = c.task(task.id).await.unwrap();
    while running.retry_after.is_none() {
        running = c.client().poll(task.id, running.revision, 5).await.unwrap();
    }
    let id = task.resource.id.to_string();
    let path = format!("/aps/2/resources/{id}");
    let owner = c.application().to_string();
    let (status, _, changed) = http(
        &c,
        Method::PUT,
        &path,
        Some(json!({"size": 42, "note": "from the endpoint"})),
        &[("APS-Instance-ID", &owner)],
    )
    .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["size"], 42);
    assert_eq!(
        changed["aps"]["status"], "aps:provisioning",
        "the status stays"
    );
    let done = c.wait(&task).await.unwrap();
    assert_eq!(done.state, State::Success, "{:?}", done.output);
    let calls = endpoint.calls_for(&id);
    assert_eq!(calls.len(), 3);
    assert_eq!(calls[0].body["size"], 1, "the sync call, before the change");
    for call in &calls[1..] {
        assert_eq!(
            call.body["size"], 42,
            "the rechecks send the changed resource"
        );
        assert_eq!(call.body["note"], "from the endpoint");
    }
    let (_, _, stored) = get(&c, &format!("/api/v1/resources/{id}")).await;
    assert_eq!(stored["size"], 42);
    assert_eq!(stored["aps"]["status"], "aps:ready");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn endpoint_changes_are_never_lost_and_a_missing_resource_is_404() {
    let (c, _) = scripted().await;
    let (_, _, resource) = provision(&c, &[], json!({})).await;
    let id = resource["aps"]["id"].as_str().unwrap().to_owned();
    let path = format!("/aps/2/resources/{id}");
    let owner = c.application().to_string();
    // Concurrent changes of different properties: each one is kept.
    let url = format!("{}{path}", c.controller().url());
    let mut changes = tokio::task::JoinSet::new();
    for i in 0..24 {
        let (url, owner) = (url.clone(), owner.clone());
        changes.spawn(async move {
            let response = reqwest::Client::new()
                .put(url)
                .header("APS-Instance-ID", owner)
                .json(&json!({ format!("k{i}"): i }))
                .send()
                .await
                .unwrap();
            response.status().as_u16()
        });
    }
    let statuses = changes.join_all().await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    let (_, _, stored) = get(&c, &format!("/api/v1/resources/{id}")).await;
    for i in 0..24 {
        assert_eq!(stored[format!("k{i}")], i, "{stored}");
    }
    assert!(
        stored["aps"]["revision"].as_u64()
            >= Some(resource["aps"]["revision"].as_u64().unwrap() + 24)
    );
    // Gone: unprovisioned, or never there.
    let (status, _, _) = http(
        &c,
        Method::DELETE,
        &format!("/api/v1/resources/{id}"),
        None,
        &[],
    )
    .await;
    assert_eq!(status, 204);
    let unknown = format!("/aps/2/resources/{}", uuid::Uuid::new_v4());
    for path in [&path, &unknown] {
        let headers = [("APS-Instance-ID", owner.as_str())];
        let (status, _, body) =
            http(&c, Method::PUT, path, Some(json!({"size": 2})), &headers).await;
        assert_eq!((status, body["code"].as_u64()), (404, Some(404)), "{path}");
    }
}

#[tokio::test]
async fn a_tiny_time_scale_does_not_panic_and_the_deadline_still_comes() {
    let builder = aps_controller::Controller::builder()
        .time_scale(1e-20)
        .task_deadline(Duration::from_secs(1));
    let (c, _) = scripted_with(builder).await;
    let task = c
        .client()
        .provision(c.application(), THING, json!({"plan": ["accept", "done"]}))
        .await
        .unwrap();
    let done = tokio::time::timeout(Duration::from_secs(20), c.wait(&task))
        .await
        .expect("the task ends")
        .unwrap();
    assert_eq!(done.state, State::Failure);
    assert_eq!(done.error.unwrap().error, "DeadlineExceeded");
    assert_eq!(
        done.output.as_deref().map(|o| o.contains("deadline")),
        Some(true)
    );
}
