//! The controller's certificates: the APS certificate model.
//!
//! A controller is its own small certificate authority. On first start [`Authority::open`]
//! makes, in `{data dir}/tls/`:
//!
//! * `ca.crt` + `ca.key`: a self-signed CA;
//! * `controller.crt` + `controller.key`: the controller's leaf certificate, signed by the CA,
//!   for `localhost`, `127.0.0.1`, `::1` and the configured names, usable both to serve
//!   (serverAuth) and to call endpoints (clientAuth);
//! * `instances/{instance id}.pem`: for each installed instance, a certificate signed by the CA
//!   (CN = the instance id) followed by its PKCS#8 key, made when the install is first sent.
//!
//! Keys are written readable by the owner only (0600), every file whole, and a certificate only
//! after its key (`aps_server::files`): a start that dies midway leaves a key without its
//! certificate, which the next start makes again. Later starts reuse every file. The
//! install body carries an instance's file as `aps.x509.self`, and the controller's chain
//! (`controller.crt` then `ca.crt`) as `aps.x509.controller`. A call to `/aps/2` over TLS is
//! then accepted only with the exact certificate issued to the instance owning the resource.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use aps_server::files::{self, Readers, write_pair};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use uuid::Uuid;

pub use aps_server::TlsError;

/// An instance's credentials as the install body carries them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InstanceCredentials {
    /// The instance certificate PEM followed by its private key PEM (PKCS#8).
    pub self_pem: String,
    /// The controller's certificate PEM followed by the CA certificate PEM.
    pub controller_pem: String,
}

/// The controller's CA, its own certificate, and the instances' certificates.
pub(crate) struct Authority {
    dir: PathBuf,
    ca_key: KeyPair,
    ca_pem: String,
    leaf_pem: String,
    leaf_key_pem: String,
}

impl std::fmt::Debug for Authority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authority").field("dir", &self.dir).finish()
    }
}

/// The CA's parameters. They are the same on every start, so an [`Issuer`] made from them and
/// the stored key signs exactly as the certificate stored in `ca.crt` says.
fn ca_params() -> CertificateParams {
    let mut params = CertificateParams::default();
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params
        .distinguished_name
        .push(DnType::CommonName, "aps-controller CA");
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params
}

/// The parameters of a certificate the CA issues: `cn`, the given names, both EKUs.
fn leaf_params(cn: &str, names: Vec<String>) -> Result<CertificateParams, rcgen::Error> {
    let mut params = CertificateParams::new(names)?;
    params.distinguished_name.push(DnType::CommonName, cn);
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    Ok(params)
}

impl Authority {
    /// Loads the CA and the controller's certificate from `data_dir/tls`, making them first
    /// when they are missing. `names` are added to the leaf's SANs when it is made.
    pub(crate) fn open(data_dir: &Path, names: &[String]) -> Result<Self, TlsError> {
        let dir = data_dir.join("tls");
        std::fs::create_dir_all(dir.join("instances")).map_err(|e| TlsError::file(&dir, e))?;
        let (ca_cert, ca_key_file) = (dir.join("ca.crt"), dir.join("ca.key"));
        let (leaf, leaf_key) = (dir.join("controller.crt"), dir.join("controller.key"));
        let new_ca = !ca_cert.exists() || !ca_key_file.exists();
        if new_ca {
            // The leaf goes first: a crash after the new CA is in must not leave the old leaf,
            // signed by a key that is gone, to be taken for a valid one on the next start.
            match std::fs::remove_file(&leaf) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(TlsError::file(&leaf, e)),
            }
            let key = KeyPair::generate()?;
            let cert = ca_params().self_signed(&key)?;
            write_pair(&ca_key_file, &key, &ca_cert, &cert)?;
        }
        let ca_key =
            KeyPair::from_pem(&read(&ca_key_file)?).map_err(|e| TlsError::pem(&ca_key_file, e))?;
        let ca_pem = read(&ca_cert)?;
        if !leaf.exists() || !leaf_key.exists() {
            let mut sans = vec!["localhost".into(), "127.0.0.1".into(), "::1".into()];
            sans.extend(names.iter().cloned());
            let key = KeyPair::generate()?;
            let issuer = Issuer::new(ca_params(), &ca_key);
            let cert = leaf_params("aps-controller", sans)?.signed_by(&key, &issuer)?;
            write_pair(&leaf_key, &key, &leaf, &cert)?;
        }
        Ok(Self {
            leaf_pem: read(&leaf)?,
            leaf_key_pem: read(&leaf_key)?,
            dir,
            ca_key,
            ca_pem,
        })
    }

    /// The CA certificate (PEM), which clients of the TLS API trust.
    pub(crate) fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The controller's certificate followed by its key (PEM): its identity towards endpoints.
    pub(crate) fn identity_pem(&self) -> String {
        format!("{}{}", self.leaf_pem, self.leaf_key_pem)
    }

    fn instance_path(&self, instance: Uuid) -> PathBuf {
        self.dir.join("instances").join(format!("{instance}.pem"))
    }

    /// The credentials of an instance, issued on the first call and the same on every later one
    /// (also after a restart, so a repeated install sends the same credentials).
    pub(crate) fn instance(&self, instance: Uuid) -> Result<InstanceCredentials, TlsError> {
        let path = self.instance_path(instance);
        if !path.exists() {
            let key = KeyPair::generate()?;
            let issuer = Issuer::new(ca_params(), &self.ca_key);
            let id = instance.to_string();
            let cert = leaf_params(&id, vec![])?.signed_by(&key, &issuer)?;
            let contents = format!("{}{}", cert.pem(), key.serialize_pem());
            // Moved in without replacing: two racing issuers agree on one.
            files::stage(&path, contents.as_bytes(), Readers::Owner)?.keep_first()?;
        }
        Ok(InstanceCredentials {
            self_pem: read(&path)?,
            controller_pem: format!("{}{}", self.leaf_pem, self.ca_pem),
        })
    }

    /// The certificate issued to an instance, if any.
    pub(crate) fn instance_certificate(
        &self,
        instance: Uuid,
    ) -> Result<Option<CertificateDer<'static>>, TlsError> {
        let path = self.instance_path(instance);
        if !path.exists() {
            return Ok(None);
        }
        let cert = CertificateDer::from_pem_slice(read(&path)?.as_bytes())
            .map_err(|e| TlsError::pem(&path, e))?;
        Ok(Some(cert))
    }

    /// The server configuration of the TLS API: the controller's chain, and client
    /// certificates optional at the TLS layer but, when sent, signed by the CA or one of
    /// `client_cas` (the operator's, for API clients); the handlers of `/aps/2` and the
    /// authentication then decide whose they are.
    pub(crate) fn server_config(
        &self,
        client_cas: &[CertificateDer<'static>],
    ) -> Result<Arc<rustls::ServerConfig>, TlsError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let ca_path = self.dir.join("ca.crt");
        let mut roots = rustls::RootCertStore::empty();
        for cert in certificates(&self.ca_pem, &ca_path)? {
            roots.add(cert)?;
        }
        for cert in client_cas {
            roots.add(cert.clone())?;
        }
        // Given no revocation lists, the builder fails only for want of a CA certificate.
        let verifier = WebPkiClientVerifier::builder_with_provider(roots.into(), provider.clone())
            .allow_unauthenticated()
            .build()
            .map_err(|e| TlsError::pem(&ca_path, e))?;
        let leaf_path = self.dir.join("controller.crt");
        let mut chain = certificates(&self.leaf_pem, &leaf_path)?;
        chain.extend(certificates(&self.ca_pem, &ca_path)?);
        let key_path = self.dir.join("controller.key");
        let key = PrivateKeyDer::from_pem_slice(self.leaf_key_pem.as_bytes())
            .map_err(|e| TlsError::pem(&key_path, e))?;
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_client_cert_verifier(verifier)
            .with_single_cert(chain, key)?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}

fn certificates(text: &str, path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    CertificateDer::pem_slice_iter(text.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::pem(path, e))
}

fn read(path: &Path) -> Result<String, TlsError> {
    std::fs::read_to_string(path).map_err(|e| TlsError::file(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificates_are_made_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let first = Authority::open(dir.path(), &["ctl.example".into()]).unwrap();
        let id = Uuid::new_v4();
        let creds = first.instance(id).unwrap();
        assert!(creds.self_pem.contains("BEGIN CERTIFICATE"));
        assert!(creds.self_pem.contains("BEGIN PRIVATE KEY"));
        assert_eq!(creds.controller_pem.matches("BEGIN CERTIFICATE").count(), 2);
        let again = Authority::open(dir.path(), &[]).unwrap();
        assert_eq!(again.ca_pem(), first.ca_pem());
        assert_eq!(again.instance(id).unwrap(), creds);
        assert!(
            again
                .instance_certificate(Uuid::new_v4())
                .unwrap()
                .is_none()
        );
        assert!(again.server_config(&[]).is_ok());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            for key in [
                "tls/ca.key",
                "tls/controller.key",
                &format!("tls/instances/{id}.pem"),
            ] {
                let mode = std::fs::metadata(dir.path().join(key))
                    .unwrap()
                    .permissions()
                    .mode();
                assert_eq!(mode & 0o077, 0, "{key} is private");
            }
            for cert in ["tls/ca.crt", "tls/controller.crt"] {
                let mode = std::fs::metadata(dir.path().join(cert))
                    .unwrap()
                    .permissions()
                    .mode();
                assert_eq!(mode & 0o777, 0o644, "{cert} is readable by everyone");
            }
        }
        // Nothing half-written is left beside them.
        let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("tls"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.starts_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }

    #[test]
    fn a_half_made_authority_is_made_again_whole() {
        let dir = tempfile::tempdir().unwrap();
        let first = Authority::open(dir.path(), &[]).unwrap();
        // As if the first start died between writing the CA's key and its certificate.
        std::fs::remove_file(dir.path().join("tls/ca.crt")).unwrap();
        let again = Authority::open(dir.path(), &[]).unwrap();
        assert_ne!(again.ca_pem(), first.ca_pem());
        assert!(again.server_config(&[]).is_ok());
        assert!(again.instance(Uuid::new_v4()).is_ok());
    }
}
