//! What every request is checked for before the router sees it, answered in the APS error shape
//! (`{"code", "error", "message"}`) like every other refusal of both servers:
//!
//! * an HTTP/1.1 request names exactly one `Host` (RFC 9112 §3.2): none, or two, is 400
//!   `InvalidHost`;
//! * a request head is at most [`Limits::max_head`] bytes and [`Limits::max_headers`] headers:
//!   431 `HeadersTooLarge`. hyper reads up to twice as much (see [`Limits::protect`]) so that
//!   heads somewhat over the limit get this answer rather than hyper's bare 431; only heads over
//!   hyper's own bound still get that.

use aps_protocol::ErrorBody;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::{StatusCode, Version, header};

use crate::Limits;

/// Checks a request (see the module docs); passes it on when it is fine.
pub(crate) async fn request(
    State(limits): State<Limits>,
    request: Request,
    next: Next,
) -> Response {
    if let Some(refused) = refusal(&limits, &request) {
        return refused.response().map(Body::from);
    }
    next.run(request).await
}

fn refusal(limits: &Limits, request: &Request) -> Option<ErrorBody> {
    if request.version() == Version::HTTP_11
        && request.headers().get_all(header::HOST).iter().count() != 1
    {
        return Some(ErrorBody::new(
            StatusCode::BAD_REQUEST.as_u16(),
            "InvalidHost",
            "an HTTP/1.1 request names exactly one Host",
        ));
    }
    let uri = request.uri();
    let target = uri.path_and_query().map_or(0, |p| p.as_str().len())
        + uri.authority().map_or(0, |a| a.as_str().len());
    let head = target
        + request
            .headers()
            .iter()
            .map(|(name, value)| name.as_str().len() + value.len() + 4)
            .sum::<usize>();
    (head > limits.max_head || request.headers().len() > limits.max_headers).then(|| {
        ErrorBody::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE.as_u16(),
            "HeadersTooLarge",
            format!(
                "a request may have {} headers and {} bytes of request line and headers",
                limits.max_headers, limits.max_head
            ),
        )
    })
}
