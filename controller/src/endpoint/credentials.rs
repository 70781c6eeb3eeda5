//! An install's instance credentials: added on the way out, dropped on the way back.
//!
//! An install carries the instance's credentials in `aps.x509` (see [`crate::tls`]); they are
//! added here, on the way out, so they are never part of a stored task or resource, and an
//! `aps.x509` an endpoint echoes back is dropped from its answer. A controller serving TLS
//! sends them only over https: an install onto an `http://` endpoint is answered here with a
//! 400 and never sent, so an instance's key never travels in clear.

use aps_protocol::ErrorBody;
use bytes::Bytes;
use serde_json::{Value, json};

use super::{Call, Endpoints, Reply, Unreachable, base_key};

impl Endpoints {
    /// With `on`, an install (which carries an instance's private key) is sent only to an
    /// https endpoint, or an in-process one; one onto `http://` gets [`Self::install_refusal`].
    pub(crate) fn credentials_only_over_https(mut self, on: bool) -> Self {
        self.https_installs_only = on;
        self
    }

    /// Why an install may not be sent to the endpoint at `base`, if it may not.
    pub(crate) fn install_refusal(&self, base: &str) -> Option<String> {
        let https = url::Url::parse(base).is_ok_and(|u| u.scheme() == "https");
        if !self.https_installs_only || https || self.routers.contains_key(base_key(base)) {
            return None;
        }
        Some(format!(
            "The endpoint {} is not https: this controller serves TLS and sends each instance \
             its private key (aps.x509) with the install, which must not travel in clear. \
             Install on the endpoint's https URL.",
            crate::callback::redact(base)
        ))
    }

    /// The answer an install refused by [`Self::install_refusal`] gets, as if the endpoint had
    /// given it: a 400 that fails the task (never a connection failure, which would be retried).
    pub(super) fn refused_install(&self, call: &Call<'_>) -> Option<Reply> {
        if !call.install {
            return None;
        }
        let why = self.install_refusal(call.base)?;
        Some(Reply::from(
            ErrorBody::new(400, "InsecureEndpoint", why).response(),
        ))
    }

    /// The body of a call as sent: an install's gets the instance's credentials.
    pub(super) fn body_of(&self, call: &Call<'_>, resource: &Value) -> Result<Bytes, Unreachable> {
        if !call.install {
            return Ok(Bytes::from(resource.to_string()));
        }
        let credentials = self
            .authority
            .instance(call.instance)
            .map_err(|e| Unreachable(format!("cannot issue the instance's certificate: {e}")))?;
        let mut resource = resource.clone();
        if !resource["aps"].is_object() {
            resource["aps"] = json!({});
        }
        resource["aps"]["x509"] = json!({
            "self": credentials.self_pem,
            "controller": credentials.controller_pem,
        });
        Ok(Bytes::from(resource.to_string()))
    }
}

/// The body without an `aps.x509` the endpoint echoed back: credentials are never stored or
/// shown. Bodies that do not mention `x509` are passed through untouched.
pub(super) fn without_credentials(body: Bytes) -> Bytes {
    if !body.windows(4).any(|w| w == b"x509") {
        return body;
    }
    match serde_json::from_slice::<Value>(&body) {
        Ok(mut value) => {
            let removed = value
                .get_mut("aps")
                .and_then(Value::as_object_mut)
                .and_then(|aps| aps.remove("x509"));
            match removed {
                Some(_) => Bytes::from(value.to_string()),
                None => body,
            }
        }
        Err(_) => body,
    }
}
