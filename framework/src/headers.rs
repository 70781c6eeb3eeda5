//! The APS request headers: which instance, which controller, which phase.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use aps_protocol::Phase;
use aps_protocol::headers::{self, text_of};
use http::{HeaderMap, HeaderValue, StatusCode};
use url::Url;
use uuid::Uuid;

use crate::trace::clean;
use crate::{Error, Result};

/// How many distinct `APS-Controller-URI` values [`ControllerUrls`] keeps parsed.
const KEPT_URLS: usize = 64;

/// What the APS headers of a request say.
#[derive(Debug)]
pub(crate) struct ApsHeaders {
    /// `APS-Instance-ID`.
    pub(crate) instance_id: Uuid,
    /// `APS-Controller-URI`, checked: an http(s) URL with a host, without query or fragment.
    pub(crate) controller: Arc<str>,
    /// `APS-Request-Phase`.
    pub(crate) phase: Phase,
}

impl ApsHeaders {
    /// Reads the headers; a missing, repeated or malformed one is a 400.
    pub(crate) fn read(request_headers: &HeaderMap, urls: &ControllerUrls) -> Result<Self> {
        // A header given twice could be read one way here and another way by a proxy: refuse it.
        let one = |name: &str| -> Result<Option<&HeaderValue>> {
            let mut values = request_headers.get_all(name).iter();
            match (values.next(), values.next()) {
                (Some(value), None) => Ok(Some(value)),
                (None, _) => Ok(None),
                (Some(_), Some(_)) => Err(invalid(format!(
                    "the {name} header is given more than once"
                ))),
            }
        };
        let text = |name: &str| Ok::<_, Error>(one(name)?.map(text_of));
        let instance =
            text(headers::INSTANCE_ID)?.ok_or_else(|| missing_header("APS-Instance-ID"))?;
        let instance_id = Uuid::parse_str(instance.trim()).map_err(|_| {
            invalid(format!(
                "APS-Instance-ID must be a UUID, not `{}`",
                clean(&instance)
            ))
        })?;
        let controller =
            one(headers::CONTROLLER_URI)?.ok_or_else(|| missing_header("APS-Controller-URI"))?;
        let controller = urls.parse(controller).ok_or_else(|| {
            invalid(format!(
                "APS-Controller-URI must be an http(s) URL, not `{}`",
                clean(&text_of(controller))
            ))
        })?;
        let phase = Phase::parse(text(headers::REQUEST_PHASE)?.as_deref())
            .map_err(|e| invalid(e.to_string()))?;
        Ok(Self {
            instance_id,
            controller,
            phase,
        })
    }
}

/// The controllers' URLs as requests name them, parsed once: an endpoint hears from one or a
/// few controllers, and parsing a URL (with its IDNA host rules) costs more than finding it.
#[derive(Debug, Default)]
pub(crate) struct ControllerUrls(RwLock<HashMap<HeaderValue, Arc<str>>>);

impl ControllerUrls {
    /// The http(s) URL with a host that `value` holds, as a base for the controller's API (its
    /// query and fragment dropped), or `None`.
    pub(crate) fn parse(&self, value: &HeaderValue) -> Option<Arc<str>> {
        let known = self.0.read().unwrap_or_else(PoisonError::into_inner);
        if let Some(url) = known.get(value) {
            return Some(url.clone());
        }
        drop(known);
        let mut url = Url::parse(headers::text_of(value).trim())
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())?;
        url.set_query(None);
        url.set_fragment(None);
        let url: Arc<str> = url.as_str().into();
        let mut known = self.0.write().unwrap_or_else(PoisonError::into_inner);
        // Many distinct values mean someone is making them up: start over rather than grow.
        if known.len() >= KEPT_URLS {
            known.clear();
        }
        known.insert(value.clone(), url.clone());
        Some(url)
    }
}

fn invalid(message: String) -> Error {
    Error::with(StatusCode::BAD_REQUEST, "InvalidHeader", message)
}

fn missing_header(name: &str) -> Error {
    Error::with(
        StatusCode::BAD_REQUEST,
        "MissingHeader",
        format!("the {name} header is required"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controller_urls_are_parsed_once_checked_every_time_and_bounded() {
        let urls = ControllerUrls::default();
        let value = HeaderValue::from_static(" http://controller.example:6308/ ");
        let first = urls.parse(&value).expect("valid");
        assert_eq!(&*first, "http://controller.example:6308/");
        assert_eq!(urls.parse(&value), Some(first));
        let queried = HeaderValue::from_static("https://c.example/base?x=1#f");
        assert_eq!(
            urls.parse(&queried).as_deref(),
            Some("https://c.example/base")
        );
        for bad in ["ftp://x/", "not a url", "http://", "file:///etc/passwd"] {
            assert_eq!(urls.parse(&HeaderValue::from_static(bad)), None, "{bad}");
        }
        for i in 0..KEPT_URLS * 3 {
            let value = HeaderValue::from_str(&format!("https://c{i}.example/")).expect("value");
            assert!(urls.parse(&value).is_some());
            assert!(urls.0.read().expect("lock").len() <= KEPT_URLS);
        }
    }
}
