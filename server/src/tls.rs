//! The one error of certificates and key files, for the endpoint and the controller alike: a
//! file that cannot be read or written, PEM that holds no certificate or key, a pair that
//! rustls refuses, a certificate that cannot be made.

use std::path::{Path, PathBuf};

/// Why certificates could not be made, read or used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A certificate or key file could not be read or written.
    #[error("{path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// A file holds no usable PEM certificate or key.
    #[error("{path}: {what}")]
    Pem {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        what: String,
    },
    /// The certificates and key do not make a valid TLS configuration (e.g. they do not match).
    #[error("the certificate and key cannot be used: {0}")]
    Rustls(#[from] rustls::Error),
    /// A certificate could not be made.
    #[error("cannot make a certificate: {0}")]
    Generate(#[from] rcgen::Error),
}

impl TlsError {
    /// `path` could not be read or written.
    pub fn file(path: &Path, source: std::io::Error) -> Self {
        Self::File {
            path: path.to_owned(),
            source,
        }
    }

    /// `path` holds no usable PEM certificate or key, for the reason given.
    pub fn pem(path: &Path, what: impl std::fmt::Display) -> Self {
        Self::Pem {
            path: path.to_owned(),
            what: what.to_string(),
        }
    }
}
