//! Who may use `/api/v1` and the panel: API tokens, client certificates, panel sessions,
//! scopes, and the limit on failed attempts.
//!
//! The rule: a controller serving TLS asks every request to `/api/v1`, `/metrics` and `/ui`
//! for a credential; over plain HTTP (which it serves on loopback only, for development, `dev`
//! and the test kit) it asks none. `/aps/2` keeps its own rule (the instance's certificate),
//! and `/healthz`, `/readyz`, the panel's sign-in page and its assets are open.
//!
//! A credential is, in this order: `Authorization: Bearer` with an API token ([`Tokens`]);
//! a client certificate signed by the operator's CA (`client_ca`); a panel session cookie
//! (`sessions`), in the panel and for `GET`s of the API. The embedding program's own
//! [`Controller::client`](crate::Controller::client) carries an in-memory `admin` token made at
//! start-up. Without a credential the answer is 401, with one too weak 403 ([`Scope`]), both in
//! the APS error shape and before any handler runs, so neither says whether what was asked
//! for exists. A refused credential is logged (the peer and why, never the token) and counted:
//! after 10 in a minute a peer gets 429 until the minute is over.

pub(crate) mod client_ca;
mod failures;
pub(crate) mod scope;
pub(crate) mod sessions;
mod tokens;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use aps_protocol::ErrorBody;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::{HeaderMap, HeaderValue, header};
use rand::RngCore;
use subtle::ConstantTimeEq;

use crate::serve::Peer;
use crate::store::StoreError;
use client_ca::ClientCa;
use failures::Failures;
use scope::Need;
use sessions::Sessions;

pub use scope::{Scope, UnknownScope};
pub use tokens::{NewToken, TokenInfo, Tokens};

/// Who a request's credential says it is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Caller {
    /// A credential that checked out, with its scope.
    Known(Scope),
    /// No credential at all.
    Anonymous,
    /// A credential that did not check out, and why (for the log).
    Refused(&'static str),
}

/// The controller's authentication; shared by every request.
#[derive(Debug)]
pub(crate) struct Auth {
    /// Whether credentials are asked for (a TLS controller).
    required: bool,
    tokens: Tokens,
    client_ca: Option<ClientCa>,
    failures: Failures,
    pub(crate) sessions: Sessions,
    /// The embedding program's own `admin` token, in memory only.
    internal: String,
    /// Refused credentials, for `/metrics`.
    refusals: prometheus_client::metrics::counter::Counter,
}

impl Auth {
    /// Authentication over `tokens` (and the operator's client CA); `required` on a TLS
    /// controller.
    pub(crate) fn new(required: bool, tokens: Tokens, client_ca: Option<ClientCa>) -> Self {
        let mut internal = [0u8; 32];
        rand::rng().fill_bytes(&mut internal);
        Self {
            required,
            tokens,
            client_ca,
            failures: Failures::default(),
            sessions: Sessions::default(),
            internal: format!("apsc-internal-{}", URL_SAFE_NO_PAD.encode(internal)),
            refusals: Default::default(),
        }
    }

    /// Whether credentials are asked for.
    pub(crate) fn required(&self) -> bool {
        self.required
    }

    /// The token of [`Controller::client`](crate::Controller::client).
    pub(crate) fn internal_token(&self) -> &str {
        &self.internal
    }

    /// The counter of refused credentials.
    pub(crate) fn refusal_counter(&self) -> prometheus_client::metrics::counter::Counter {
        self.refusals.clone()
    }

    /// The API tokens.
    pub(crate) fn tokens(&self) -> &Tokens {
        &self.tokens
    }

    /// The scope of a bearer token.
    async fn bearer(&self, token: &str) -> Result<Caller, StoreError> {
        if bool::from(token.as_bytes().ct_eq(self.internal.as_bytes())) {
            return Ok(Caller::Known(Scope::Admin));
        }
        Ok(match self.tokens.check(token).await? {
            Ok((_, scope)) => Caller::Known(scope),
            Err(refused) => Caller::Refused(refused.as_str()),
        })
    }

    /// Checks a token given at the panel's sign-in; answers the session id it opens, or why
    /// not (already logged and counted).
    pub(crate) async fn sign_in(
        &self,
        token: &str,
        peer: Option<IpAddr>,
    ) -> Result<Result<String, Response>, StoreError> {
        if let Some(wait) = self.failures.blocked(peer) {
            return Ok(Err(too_many(wait)));
        }
        let token = token.trim();
        match self.tokens.check(token).await? {
            Ok((id, _)) => Ok(Ok(self.sessions.open(&id))),
            Err(refused) => {
                self.refused(peer, refused.as_str());
                Ok(Err(unauthorized()))
            }
        }
    }

    /// Logs and counts a refused credential.
    fn refused(&self, peer: Option<IpAddr>, why: &str) {
        tracing::warn!(
            peer = peer
                .map(|p| p.to_string())
                .unwrap_or_else(|| "in-process".into()),
            why,
            "authentication failed"
        );
        self.failures.fail(peer);
        self.refusals.inc();
    }

    /// What the request's credential says: its headers, and the client certificate of its
    /// connection.
    async fn caller(
        &self,
        headers: &HeaderMap,
        certificate: Option<&Peer>,
        cookies_count: bool,
    ) -> Result<Caller, StoreError> {
        if let Some(value) = headers.get(header::AUTHORIZATION) {
            let token = value
                .to_str()
                .ok()
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(str::trim);
            return match token {
                Some(token) => self.bearer(token).await,
                None => Ok(Caller::Refused("not a bearer token")),
            };
        }
        if let (Some(ca), Some(Peer(Some(cert)))) = (&self.client_ca, certificate) {
            // A certificate the controller's own CA issued (an instance's) is no credential here.
            if ca.signed(cert) {
                return Ok(Caller::Known(ca.scope));
            }
        }
        if cookies_count {
            if let Some(token) = session_of(headers).and_then(|s| self.sessions.token(&s)) {
                if let Some(scope) = self.tokens.scope_of(&token).await? {
                    return Ok(Caller::Known(scope));
                }
            }
        }
        Ok(Caller::Anonymous)
    }
}

/// The peer address of a request served over a socket.
pub(crate) fn peer(request: &Request) -> Option<IpAddr> {
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip())
}

/// The panel session id a request's cookies carry.
pub(crate) fn session_of(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == sessions::COOKIE)
        .map(|(_, value)| value.to_owned())
}

/// Lets a request through when its credential has the scope it needs.
pub(crate) async fn guard(State(auth): State<Arc<Auth>>, request: Request, next: Next) -> Response {
    let need = scope::need(request.method(), request.uri().path());
    let (needed, panel) = match need {
        Need::Nothing => return next.run(request).await,
        _ if !auth.required => return next.run(request).await,
        Need::Api(scope) => (scope, false),
        Need::Panel(scope) => (scope, true),
    };
    let peer = peer(&request);
    if let Some(wait) = auth.failures.blocked(peer) {
        return too_many(wait);
    }
    let cookies_count = panel || needed == Scope::Read;
    let certificate = request.extensions().get::<Peer>().cloned();
    let caller = auth.caller(request.headers(), certificate.as_ref(), cookies_count);
    let caller = match caller.await {
        Ok(caller) => caller,
        Err(error) => {
            tracing::error!(%error, "cannot check the request's credential");
            let body = ErrorBody::new(
                503,
                "Unavailable",
                "The controller cannot check credentials now",
            );
            return body.response().map(Body::from);
        }
    };
    match caller {
        Caller::Known(scope) if scope.allows(needed) => next.run(request).await,
        Caller::Known(scope) => forbidden(scope, needed),
        Caller::Anonymous if panel => {
            let target = request
                .uri()
                .path_and_query()
                .map_or("/ui/", |p| p.as_str());
            let next: String = url::form_urlencoded::byte_serialize(target.as_bytes()).collect();
            Redirect::to(&format!("/ui/sign-in?next={next}")).into_response()
        }
        Caller::Anonymous => unauthorized(),
        Caller::Refused(why) => {
            auth.refused(peer, why);
            unauthorized()
        }
    }
}

/// 401, asking for a bearer token.
pub(crate) fn unauthorized() -> Response {
    let body = ErrorBody::new(
        401,
        "Unauthorized",
        "This needs credentials: an API token (Authorization: Bearer) or a client certificate",
    );
    let mut response = body.response().map(Body::from);
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"aps-controller\""),
    );
    response
}

/// 403: the credential is good, its scope too weak.
fn forbidden(has: Scope, needed: Scope) -> Response {
    let body = ErrorBody::new(
        403,
        "Forbidden",
        format!("This needs the `{needed}` scope; the credential has `{has}`"),
    );
    body.response().map(Body::from)
}

/// 429 with `Retry-After`: too many failed attempts from this peer.
fn too_many(wait: Duration) -> Response {
    let body = ErrorBody::new(
        429,
        "TooManyFailures",
        "Too many failed authentications from this address; try again later",
    );
    let mut response = body.response().map(Body::from);
    response.headers_mut().insert(
        header::RETRY_AFTER,
        HeaderValue::from(wait.as_secs().max(1)),
    );
    response
}
