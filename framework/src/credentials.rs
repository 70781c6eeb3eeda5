//! Instance credentials: what the controller sent when it installed an instance (`aps.x509`),
//! kept per instance, and the rule that only that controller may speak for the instance.
//!
//! At install, `aps.x509.self` holds the instance's certificate and private key (PEM) and
//! `aps.x509.controller` the controller's certificate followed by the certificates that issued
//! it. The endpoint keeps both under `{data dir}/instances/{instance id}/x509.json` (readable
//! only by its user), takes them out of the resource before the resource type sees it, and from
//! then on, over TLS:
//!
//! * accepts a request for the instance only with a client certificate equal to the stored
//!   controller certificate (403 otherwise);
//! * answers 404 for an instance it does not know, unless the request installs it;
//! * refuses a second install with other credentials (409): an instance is never taken over;
//! * forgets the credentials once the instance is uninstalled (its root resource unprovisioned);
//! * calls the controller back presenting the instance certificate, trusting only the
//!   certificates the controller sent.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use aps_core::Transport;
use aps_server::PeerCertificate;
use aps_server::files::{self, Readers};
use axum::http::StatusCode;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::body::json;
use crate::transport::{self, Http};
use crate::{Error, Result};

/// `aps.x509` of an install request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct X509 {
    #[serde(rename = "self")]
    instance: String,
    controller: String,
}

impl X509 {
    /// Takes `aps.x509` out of a resource, so neither the resource type nor any answer carries
    /// the instance's private key.
    fn take(resource: &mut Value) -> Result<Option<Self>> {
        let taken = resource
            .get_mut("aps")
            .and_then(Value::as_object_mut)
            .and_then(|aps| aps.remove("x509"));
        let Some(x509) = taken else { return Ok(None) };
        serde_json::from_value(x509).map(Some).map_err(|e| {
            invalid(format!(
                "aps.x509 must hold `self` and `controller` as PEM text: {e}"
            ))
        })
    }
}

/// One instance's credentials, ready to use.
#[derive(Debug)]
pub(crate) struct Credentials {
    x509: X509,
    /// The certificate the controller presents.
    pub(crate) controller: CertificateDer<'static>,
    /// Calls the controller presenting the instance certificate, trusting only the controller's.
    pub(crate) transport: Arc<dyn Transport>,
}

impl Credentials {
    fn new(x509: X509) -> Result<Self> {
        let chain = CertificateDer::pem_slice_iter(x509.controller.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| invalid(format!("aps.x509.controller is not PEM: {e}")))?;
        let controller = chain
            .first()
            .cloned()
            .ok_or_else(|| invalid("aps.x509.controller holds no certificate".into()))?;
        let identity = reqwest::Identity::from_pem(x509.instance.as_bytes()).map_err(|e| {
            invalid(format!(
                "aps.x509.self must be a certificate and its key: {e}"
            ))
        })?;
        let mut http = transport::builder()
            .identity(identity)
            .tls_built_in_root_certs(false);
        for certificate in &chain {
            let trusted = reqwest::Certificate::from_der(certificate)
                .map_err(|e| invalid(format!("aps.x509.controller: {e}")))?;
            http = http.add_root_certificate(trusted);
        }
        let http = http
            .build()
            .map_err(|e| invalid(format!("aps.x509 cannot be used for TLS: {e}")))?;
        Ok(Self {
            x509,
            controller,
            transport: Http::shared(http),
        })
    }
}

/// The credentials of every instance this endpoint serves.
#[derive(Debug, Default)]
pub(crate) struct Instances {
    /// Where they are kept; `None` keeps them in memory only.
    dir: Option<PathBuf>,
    known: RwLock<HashMap<Uuid, Known>>,
}

/// What is kept for one instance.
#[derive(Debug, Clone)]
enum Known {
    Ready(Arc<Credentials>),
    /// Its file cannot be used: the instance answers 500 until an operator repairs it, never
    /// 404, which would let anyone install it afresh.
    Damaged(String),
}

impl Instances {
    /// The credentials kept under `data_dir`, all read now, so no request waits for the disk.
    pub(crate) fn new(data_dir: Option<&Path>) -> Self {
        let dir = data_dir.map(|d| d.join("instances"));
        let known = dir.as_deref().map(load).unwrap_or_default();
        Self {
            dir,
            known: RwLock::new(known),
        }
    }

    /// The credentials of `instance`, if it is installed.
    pub(crate) fn get(&self, instance: Uuid) -> Result<Option<Arc<Credentials>>> {
        let known = self
            .known
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match known.get(&instance) {
            None => Ok(None),
            Some(Known::Ready(credentials)) => Ok(Some(credentials.clone())),
            Some(Known::Damaged(why)) => Err(Error::new(format!(
                "the credentials of instance {instance} cannot be used: {why}"
            ))),
        }
    }

    /// Keeps the credentials an install brought. The same ones again are fine (the controller
    /// may repeat an install); other ones for a known instance are a 409.
    fn keep(&self, instance: Uuid, offered: Credentials) -> Result<Arc<Credentials>> {
        // Held while the file is written, so two installs of one instance cannot both win.
        let mut known = self
            .known
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match known.get(&instance) {
            Some(Known::Ready(kept)) if kept.x509 == offered.x509 => return Ok(kept.clone()),
            Some(_) => {
                return Err(Error::conflict(format!(
                    "instance {instance} is installed with other credentials; uninstall it first"
                )));
            }
            None => {}
        }
        let credentials = Arc::new(offered);
        if let Some(dir) = &self.dir {
            let file = dir.join(instance.to_string()).join(FILE);
            let x509 = serde_json::to_vec(&credentials.x509)?;
            files::write(&file, &x509, Readers::Owner)
                .map_err(|e| Error::new(format!("cannot keep {e}")))?;
        }
        known.insert(instance, Known::Ready(credentials.clone()));
        Ok(credentials)
    }

    /// Forgets an uninstalled instance: its credentials leave the disk (they hold the
    /// instance's private key) and the instance may be installed afresh.
    pub(crate) fn forget(&self, instance: Uuid) -> Result<()> {
        let mut known = self
            .known
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(dir) = &self.dir {
            let kept = dir.join(instance.to_string());
            match std::fs::remove_dir_all(&kept) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                // The controller retries a failed uninstall; until then the instance stays.
                Err(e) => {
                    return Err(Error::new(format!("cannot remove {}: {e}", kept.display())));
                }
            }
        }
        known.remove(&instance);
        Ok(())
    }

    /// Admits an install: takes `aps.x509` out of the body and keeps it. Over TLS the client
    /// must present the controller certificate the install names. Answers the instance's
    /// credentials (if any) and the body to hand to the resource type.
    pub(crate) fn install(
        &self,
        instance: Uuid,
        body: &[u8],
        peer: Option<&PeerCertificate>,
    ) -> Result<(Option<Arc<Credentials>>, Vec<u8>)> {
        let mut resource = json(body)?;
        let Some(x509) = X509::take(&mut resource)? else {
            return Ok((self.admit(instance, peer)?, body.to_vec()));
        };
        let offered = Credentials::new(x509)?;
        if let Some(PeerCertificate(presented)) = peer {
            if presented.as_ref() != Some(&offered.controller) {
                return Err(forbidden(
                    "the client certificate is not the controller certificate this install names",
                ));
            }
        }
        let credentials = self.keep(instance, offered)?;
        Ok((Some(credentials), serde_json::to_vec(&resource)?))
    }

    /// Admits a request for `instance`: over TLS, only with the stored controller certificate
    /// (403), and only for a known instance (404). Answers the instance's credentials, if any.
    pub(crate) fn admit(
        &self,
        instance: Uuid,
        peer: Option<&PeerCertificate>,
    ) -> Result<Option<Arc<Credentials>>> {
        let known = self.get(instance)?;
        let Some(PeerCertificate(presented)) = peer else {
            return Ok(known);
        };
        let Some(credentials) = known else {
            return Err(Error::not_found(format!(
                "instance {instance} is not installed on this endpoint"
            )));
        };
        if presented.as_ref() != Some(&credentials.controller) {
            return Err(forbidden(
                "this instance accepts requests only from its controller's certificate",
            ));
        }
        Ok(Some(credentials))
    }
}

/// The file each instance's credentials are kept in, under `instances/{id}/`.
const FILE: &str = "x509.json";

/// Reads every instance's credentials under `dir`.
fn load(dir: &Path) -> HashMap<Uuid, Known> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return HashMap::new(),
        Err(e) => {
            tracing::error!("cannot read instance credentials in {}: {e}", dir.display());
            return HashMap::new();
        }
    };
    let mut known = HashMap::new();
    for entry in entries.flatten() {
        let Some(instance) = entry
            .file_name()
            .to_str()
            .and_then(|n| Uuid::parse_str(n).ok())
        else {
            continue;
        };
        let file = entry.path().join(FILE);
        let loaded = std::fs::read(&file)
            .map_err(|e| e.to_string())
            .and_then(|bytes| serde_json::from_slice::<X509>(&bytes).map_err(|e| e.to_string()))
            .and_then(|x509| Credentials::new(x509).map_err(|e| e.message().to_owned()));
        let entry = match loaded {
            Ok(credentials) => Known::Ready(Arc::new(credentials)),
            Err(why) => {
                tracing::error!(%instance, "{} cannot be used: {why}", file.display());
                Known::Damaged(why)
            }
        };
        known.insert(instance, entry);
    }
    known
}

fn forbidden(message: &str) -> Error {
    Error::with(StatusCode::FORBIDDEN, "Forbidden", message)
}

fn invalid(message: String) -> Error {
    Error::with(StatusCode::BAD_REQUEST, "InvalidCredentials", message)
}
