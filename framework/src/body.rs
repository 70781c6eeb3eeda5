//! Reading request bodies: bounded in size and time, and as JSON bounded in depth.

use aps_protocol::json::{MAX_DEPTH, nests_deeper_than};
use axum::body::{Body, Bytes};
use http::{HeaderMap, StatusCode, header};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde_json::{Map, Value};

use crate::limits::BODY_READ_TIMEOUT;
use crate::trace::clean;
use crate::{Error, Result};

/// Reads a body of at most `limit` bytes.
pub(crate) async fn read(request_headers: &HeaderMap, body: Body, limit: usize) -> Result<Bytes> {
    let too_large = || {
        Error::with(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PayloadTooLarge",
            format!("the body is larger than the limit of {limit} bytes"),
        )
    };
    let declared = request_headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    let read = tokio::time::timeout(BODY_READ_TIMEOUT, Limited::new(body, limit).collect());
    let bytes = match read.await {
        Ok(Ok(collected)) => collected.to_bytes(),
        Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => return Err(too_large()),
        Ok(Err(e)) => return Err(Error::bad_request(format!("cannot read the body: {e}"))),
        Err(_) => {
            return Err(Error::with(
                StatusCode::REQUEST_TIMEOUT,
                "RequestTimeout",
                format!(
                    "the body did not arrive within {} s",
                    BODY_READ_TIMEOUT.as_secs()
                ),
            ));
        }
    };
    Ok(bytes)
}

/// A body as JSON, or a 400 `InvalidJson`.
pub(crate) fn json(body: &[u8]) -> Result<Value> {
    if nests_deeper_than(body, MAX_DEPTH) {
        return Err(Error::with(
            StatusCode::BAD_REQUEST,
            "InvalidJson",
            format!("the body nests deeper than {MAX_DEPTH} levels"),
        ));
    }
    serde_json::from_slice(body).map_err(|e| {
        Error::with(
            StatusCode::BAD_REQUEST,
            "InvalidJson",
            format!("the body is not valid JSON: {e}"),
        )
    })
}

/// A configure body names the resource of its URL (or none, and gets that one).
pub(crate) fn with_id(body: &[u8], id: &str) -> Result<Vec<u8>> {
    let invalid =
        |message: String| Error::with(StatusCode::BAD_REQUEST, "InvalidResource", message);
    let mut resource = json(body)?;
    let Some(object) = resource.as_object_mut() else {
        return Err(invalid(
            "the body must be a JSON object (a resource)".into(),
        ));
    };
    let Some(aps) = object
        .entry("aps")
        .or_insert_with(|| Value::Object(Map::new()))
        .as_object_mut()
    else {
        return Err(invalid("`aps` must be an object".into()));
    };
    match aps.get("id") {
        Some(Value::String(body_id)) if body_id != id => {
            return Err(Error::bad_request(format!(
                "the body is resource `{}` but the URL names `{}`",
                clean(body_id),
                clean(id)
            )));
        }
        _ => {
            aps.insert("id".into(), Value::String(id.to_owned()));
        }
    }
    Ok(serde_json::to_vec(&resource)?)
}
