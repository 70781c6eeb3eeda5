//! The answers both sides build the same way: the 202 with `APS-Info` and `APS-Retry-Timeout`,
//! the 503 `Busy`, and the APS error body, written and read back.

#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

use aps_protocol::busy::{RETRY_AFTER_BUSY, busy};
use aps_protocol::headers::{INFO, RETRY_TIMEOUT};
use aps_protocol::json::MAX_DEPTH;
use aps_protocol::{Accepted, ErrorBody, RetryTimeout};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use proptest::prelude::*;

#[test]
fn the_202_carries_the_resource_info_and_retry_timeout() {
    let answer =
        Accepted::new("Provisioning the VM", RetryTimeout::from_secs(5)).response(b"{}".to_vec());
    assert_eq!(answer.status(), StatusCode::ACCEPTED);
    assert_eq!(answer.headers()[header::CONTENT_TYPE], "application/json");
    assert_eq!(answer.headers()[INFO], "Provisioning the VM");
    assert_eq!(answer.headers()[RETRY_TIMEOUT], "5");
    assert_eq!(answer.body(), b"{}");
}

#[test]
fn the_202_info_cannot_break_the_header() {
    let answer = Accepted::new("a\r\nSet-Cookie: x\0", RetryTimeout::DEFAULT).response(vec![]);
    assert_eq!(answer.headers()[INFO], "a  Set-Cookie: x");
    assert_eq!(answer.headers().len(), 3);
}

#[test]
fn the_202_without_info_sends_no_info_header() {
    let answer = Accepted::default().response(vec![]);
    assert!(answer.headers().get(INFO).is_none());
    assert_eq!(answer.headers()[RETRY_TIMEOUT], "30");
}

#[test]
fn empty_info_reads_as_none() {
    let mut headers = HeaderMap::new();
    headers.insert(INFO, HeaderValue::from_static(""));
    assert_eq!(Accepted::from_headers(&headers), Accepted::default());
}

#[test]
fn info_that_is_not_utf8_is_read_with_replacements() {
    let mut headers = HeaderMap::new();
    headers.insert(INFO, HeaderValue::from_bytes(b"caf\xe9").unwrap());
    assert_eq!(
        Accepted::from_headers(&headers).info.as_deref(),
        Some("caf\u{fffd}")
    );
}

#[test]
fn busy_is_a_503_with_retry_after_and_an_aps_error() {
    let answer = busy("controller");
    assert_eq!(answer.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        answer.headers()[header::RETRY_AFTER],
        RETRY_AFTER_BUSY.as_secs().to_string()
    );
    let body = ErrorBody::from_peer(503, answer.body()).unwrap();
    assert_eq!(body.error, "Busy");
    assert!(body.message.contains("controller"), "{}", body.message);
}

#[test]
fn an_error_answer_has_the_status_of_its_code() {
    let body = ErrorBody::new(404, "NotFound", "no such resource");
    let answer = body.response();
    assert_eq!(answer.status(), StatusCode::NOT_FOUND);
    assert_eq!(answer.headers()[header::CONTENT_TYPE], "application/json");
    assert_eq!(ErrorBody::from_peer(404, answer.body()), Some(body));
}

#[test]
fn an_error_code_that_is_no_status_answers_500() {
    assert_eq!(
        ErrorBody::new(42, "Odd", "").response().status(),
        StatusCode::INTERNAL_SERVER_ERROR
    );
}

#[test]
fn a_peer_error_takes_the_status_it_came_with() {
    let read = ErrorBody::from_peer(409, br#"{"code":200,"error":"Conflict","message":"busy"}"#);
    assert_eq!(read.unwrap().code, 409);
}

#[test]
fn a_peer_body_that_is_no_aps_error_reads_as_none() {
    for body in [
        &b""[..],
        b"<html>502 Bad Gateway</html>",
        br#"{"error":"NoCode"}"#,
        br#"{"code":"500","error":"X","message":"m"}"#,
    ] {
        assert_eq!(ErrorBody::from_peer(500, body), None, "{body:?}");
    }
}

#[test]
fn a_peer_error_nested_too_deep_is_refused_before_parsing() {
    let nested = |levels: usize| {
        format!(
            r#"{{"code":400,"error":"Deep","message":"m","details":{}1{}}}"#,
            "[".repeat(levels),
            "]".repeat(levels)
        )
    };
    // The body object is one level; details add the rest.
    assert!(ErrorBody::from_peer(400, nested(MAX_DEPTH - 1).as_bytes()).is_some());
    assert_eq!(
        ErrorBody::from_peer(400, nested(MAX_DEPTH).as_bytes()),
        None
    );
}

proptest! {
    #[test]
    fn any_peer_body_is_read_without_panic(status in 100u16..1000, body in prop::collection::vec(any::<u8>(), 0..256)) {
        if let Some(error) = ErrorBody::from_peer(status, &body) {
            prop_assert_eq!(error.code, status);
        }
    }

    #[test]
    fn any_info_text_reads_back_as_a_header_allows(info in ".{0,64}", secs in any::<u64>()) {
        let answer = Accepted::new(info.clone(), RetryTimeout::from_secs(secs)).response(vec![]);
        let read = Accepted::from_headers(answer.headers());
        prop_assert_eq!(read.retry, RetryTimeout::from_secs(secs));
        let expected = aps_protocol::headers::header_text(&info);
        let expected = (!expected.is_empty()).then(|| String::from_utf8_lossy(expected.as_bytes()).into_owned());
        prop_assert_eq!(read.info, expected);
    }
}
