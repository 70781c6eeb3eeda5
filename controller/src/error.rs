//! The library's error type.

use aps_protocol::ErrorBody;

#[cfg(feature = "engine")]
use crate::callback::BadSecret;
#[cfg(feature = "engine")]
use crate::package::ModelError;
#[cfg(feature = "engine")]
use crate::store::StoreError;
#[cfg(feature = "engine")]
use crate::tls::TlsError;

/// What can go wrong when starting, embedding or talking to a controller.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[cfg(feature = "engine")]
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A socket could not be bound or served.
    #[error("network: {0}")]
    Io(#[from] std::io::Error),
    /// An HTTP request failed on the way.
    #[error("HTTP: {0}")]
    Http(#[from] reqwest::Error),
    /// The controller answered with an error.
    #[error("the controller answered {0}")]
    Api(ErrorBody),
    /// The controller answered something this client did not expect.
    #[error("unexpected answer: {0}")]
    Unexpected(String),
    #[cfg(feature = "engine")]
    /// The package model is incomplete.
    #[error("package: {0}")]
    Model(#[from] ModelError),
    #[cfg(feature = "engine")]
    /// The webhook secret is malformed.
    #[error(transparent)]
    Secret(#[from] BadSecret),
    #[cfg(feature = "engine")]
    /// The controller's certificates could not be made, read or used.
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[cfg(feature = "engine")]
    /// The settings do not make a controller that may start (e.g. plain HTTP on a public
    /// address).
    #[error("{0}")]
    Settings(String),
}
