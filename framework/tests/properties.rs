//! Property tests: whatever bytes arrive as a body or as APS header values, the endpoint answers
//! (2xx or an APS-shaped 4xx) and never panics.
#![allow(clippy::unwrap_used)] // a test that cannot set itself up should stop right there

mod support;

use aps_test_support::json::{json_with_keys, keys_among};
use axum::body::Body;
use axum::http::{HeaderValue, Request};
use proptest::prelude::*;
use serde_json::Value;
use tower::ServiceExt;

fn answer(request: Request<Body>) -> (u16, Vec<u8>) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let response = support::app().router().oneshot(request).await.unwrap();
        let status = response.status().as_u16();
        (
            status,
            axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .unwrap()
                .to_vec(),
        )
    })
}

fn check(status: u16, body: &[u8]) -> Result<(), TestCaseError> {
    prop_assert!(
        (200..300).contains(&status) || (400..500).contains(&status),
        "status {}",
        status
    );
    if status >= 400 {
        let error: Value =
            serde_json::from_slice(body).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(error["code"].as_u64(), Some(u64::from(status)));
    }
    Ok(())
}

fn request(
    method: &str,
    path: &str,
    headers: &[(&str, HeaderValue)],
    body: Vec<u8>,
) -> Request<Body> {
    let mut request = Request::builder().method(method).uri(path);
    for (name, value) in headers {
        request = request.header(*name, value.clone());
    }
    request.body(Body::from(body)).unwrap()
}

fn aps_headers() -> Vec<(&'static str, HeaderValue)> {
    vec![
        (
            "APS-Instance-ID",
            HeaderValue::from_static("5bb7e1a0-7f8c-4e0a-9d3f-2a9c0b1d4e55"),
        ),
        (
            "APS-Controller-URI",
            HeaderValue::from_static("http://127.0.0.1:1"),
        ),
    ]
}

/// JSON values of any shape, a few levels deep, with the resources' keys among random ones.
fn json() -> impl Strategy<Value = Value> {
    json_with_keys(keys_among(&["aps", "quota", "job", "id", "x509", "self"]))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn any_bytes_as_a_body(body in prop::collection::vec(any::<u8>(), 0..512), path in prop_oneof![Just("/mailbox/"), Just("/globals/"), Just("/mailbox/00000000-0000-4000-8000-00000000a001")], put in any::<bool>()) {
        let method = if put && path == "/mailbox/00000000-0000-4000-8000-00000000a001" { "PUT" } else { "POST" };
        let (status, answer) = answer(request(method, path, &aps_headers(), body));
        check(status, &answer)?;
    }

    #[test]
    fn any_json_as_a_resource(value in json(), path in prop_oneof![Just("/mailbox/"), Just("/globals/"), Just("/mailbox/00000000-0000-4000-8000-00000000a001")]) {
        let method = if path == "/mailbox/00000000-0000-4000-8000-00000000a001" { "PUT" } else { "POST" };
        let (status, answer) = answer(request(method, path, &aps_headers(), serde_json::to_vec(&value).unwrap()));
        check(status, &answer)?;
    }

    #[test]
    fn any_bytes_as_aps_headers(instance in prop::collection::vec(any::<u8>(), 0..64), controller in prop::collection::vec(any::<u8>(), 0..64), phase in prop::collection::vec(any::<u8>(), 0..16)) {
        let mut headers = Vec::new();
        for (name, bytes) in [("APS-Instance-ID", instance), ("APS-Controller-URI", controller), ("APS-Request-Phase", phase)] {
            if let Ok(value) = HeaderValue::from_bytes(&bytes) {
                headers.push((name, value));
            }
        }
        let (status, answer) = answer(request("POST", "/mailbox/", &headers, br#"{"quota":1}"#.to_vec()));
        check(status, &answer)?;
    }
}
