//! Custom operation calls (controller-api.md, "Custom operations"): checked against the
//! declaration, answered as the endpoint answered when it finishes within the client's wait,
//! else a task whose result is the final answer; every call a task, rechecked with the same
//! request in the async phase, kept across a restart, cancellable.

#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

mod common;

use aps_controller::{Controller, State};
use common::{Scripted, get, http, linked, linked_with, made, serve};
use reqwest::Method;
use serde_json::{Value, json};

fn below(endpoint: &Scripted, path: &str) -> Vec<aps_test_support::scripted::Seen> {
    endpoint
        .calls()
        .into_iter()
        .filter(|s| s.path.starts_with(path))
        .collect()
}

#[tokio::test]
async fn a_call_that_ends_in_time_answers_as_the_endpoint_did() {
    let (c, endpoint) = linked().await;
    let thing = made(&c, "thing", json!({})).await;
    let base = format!("/api/v1/resources/{thing}");
    let (status, _, stats) = get(&c, &format!("{base}/stats?days=7")).await;
    assert_eq!(status, 200, "{stats}");
    assert_eq!(stats, json!({"days": 7, "requests": 42}));
    let seen = below(&endpoint, &format!("/thing/{thing}/stats"));
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].path, format!("/thing/{thing}/stats?days=7"));
    assert_eq!(seen[0].headers["aps-request-phase"], "sync");
    assert_eq!(
        seen[0].headers["aps-instance-id"],
        c.application().to_string().as_str()
    );

    let note = json!({"text": "hello"});
    let (status, _, body) = http(
        &c,
        Method::PUT,
        &format!("{base}/note"),
        Some(note.clone()),
        &[],
    )
    .await;
    assert_eq!((status, body), (204, Value::Null));
    assert_eq!(
        below(&endpoint, &format!("/thing/{thing}/note"))[0].body,
        note
    );

    // Every call is a task, named like the others.
    let (_, _, tasks) = get(&c, &format!("/api/v1/tasks?resource={thing}")).await;
    let names: Vec<&str> = tasks["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["operation"] == "call")
        .map(|t| {
            assert_eq!(t["state"], "success");
            t["name"].as_str().unwrap()
        })
        .collect();
    assert_eq!(
        names,
        [
            format!("Calling note on \"thing\" {thing} for APS application scripted"),
            format!("Calling stats on \"thing\" {thing} for APS application scripted"),
        ]
    );
}

#[tokio::test]
async fn an_async_call_is_a_task_whose_result_is_the_final_answer() {
    let (c, endpoint) = linked().await;
    let thing = made(&c, "thing", json!({})).await;
    let restart = format!("/api/v1/resources/{thing}/restart");
    let (status, headers, task) = http(
        &c,
        Method::POST,
        &restart,
        None,
        &[("Prefer", "respond-async")],
    )
    .await;
    assert_eq!(status, 202, "{task}");
    assert_eq!(
        headers["location"],
        format!("/api/v1/tasks/{}", task["id"].as_str().unwrap()).as_str()
    );
    assert_eq!(task["operation"], "call");
    let id = task["id"].as_str().unwrap().parse().unwrap();
    let done = c.client().wait(id, |_| {}).await.unwrap();
    assert_eq!(done.state, State::Success, "{:?}", done.output);
    assert_eq!(done.description.as_deref(), Some("Restarting"));
    let (status, _, result) = get(&c, &format!("/api/v1/tasks/{id}/result")).await;
    assert_eq!((status, result), (200, json!({"restarted": true})));
    let seen = below(&endpoint, &format!("/thing/{thing}/restart"));
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].headers["aps-request-phase"], "sync");
    assert_eq!(seen[1].headers["aps-request-phase"], "async");
    assert_eq!(
        seen[0].headers["aps-transaction-id"],
        seen[1].headers["aps-transaction-id"]
    );
    assert_eq!(seen[1].method, Method::POST);

    // Waiting (the default, or `Prefer: wait=N`) answers with the final answer itself.
    for prefer in [None, Some("wait=20")] {
        let headers: Vec<(&str, &str)> = prefer.map(|p| ("Prefer", p)).into_iter().collect();
        let (status, _, body) = http(&c, Method::POST, &restart, None, &headers).await;
        assert_eq!(
            (status, body),
            (200, json!({"restarted": true})),
            "{prefer:?}"
        );
    }
}

#[tokio::test]
async fn parameters_are_checked_before_the_endpoint_hears_of_the_call() {
    let (c, endpoint) = linked().await;
    let thing = made(&c, "thing", json!({})).await;
    let base = format!("/api/v1/resources/{thing}");
    for (method, path, body, named) in [
        (Method::GET, "stats", None, "days"),
        (Method::GET, "stats?days=soon", None, "days"),
        (Method::GET, "stats?days=2.5", None, "days"),
        (Method::GET, "stats?days=1&weeks=2", None, "weeks"),
        (Method::PUT, "note", None, "note"),
        (Method::PUT, "note", Some(json!([1])), "note"),
        (Method::POST, "restart", Some(json!({"now": true})), "body"),
    ] {
        let (status, _, error) = http(&c, method, &format!("{base}/{path}"), body, &[]).await;
        assert_eq!(status, 400, "{path}: {error}");
        assert_eq!(error["details"]["parameter"], named, "{path}: {error}");
        assert!(
            error["message"].as_str().unwrap().contains(named),
            "{error}"
        );
    }
    assert!(below(&endpoint, &format!("/thing/{thing}/")).is_empty());
}

#[tokio::test]
async fn undeclared_operations_are_404_and_declared_paths_with_another_verb_405() {
    let (c, endpoint) = linked().await;
    let thing = made(&c, "thing", json!({})).await;
    let base = format!("/api/v1/resources/{thing}");
    let (status, _, error) = http(&c, Method::POST, &format!("{base}/stop"), None, &[]).await;
    assert_eq!((status, error["code"].as_u64()), (404, Some(404)));
    let (status, headers, error) =
        http(&c, Method::POST, &format!("{base}/stats?days=1"), None, &[]).await;
    assert_eq!((status, error["code"].as_u64()), (405, Some(405)));
    assert_eq!(headers["allow"], "GET");
    let nobody = uuid::Uuid::new_v4();
    let (status, _, _) = http(
        &c,
        Method::POST,
        &format!("/api/v1/resources/{nobody}/restart"),
        None,
        &[],
    )
    .await;
    assert_eq!(status, 404);
    assert!(below(&endpoint, &format!("/thing/{thing}/")).is_empty());
}

#[tokio::test]
async fn a_call_task_is_cancellable_and_leaves_the_resource_free() {
    // Real time: the endpoint's 30 s recheck does not come during the test.
    let (c, _) = linked_with(Controller::builder().time_scale(1.0)).await;
    let thing = made(&c, "thing", json!({})).await;
    let restart = format!("/api/v1/resources/{thing}/restart");
    let (_, _, task) = http(
        &c,
        Method::POST,
        &restart,
        None,
        &[("Prefer", "respond-async")],
    )
    .await;
    let id: uuid::Uuid = task["id"].as_str().unwrap().parse().unwrap();
    let running = c
        .client()
        .poll(id, task["revision"].as_u64().unwrap() + 1, 10)
        .await
        .unwrap();
    assert_eq!(running.state, State::Running);
    // A call does not hold its resource: the resource can be changed meanwhile.
    let (status, _, _) = http(
        &c,
        Method::PUT,
        &format!("/api/v1/resources/{thing}"),
        Some(json!({"resource": {"label": "x"}})),
        &[],
    )
    .await;
    assert_eq!(status, 200);
    let (status, _, canceled) = http(
        &c,
        Method::POST,
        &format!("/api/v1/tasks/{id}/cancel"),
        None,
        &[],
    )
    .await;
    assert_eq!(status, 200, "{canceled}");
    assert_eq!(canceled["state"], "canceled");
}

#[tokio::test]
async fn a_call_task_survives_a_controller_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("controller.db");
    let endpoint = Scripted::default();
    let url = serve(endpoint.router()).await;
    let start = |scale: f64| {
        Controller::builder()
            .database(db.to_string_lossy())
            .listen("127.0.0.1:0".parse().unwrap())
            .time_scale(scale)
            .start()
    };
    // At real time the 30 s recheck is still ahead when the controller stops.
    let first = start(1.0).await.unwrap();
    let package = first.import(&Scripted::linked_model()).await.unwrap();
    let client = first.client();
    let install = client.install(package.id, &url, json!({})).await.unwrap();
    let install = client.wait(install.id, |_| {}).await.unwrap();
    let thing = client
        .provision(install.application, "thing", json!({}))
        .await
        .unwrap();
    let thing = client.wait(thing.id, |_| {}).await.unwrap();
    assert_eq!(thing.state, State::Success);
    let resource = thing.resource.id;
    let call: aps_controller::Task = client
        .call(resource, "restart", &[], None, Some(0))
        .await
        .unwrap()
        .parse()
        .unwrap();
    let running = client.poll(call.id, call.revision + 1, 10).await.unwrap();
    assert_eq!(running.state, State::Running);
    drop(first);

    let second = start(1000.0).await.unwrap();
    let done = second.client().wait(call.id, |_| {}).await.unwrap();
    assert_eq!(done.state, State::Success, "{:?}", done.output);
    let result = second
        .client()
        .send(
            Method::GET,
            &format!("/api/v1/tasks/{}/result", call.id),
            None,
        )
        .await
        .unwrap();
    assert_eq!(result.body, json!({"restarted": true}));
    let phases: Vec<String> = below(&endpoint, &format!("/thing/{resource}/restart"))
        .iter()
        .map(|s| s.headers["aps-request-phase"].to_str().unwrap().to_owned())
        .collect();
    assert_eq!(phases.last().map(String::as_str), Some("async"));
}
