use super::*;

#[test]
fn retry_timeout_is_read_and_clamped() {
    let mut head = HeaderMap::new();
    assert_eq!(
        reply(202, &head, Bytes::new()).retry_secs,
        DEFAULT_RETRY_SECS
    );
    head.insert(headers::RETRY_TIMEOUT, HeaderValue::from_static("soon"));
    assert_eq!(
        reply(202, &head, Bytes::new()).retry_secs,
        DEFAULT_RETRY_SECS
    );
    head.insert(headers::RETRY_TIMEOUT, HeaderValue::from_static("0"));
    assert_eq!(reply(202, &head, Bytes::new()).retry_secs, 1);
    head.insert(headers::RETRY_TIMEOUT, HeaderValue::from_static(" 7 "));
    assert_eq!(reply(202, &head, Bytes::new()).retry_secs, 7);
    for huge in [
        "18446744073709551615",
        "99999999999999999999999",
        "9300000000000000000",
    ] {
        head.insert(headers::RETRY_TIMEOUT, HeaderValue::from_static(huge));
        assert_eq!(reply(202, &head, Bytes::new()).retry_secs, MAX_RETRY_SECS);
    }
    head.insert(headers::RETRY_TIMEOUT, HeaderValue::from_static("9.3e18"));
    assert_eq!(
        reply(202, &head, Bytes::new()).retry_secs,
        DEFAULT_RETRY_SECS
    );
}

#[test]
fn echoed_credentials_are_dropped() {
    let echoed = Bytes::from(r#"{"aps":{"id":"x","x509":{"self":"KEY"}},"n":1}"#);
    let kept = reply(200, &HeaderMap::new(), echoed).body;
    let kept: Value = serde_json::from_slice(&kept).unwrap();
    assert_eq!(kept, json!({"aps": {"id": "x"}, "n": 1}));
    let plain = Bytes::from_static(b"<html>x509</html>");
    assert_eq!(reply(500, &HeaderMap::new(), plain.clone()).body, plain);
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
        let read = reply(status, &head, Bytes::from(body));
        proptest::prop_assert!((1..=MAX_RETRY_SECS).contains(&read.retry_secs));
        // Credentials echoed in a JSON answer never get through.
        if echoed && serde_json::from_slice::<Value>(&read.body).is_ok() {
            proptest::prop_assert!(!read.body.windows(3).any(|w| w == b"KEY"));
        }
    }
}
