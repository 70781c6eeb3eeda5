//! The HTTP(S) transport of [`ControllerClient`](crate::ControllerClient): calls to the
//! controller go through `reqwest`, with the framework's time-outs and no redirects.

use std::sync::Arc;
use std::time::Duration;

use aps_core::{BoxError, Transport};
use async_trait::async_trait;
use bytes::Bytes;
use http::{Request, Response};

/// How long connecting to the controller may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Calls the controller over HTTP(S) with one `reqwest` client (its connection pool, and for an
/// instance with credentials, its certificate).
#[derive(Debug, Clone)]
pub(crate) struct Http(reqwest::Client);

impl Http {
    /// A transport for instances without credentials.
    pub(crate) fn plain() -> Arc<dyn Transport> {
        // Building fails only when the TLS backend cannot start; say so rather than hide it
        // (the fallback then has reqwest's defaults, and no HTTPS call could work anyway).
        let client = builder().build().unwrap_or_else(|error| {
            tracing::error!(%error, "cannot build the HTTP client for calling the controller");
            reqwest::Client::default()
        });
        Arc::new(Self(client))
    }

    /// A transport over a client made from [`builder`].
    pub(crate) fn shared(client: reqwest::Client) -> Arc<dyn Transport> {
        Arc::new(Self(client))
    }
}

/// The settings every client for the controller shares: a connect time-out, no redirects. How
/// long a whole call may take is the application's (`controllers::Timed`).
pub(crate) fn builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
}

#[async_trait]
impl Transport for Http {
    async fn send(&self, request: Request<Bytes>) -> Result<Response<Bytes>, BoxError> {
        let response = self.0.execute(reqwest::Request::try_from(request)?).await?;
        let mut answer = Response::new(Bytes::new());
        *answer.status_mut() = response.status();
        *answer.body_mut() = response.bytes().await?;
        Ok(answer)
    }
}
