//! Which controllers an endpoint calls back, and how long it waits for them.
//!
//! A request names its controller in `APS-Controller-URI`, and for `GET` and `DELETE` the
//! endpoint fetches the resource from there while the request holds one of its slots. So:
//!
//! * every call to the controller is cut off after [`App::controller_timeout`](crate::App::controller_timeout)
//!   (10 s unless set), which frees the slot with a 502 rather than holding it as long as the
//!   named server likes;
//! * on plain HTTP (no client certificate proves who sent the request) only controllers on the
//!   allow-list are called ([`App::allow_controller`](crate::App::allow_controller); loopback
//!   addresses when there is none): a request naming another is 403 `UntrustedController`.
//!   Over TLS the client certificate says who is calling, and the instance's credentials decide.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use aps_core::{BoxError, Transport};
use async_trait::async_trait;
use bytes::Bytes;
use http::{Request, Response, StatusCode};
use url::{Host, Url};

use crate::trace::clean;
use crate::{Error, Result};

/// How long a call to the controller may take unless the application says otherwise.
pub(crate) const DEFAULT_CONTROLLER_TIMEOUT: Duration = Duration::from_secs(10);

/// Refuses a controller URL that is not allowed: on plain HTTP (`tls` false) it must have the
/// origin of one of `allowed`, or with none given, a loopback host.
pub(crate) fn admit(allowed: &[Url], controller: &str, tls: bool) -> Result<()> {
    if tls {
        return Ok(());
    }
    let Ok(url) = Url::parse(controller) else {
        return Err(untrusted(controller));
    };
    let admitted = if allowed.is_empty() {
        loopback(&url)
    } else {
        allowed.iter().any(|a| a.origin() == url.origin())
    };
    if admitted {
        Ok(())
    } else {
        Err(untrusted(controller))
    }
}

fn loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

fn untrusted(controller: &str) -> Error {
    let shown: String = clean(controller).chars().take(100).collect();
    Error::with(
        StatusCode::FORBIDDEN,
        "UntrustedController",
        format!(
            "this endpoint does not call the controller at `{shown}`: over plain HTTP it calls \
             only those given with --controller-uri (loopback addresses when none is)"
        ),
    )
}

/// A transport whose calls end after a time limit.
#[derive(Debug)]
pub(crate) struct Timed {
    inner: Arc<dyn Transport>,
    limit: Duration,
}

impl Timed {
    /// `inner`, with every call cut off after `limit`.
    pub(crate) fn wrap(inner: Arc<dyn Transport>, limit: Duration) -> Arc<dyn Transport> {
        Arc::new(Self { inner, limit })
    }
}

#[async_trait]
impl Transport for Timed {
    async fn send(
        &self,
        request: Request<Bytes>,
    ) -> std::result::Result<Response<Bytes>, BoxError> {
        match tokio::time::timeout(self.limit, self.inner.send(request)).await {
            Ok(answer) => answer,
            Err(_) => Err(format!(
                "the controller did not answer within {} ms",
                self.limit.as_millis()
            )
            .into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_admits_loopback_or_the_allowed_origins() {
        for local in [
            "http://127.0.0.1:6308",
            "http://[::1]:1/",
            "http://localhost:9/x",
        ] {
            assert!(admit(&[], local, false).is_ok(), "{local}");
        }
        for remote in [
            "http://10.0.0.1:6308",
            "http://controller.example/",
            "nonsense",
        ] {
            assert!(admit(&[], remote, false).is_err(), "{remote}");
            assert!(admit(&[], remote, true).is_ok(), "over TLS: {remote}");
        }
        let allowed = [Url::parse("https://controller.example:8443/").expect("url")];
        assert!(admit(&allowed, "https://controller.example:8443/base", false).is_ok());
        assert!(admit(&allowed, "http://controller.example:8443/", false).is_err());
        assert!(admit(&allowed, "http://127.0.0.1:6308", false).is_err());
    }
}
