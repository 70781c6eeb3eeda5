//! The panel's stylesheet and script, compiled into the binary: nothing is fetched from
//! elsewhere, and there is no front-end build step.

use axum::extract::Path;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::view::UiError;

/// Every asset: its name, content type and text.
const ASSETS: [(&str, &str, &str); 2] = [
    (
        "panel.css",
        "text/css; charset=utf-8",
        include_str!("assets/panel.css"),
    ),
    (
        "panel.js",
        "text/javascript; charset=utf-8",
        include_str!("assets/panel.js"),
    ),
];

/// `/ui/assets/{name}`.
pub(super) async fn serve(Path(name): Path<String>) -> Result<Response, UiError> {
    let (_, kind, text) = ASSETS
        .iter()
        .find(|(n, _, _)| *n == name)
        .ok_or_else(|| UiError::NotFound(format!("There is no asset {name}")))?;
    Ok(([(header::CONTENT_TYPE, *kind)], *text).into_response())
}
