//! The client API of controller-api.md, line by line, over HTTP on loopback.

#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

mod common;

use std::time::{Duration, Instant};

use aps_controller::State;
use common::{Scripted, THING, http, scripted, scripted_with};
use reqwest::Method;
use serde_json::{Value, json};

fn thing(plan: &[&str]) -> Value {
    json!({"aps": {"type": THING}, "plan": plan})
}

async fn provision(
    c: &aps_controller::testkit::TestController,
    plan: &[&str],
    extra: Value,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut body = json!({"application": c.application(), "resource": thing(plan)});
    if let (Value::Object(b), Value::Object(e)) = (&mut body, extra) {
        b.extend(e);
    }
    http(c, Method::POST, "/api/v1/resources", Some(body), &[]).await
}

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
    let (c, _) = scripted_with(aps_controller::Controller::builder().time_scale(10.0)).await;
    let task = c
        .client()
        .provision(c.application(), THING, json!({"plan": ["accept", "done"]}))
        .await
        .unwrap();
    let running = c
        .client()
        .poll(task.id, task.revision + 1, 5)
        .await
        .unwrap();
    assert_eq!(running.state, State::Running);
    let id = task.id;
    let lm = running.last_modified.to_string();
    // Unchanged for 1 s: answers after the poll timeout with the same task.
    let started = Instant::now();
    let (status, _, same) = http(
        &c,
        Method::GET,
        &format!(
            "/api/v1/tasks/{id}?poll_timeout=1&since_revision={}",
            running.revision
        ),
        None,
        &[],
    )
    .await;
    assert_eq!(status, 200);
    assert!(started.elapsed() >= Duration::from_millis(900));
    assert_eq!(same["revision"], running.revision);
    // last_modified, with or without >=, wakes on the next change (the recheck after 3 s).
    for prefix in ["", "%3E%3D"] {
        let lm = lm.replace('+', "%2B");
        let (status, _, changed) = http(
            &c,
            Method::GET,
            &format!("/api/v1/tasks/{id}?poll_timeout=10&last_modified={prefix}{lm}"),
            None,
            &[],
        )
        .await;
        assert_eq!(status, 200);
        assert!(
            changed["revision"].as_u64().unwrap() > running.revision,
            "{changed}"
        );
    }
    // An ended task answers at once when the client has not seen the end, else waits.
    let (_, _, ended) = http(
        &c,
        Method::GET,
        &format!("/api/v1/tasks/{id}?poll_timeout=1&since_revision=1"),
        None,
        &[],
    )
    .await;
    assert_eq!(ended["state"], "success");
}

#[tokio::test]
async fn a_long_poll_without_last_modified_waits_for_the_next_change() {
    let (c, _) = scripted_with(aps_controller::Controller::builder().time_scale(15.0)).await;
    let task = c
        .client()
        .provision(c.application(), THING, json!({"plan": ["accept", "done"]}))
        .await
        .unwrap();
    let running = c
        .client()
        .poll(task.id, task.revision + 1, 5)
        .await
        .unwrap();
    let started = Instant::now();
    let (_, _, next) = http(
        &c,
        Method::GET,
        &format!("/api/v1/tasks/{}?poll_timeout=30", task.id),
        None,
        &[],
    )
    .await;
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
        let (status, _, body) = http(
            &c,
            Method::GET,
            &format!("/api/v1/tasks/{}?{query}", task.id),
            None,
            &[],
        )
        .await;
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
    let (status, headers, body) = http(
        &c,
        Method::GET,
        &format!("/api/v1/tasks/{}/result", task.id),
        None,
        &[],
    )
    .await;
    assert_eq!(status, 202);
    assert!(headers.contains_key("retry-after"));
    assert_eq!(body["id"], task.id.to_string());
    let (status, _, s) = http(
        &c,
        Method::GET,
        &format!("/api/v1/tasks/{}/status", task.id),
        None,
        &[],
    )
    .await;
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
    let (status, _, resource) = http(
        &c,
        Method::GET,
        &format!("/api/v1/tasks/{}/result", done.id),
        None,
        &[],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(resource["aps"]["status"], "aps:ready");
    let (_, _, stored) = http(&c, Method::GET, &done.resource.href, None, &[]).await;
    assert_eq!(stored["aps"]["status"], "aps:ready");
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
        let (_, _, resource) = http(
            &c,
            Method::GET,
            body["task"]["resource"]["href"].as_str().unwrap(),
            None,
            &[],
        )
        .await;
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
    let (status, _, _) = http(&c, Method::GET, &href, None, &[]).await;
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
    let (status, _, _) = http(
        &c,
        Method::GET,
        &format!("/api/v1/tasks/{}/result", done.id),
        None,
        &[],
    )
    .await;
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
    let (status, _, _) = http(
        &c,
        Method::GET,
        &format!("/api/v1/tasks/{id}/result"),
        None,
        &[],
    )
    .await;
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
    let (_, _, page) = http(&c, Method::GET, "/api/v1/tasks?limit=3", None, &[]).await;
    let listed: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, [&ids[4], &ids[3], &ids[2]].map(String::as_str));
    let next = page["next"].as_str().unwrap();
    let (_, _, rest) = http(
        &c,
        Method::GET,
        &format!("/api/v1/tasks?limit=3&next={next}"),
        None,
        &[],
    )
    .await;
    assert_eq!(
        rest["items"].as_array().unwrap().len(),
        3,
        "two provisions and the install"
    );
    assert!(rest.get("next").is_none());
    let (_, _, ok) = http(&c, Method::GET, "/api/v1/tasks?state=success", None, &[]).await;
    assert_eq!(ok["items"].as_array().unwrap().len(), 6);
    let (_, _, none) = http(&c, Method::GET, "/api/v1/tasks?state=running", None, &[]).await;
    assert_eq!(none["items"], json!([]));
    let one = c.client().task(ids[0].parse().unwrap()).await.unwrap();
    let (_, _, mine) = http(
        &c,
        Method::GET,
        &format!("/api/v1/tasks?resource={}", one.resource.id),
        None,
        &[],
    )
    .await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
    let (status, _, _) = http(&c, Method::GET, "/api/v1/tasks?state=sleeping", None, &[]).await;
    assert_eq!(status, 400);
    let (_, _, resources) = http(
        &c,
        Method::GET,
        &format!(
            "/api/v1/resources?application={}&type={THING}",
            c.application()
        ),
        None,
        &[],
    )
    .await;
    assert_eq!(resources["items"].as_array().unwrap().len(), 5);
}

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
        (Method::GET, "/api/v1/tasks/not-a-uuid".to_owned(), 404),
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
    let (_, _, listed) = http(&c, Method::GET, "/api/v1/applications", None, &[]).await;
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
    let (status, _, changed) = http(
        &c,
        Method::PUT,
        &path,
        Some(json!({"size": 9, "aps": {"id": "hijack"}})),
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
    let zip = common::zip_of(&Scripted::model());
    let package: Value = reqwest::Client::new()
        .post(format!("{url}/api/v1/packages"))
        .body(zip)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
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
