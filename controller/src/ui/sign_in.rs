//! Signing in to the panel: an API token exchanged for a session cookie (see `auth::sessions`).
//! A controller that asks no credentials (plain HTTP on loopback) sends the browser on.

use std::net::SocketAddr;

use askama::Template;
use axum::Extension;
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use super::csrf::{Form, Token};
use super::view::{UiError, render};
use crate::api::Api;
use crate::auth::sessions::{COOKIE, LIFETIME};

#[derive(Template)]
#[template(path = "sign-in.html")]
struct SignIn {
    /// Where to go once signed in.
    next: String,
    error: Option<String>,
    csrf: String,
}

/// Where a browser may be sent after signing in: a panel page, nowhere else.
fn next_page(next: Option<&str>) -> String {
    match next {
        Some(next) if next.starts_with("/ui/") && !next.contains("//") && !next.contains('\\') => {
            next.to_owned()
        }
        _ => "/ui/".to_owned(),
    }
}

/// `GET /ui/sign-in?next=…`: the form.
pub(super) async fn form(
    State(api): State<Api>,
    RawQuery(query): RawQuery,
    Extension(token): Extension<Token>,
) -> Result<Response, UiError> {
    let next = url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(name, _)| name == "next")
        .map(|(_, value)| value.into_owned());
    let next = next_page(next.as_deref());
    if !api.auth.required() {
        return Ok(Redirect::to(&next).into_response());
    }
    let page = SignIn {
        next,
        error: None,
        csrf: token.value(),
    };
    Ok(render(&page)?.into_response())
}

/// `POST /ui/sign-in`: checks the token and opens a session.
pub(super) async fn sign_in(
    State(api): State<Api>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    Extension(csrf): Extension<Token>,
    form: Form,
) -> Result<Response, UiError> {
    let next = next_page(form.get("next"));
    if !api.auth.required() {
        return Ok(Redirect::to(&next).into_response());
    }
    let peer = peer.map(|Extension(ConnectInfo(addr))| addr.ip());
    let token = form.get("token").unwrap_or_default();
    let session = match api.auth.sign_in(token, peer).await? {
        Ok(session) => session,
        Err(refused) if refused.status() == StatusCode::UNAUTHORIZED => {
            let page = SignIn {
                next,
                error: Some("That token is not valid (unknown, revoked or expired).".into()),
                csrf: csrf.value(),
            };
            return Ok((StatusCode::UNAUTHORIZED, render(&page)?).into_response());
        }
        Err(refused) => return Ok(refused),
    };
    let cookie = format!(
        "{COOKIE}={session}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age={}",
        LIFETIME.as_secs()
    );
    let mut response = Redirect::to(&next).into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    Ok(response)
}
