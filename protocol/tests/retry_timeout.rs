//! `APS-Retry-Timeout`: the default when absent or unusable, the bounds, and a value written
//! by one side reads the same on the other.

#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

use std::time::Duration;

use aps_protocol::RetryTimeout;
use aps_protocol::headers::RETRY_TIMEOUT;
use http::{HeaderMap, HeaderValue};
use proptest::prelude::*;

fn read(value: &'static str) -> RetryTimeout {
    let mut headers = HeaderMap::new();
    headers.insert(RETRY_TIMEOUT, HeaderValue::from_static(value));
    RetryTimeout::from_headers(&headers)
}

#[test]
fn an_absent_header_reads_as_the_default_of_30_seconds() {
    assert_eq!(
        RetryTimeout::from_headers(&HeaderMap::new()),
        RetryTimeout::DEFAULT
    );
    assert_eq!(RetryTimeout::DEFAULT.duration(), Duration::from_secs(30));
    assert_eq!(RetryTimeout::default(), RetryTimeout::DEFAULT);
}

#[test]
fn an_unusable_value_reads_as_the_default() {
    for unusable in ["", "soon", "1.5", "-3", "9.3e18", "+5", "7 s"] {
        assert_eq!(read(unusable), RetryTimeout::DEFAULT, "{unusable:?}");
    }
}

#[test]
fn zero_reads_as_one_second() {
    assert_eq!(read("0"), RetryTimeout::MIN);
    assert_eq!(RetryTimeout::MIN.secs(), 1);
}

#[test]
fn blanks_around_the_seconds_are_allowed() {
    assert_eq!(read(" 7 ").secs(), 7);
}

#[test]
fn a_delay_past_a_day_reads_as_a_day_even_past_u64() {
    assert_eq!(RetryTimeout::MAX.secs(), 24 * 3600);
    for huge in [
        "86401",
        "9300000000000000000",
        "18446744073709551615",
        "99999999999999999999999",
    ] {
        assert_eq!(read(huge), RetryTimeout::MAX, "{huge}");
    }
}

#[test]
fn the_written_value_is_the_clamped_seconds() {
    assert_eq!(RetryTimeout::from_secs(0).header_value(), "1");
    assert_eq!(RetryTimeout::from_secs(45).header_value(), "45");
    assert_eq!(RetryTimeout::from_secs(u64::MAX).header_value(), "86400");
}

proptest! {
    #[test]
    fn any_header_value_reads_within_the_bounds(bytes in prop::collection::vec(any::<u8>(), 0..24)) {
        let mut headers = HeaderMap::new();
        if let Ok(value) = HeaderValue::from_bytes(&bytes) {
            headers.insert(RETRY_TIMEOUT, value);
        }
        let read = RetryTimeout::from_headers(&headers);
        prop_assert!((RetryTimeout::MIN..=RetryTimeout::MAX).contains(&read));
    }

    #[test]
    fn what_one_side_writes_the_other_reads_back(secs in any::<u64>()) {
        let written = RetryTimeout::from_secs(secs);
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_TIMEOUT, written.header_value());
        prop_assert_eq!(RetryTimeout::from_headers(&headers), written);
        prop_assert_eq!(written.secs(), secs.clamp(1, 86_400));
    }
}
