//! Cross-site request forgery protection: a signed double-submit token.
//!
//! Each browser gets a random `aps_csrf` cookie (`HttpOnly`, `SameSite=Strict`, path `/ui`);
//! every form carries the HMAC of that cookie under a key made at start-up, and a `POST` is
//! refused (403) unless its `csrf` field is the HMAC of the cookie it came with. A page on
//! another site can neither read the cookie nor compute the HMAC, so it cannot forge the field;
//! restarting the controller changes the key, which only invalidates forms already open.
//!
//! A signed-in browser's token is bound to its session instead (the HMAC of the session id, from
//! the `HttpOnly` session cookie), so a cookie planted by a neighbouring host cannot pair with it.

use std::sync::Arc;

use axum::extract::{FromRequest, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

use super::view::UiError;

/// The cookie that carries the browser's random value.
const COOKIE: &str = "aps_csrf";
/// The form field that carries the token.
pub(super) const FIELD: &str = "csrf";

/// The key tokens are signed with, made at start-up.
#[derive(Clone)]
pub(crate) struct Key(Arc<[u8; 32]>);

impl Key {
    /// A fresh random key.
    pub(crate) fn random() -> Self {
        let mut key = [0; 32];
        rand::rng().fill_bytes(&mut key);
        Self(Arc::new(key))
    }

    fn mac(&self, cookie: &str) -> Hmac<Sha256> {
        // HMAC takes a key of any length.
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0[..]).expect("any key length");
        mac.update(b"aps-panel-csrf:");
        mac.update(cookie.as_bytes());
        mac
    }

    fn sign(&self, cookie: &str) -> String {
        URL_SAFE_NO_PAD.encode(self.mac(cookie).finalize().into_bytes())
    }

    fn verify(&self, cookie: &str, token: &str) -> bool {
        URL_SAFE_NO_PAD
            .decode(token)
            .is_ok_and(|tag| self.mac(cookie).verify_slice(&tag).is_ok())
    }
}

/// The token this browser's forms carry; every panel request has one.
#[derive(Clone)]
pub(super) struct Token {
    cookie: String,
    key: Key,
}

impl Token {
    /// The value of the forms' hidden `csrf` field.
    pub(super) fn value(&self) -> String {
        self.key.sign(&self.cookie)
    }
}

/// The browser's `aps_csrf` value, when it sent a well-formed one.
fn cookie_of(request: &Request) -> Option<String> {
    request
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_owned())
        .filter(|v| v.len() == 43 && URL_SAFE_NO_PAD.decode(v).is_ok())
}

/// Gives every request its [`Token`]: bound to the panel session when there is one, else to
/// the `aps_csrf` cookie, which is set on browsers that have none.
pub(super) async fn issue(State(key): State<Key>, mut request: Request, next: Next) -> Response {
    if let Some(session) = crate::auth::session_of(request.headers()) {
        request.extensions_mut().insert(Token {
            cookie: format!("session:{session}"),
            key,
        });
        return next.run(request).await;
    }
    let sent = cookie_of(&request);
    let cookie = sent.clone().unwrap_or_else(|| {
        let mut value = [0; 32];
        rand::rng().fill_bytes(&mut value);
        URL_SAFE_NO_PAD.encode(value)
    });
    request.extensions_mut().insert(Token {
        cookie: cookie.clone(),
        key,
    });
    let mut response = next.run(request).await;
    if sent.is_none() {
        let set = format!("{COOKIE}={cookie}; Path=/ui; HttpOnly; SameSite=Strict");
        if let Ok(value) = HeaderValue::from_str(&set) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

/// A submitted form whose CSRF token checked out: its fields, in order.
pub(super) struct Form(pub Vec<(String, String)>);

impl Form {
    /// The value of a field.
    pub(super) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

impl<S: Send + Sync> FromRequest<S> for Form {
    type Rejection = UiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, UiError> {
        let token = request.extensions().get::<Token>().cloned();
        let body = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| UiError::BadRequest(rejection.body_text()))?;
        let form = Form(
            url::form_urlencoded::parse(&body)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        );
        let sent = form.get(FIELD).unwrap_or_default();
        match token {
            Some(token) if token.key.verify(&token.cookie, sent) => Ok(form),
            _ => Err(UiError::Forbidden(
                "The form's security token is missing or out of date: reload the page and \
                 submit it again."
                    .into(),
            )),
        }
    }
}
