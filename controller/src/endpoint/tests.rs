use aps_protocol::headers;
use aps_protocol::{ErrorBody, RetryTimeout};
use bytes::Bytes;
use http::{HeaderMap, HeaderValue};
use serde_json::{Value, json};

use super::Reply;

#[test]
fn an_answers_retry_timeout_is_read_by_the_protocols_rule() {
    let mut head = HeaderMap::new();
    head.insert(headers::RETRY_TIMEOUT, HeaderValue::from_static("0"));
    head.insert(headers::INFO, HeaderValue::from_static("Working"));
    let read = Reply::read(202, &head, Bytes::new());
    assert_eq!(read.retry, RetryTimeout::MIN);
    assert_eq!(read.info.as_deref(), Some("Working"));
    assert_eq!(
        Reply::read(202, &HeaderMap::new(), Bytes::new()).retry,
        RetryTimeout::DEFAULT
    );
}

#[test]
fn an_answer_made_in_the_endpoints_place_reads_like_one_it_sent() {
    let read = Reply::too_large();
    assert_eq!(read.status, 502);
    let error = ErrorBody::from_peer(read.status, &read.body).unwrap();
    assert_eq!(error.error, "AnswerTooLarge");
    // A 502 the controller makes fails the operation; only the endpoint's is retried.
    assert!(!read.transient);
    assert!(Reply::read(502, &HeaderMap::new(), Bytes::new()).transient);
}

#[test]
fn echoed_credentials_are_dropped() {
    let echoed = Bytes::from(r#"{"aps":{"id":"x","x509":{"self":"KEY"}},"n":1}"#);
    let kept = Reply::read(200, &HeaderMap::new(), echoed).body;
    let kept: Value = serde_json::from_slice(&kept).unwrap();
    assert_eq!(kept, json!({"aps": {"id": "x"}, "n": 1}));
    let plain = Bytes::from_static(b"<html>x509</html>");
    assert_eq!(
        Reply::read(500, &HeaderMap::new(), plain.clone()).body,
        plain
    );
}

proptest::proptest! {
    #[test]
    fn any_answer_is_read_without_panic(
        status in 100u16..1000,
        retry in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..24),
        info in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64),
        body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..256),
        echoed in proptest::prelude::any::<bool>(),
    ) {
        let mut head = HeaderMap::new();
        if let Ok(value) = HeaderValue::from_bytes(&retry) {
            head.insert(headers::RETRY_TIMEOUT, value);
        }
        if let Ok(value) = HeaderValue::from_bytes(&info) {
            head.insert(headers::INFO, value);
        }
        let mut body = body;
        if echoed {
            body.extend_from_slice(br#"{"aps":{"x509":{"self":"KEY"}}}"#);
        }
        let read = Reply::read(status, &head, Bytes::from(body));
        proptest::prop_assert!((RetryTimeout::MIN..=RetryTimeout::MAX).contains(&read.retry));
        // Credentials echoed in a JSON answer never get through.
        if echoed && serde_json::from_slice::<Value>(&read.body).is_ok() {
            proptest::prop_assert!(!read.body.windows(3).any(|w| w == b"KEY"));
        }
    }
}
