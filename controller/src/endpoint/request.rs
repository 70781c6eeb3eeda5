//! What a call to an endpoint sends: the APS request headers and the resource.

use aps_protocol::headers::{self, Phase, header_text};
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method};
use serde_json::Value;
use url::Url;
use uuid::Uuid;

use super::{Endpoints, Unreachable};

/// The APS version the controller speaks.
const APS_VERSION: &str = "2.0";

/// One call to an endpoint.
#[derive(Debug, Clone)]
pub(crate) struct Call<'a> {
    pub method: Method,
    /// The endpoint's base URL.
    pub base: &'a str,
    /// The path's segments below the base, e.g. `[service, ""]` for `/{service}/` or
    /// `[service, id]`: each is escaped on its own ([`url_of`]), never joined as text.
    pub path: Vec<String>,
    /// The query string's pairs (a custom operation's query parameters), encoded on their own.
    pub query: &'a [(String, String)],
    pub phase: Phase,
    pub instance: Uuid,
    pub transaction: Uuid,
    pub body: Option<&'a Value>,
    /// Whether this is an instance install, whose body carries the instance's credentials.
    pub install: bool,
}

impl Endpoints {
    /// The headers and body of a call as sent.
    pub(super) fn request(&self, call: &Call<'_>) -> Result<(HeaderMap, Bytes), Unreachable> {
        let mut headers = HeaderMap::new();
        headers.insert(headers::CONTROLLER_URI, self.controller_uri.clone());
        headers.insert(
            headers::INSTANCE_ID,
            header_text(&call.instance.to_string()),
        );
        headers.insert(
            headers::TRANSACTION_ID,
            header_text(&call.transaction.to_string()),
        );
        headers.insert(
            headers::REQUEST_PHASE,
            HeaderValue::from_static(call.phase.as_str()),
        );
        headers.insert(headers::VERSION, HeaderValue::from_static(APS_VERSION));
        let body = match call.body {
            Some(resource) => {
                headers.insert(
                    http::header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
                self.body_of(call, resource)?
            }
            None => Bytes::new(),
        };
        Ok((headers, body))
    }
}

/// The URL of a call: the endpoint's base with the call's path segments added one by one, so
/// that no segment can end the path or add a query. A query or fragment on the base (refused
/// at install, but kept by older stores) is dropped.
pub(super) fn url_of(
    base: &str,
    segments: &[String],
    query: &[(String, String)],
) -> Result<Url, Unreachable> {
    let not_a_base = || Unreachable("the endpoint URL cannot have paths below it".into());
    // The url crate resolves these instead of escaping them.
    if segments.iter().any(|s| s == "." || s == "..") {
        return Err(Unreachable("a path segment is `.` or `..`".into()));
    }
    let mut url = Url::parse(base).map_err(|_| not_a_base())?;
    url.set_query(None);
    url.set_fragment(None);
    url.path_segments_mut()
        .map_err(|()| not_a_base())?
        .pop_if_empty()
        .extend(segments);
    if !query.is_empty() {
        url.query_pairs_mut().extend_pairs(query);
    }
    Ok(url)
}

#[cfg(test)]
mod url_tests {
    use super::*;

    #[test]
    fn segments_are_escaped_one_by_one_below_the_base() {
        let segments = |s: &[&str]| s.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let url = url_of("http://h:1/base/", &segments(&["svc", ""]), &[]).expect("url");
        assert_eq!(url.as_str(), "http://h:1/base/svc/");
        let url = url_of("http://h:1/base", &segments(&["svc", "a/b?c#d"]), &[]).expect("url");
        assert_eq!(url.as_str(), "http://h:1/base/svc/a%2Fb%3Fc%23d");
        assert!(url_of("http://h:1/base", &segments(&["svc", ".."]), &[]).is_err());
        // A query kept by an older store is dropped, never carried into the path.
        let url = url_of("http://h:1/anything?x=1", &segments(&["globals", ""]), &[]).expect("url");
        assert_eq!(url.as_str(), "http://h:1/anything/globals/");
        assert!(url_of("mailto:a@b", &segments(&["x"]), &[]).is_err());
    }
}
