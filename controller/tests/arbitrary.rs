//! Property tests over HTTP: arbitrary bytes and arbitrary JSON as request bodies, and arbitrary
//! query strings, against a running controller. Every answer is a success or an APS-shaped 4xx:
//! never a 5xx, never a dropped connection.

#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

mod common;

use aps_controller::testkit::TestController;
use aps_test_support::json::{json_with_keys, keys_among};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use reqwest::Method;
use serde_json::{Value, json};

/// Arbitrary JSON, nested a few levels, with keys the API knows among random ones.
fn json_value() -> impl Strategy<Value = Value> {
    json_with_keys(keys_among(&[
        "package",
        "endpoint",
        "application",
        "timeout",
        "callbackURL",
        "settings",
    ]))
}

/// A body: random bytes, or JSON text.
fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..256),
        json_value().prop_map(|v| v.to_string().into_bytes()),
    ]
}

/// A query string of the task list's parameters with arbitrary values.
fn query() -> impl Strategy<Value = String> {
    let name = prop_oneof![
        Just("state"),
        Just("limit"),
        Just("next"),
        Just("resource"),
        Just("since_revision"),
        Just("last_modified"),
    ];
    prop::collection::vec((name, ".{0,12}"), 0..4).prop_map(|pairs| {
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish()
    })
}

fn assert_answer(what: &str, status: u16, body: &[u8]) -> Result<(), TestCaseError> {
    prop_assert!(
        status < 500,
        "{what}: {status} {}",
        String::from_utf8_lossy(body)
    );
    if status >= 400 {
        let error: Value = serde_json::from_slice(body).unwrap();
        prop_assert_eq!(&error["code"], &json!(status));
        prop_assert!(error["error"].is_string() && error["message"].is_string());
    }
    Ok(())
}

#[test]
fn arbitrary_bodies_and_queries_get_answers_in_the_aps_shape() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (c, _endpoint) = runtime.block_on(common::scripted());
    let base = c.controller().url();
    let root = runtime.block_on(root_of(&c));
    let http = reqwest::Client::new();
    let targets = [
        (Method::POST, format!("{base}/api/v1/applications")),
        (Method::POST, format!("{base}/api/v1/resources")),
        (Method::PUT, format!("{base}/api/v1/resources/{root}")),
        (
            Method::DELETE,
            format!("{base}/api/v1/resources/{}", uuid::Uuid::new_v4()),
        ),
        (Method::POST, format!("{base}/api/v1/packages")),
    ];
    let mut runner = TestRunner::new(Config::with_cases(96));
    runner
        .run(&(0..targets.len(), body()), |(target, body)| {
            let (method, url) = &targets[target];
            let (status, answer) = runtime.block_on(async {
                let response = http
                    .request(method.clone(), url)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                (response.status().as_u16(), response.bytes().await.unwrap())
            });
            assert_answer(url, status, &answer)
        })
        .unwrap();
    runner
        .run(&query(), |query| {
            let url = format!("{base}/api/v1/tasks?{query}");
            let (status, answer) = runtime.block_on(async {
                let response = http.get(&url).send().await.unwrap();
                (response.status().as_u16(), response.bytes().await.unwrap())
            });
            assert_answer(&url, status, &answer)
        })
        .unwrap();
}

async fn root_of(c: &TestController) -> String {
    let (_, _, app) = common::get(c, &format!("/api/v1/applications/{}", c.application())).await;
    app["root"]["aps"]["id"].as_str().unwrap().to_owned()
}
