//! HTTPS for the endpoint: a certificate and key from PEM files, or a self-signed pair made on
//! first start and kept in the data directory.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::verify_server_name;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::server::ParsedCertificate;

use aps_server::files::write_pair;
use aps_server::{AnyClientCertificate, TlsError};

/// A server certificate and key, ready to serve HTTPS with [`App::serve_tls`](crate::App::serve_tls).
#[derive(Clone, Debug)]
pub struct Tls {
    pub(crate) config: Arc<rustls::ServerConfig>,
    cert_path: PathBuf,
}

impl Tls {
    /// Loads a certificate chain and its private key from PEM files.
    pub fn from_pem_files(cert: &Path, key: &Path) -> Result<Self, TlsError> {
        let chain = CertificateDer::pem_file_iter(cert)
            .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
            .map_err(|e| TlsError::pem(cert, e))?;
        if chain.is_empty() {
            return Err(TlsError::pem(cert, "no CERTIFICATE block"));
        }
        let key_der = PrivateKeyDer::from_pem_file(key).map_err(|e| TlsError::pem(key, e))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        // Clients are asked for a certificate; which one may speak for an instance is decided
        // per request (see `credentials`).
        let config = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()?
            .with_client_cert_verifier(Arc::new(AnyClientCertificate::new(provider)))
            .with_single_cert(chain, key_der)?;
        Ok(Self {
            config: Arc::new(config),
            cert_path: cert.to_owned(),
        })
    }

    /// The self-signed certificate kept in `dir` (`tls/self-signed.crt` and `.key`), made for
    /// `localhost`, `127.0.0.1`, `::1`, this machine's host name and `names` (those that are not
    /// host names or IP addresses are left out, with a warning).
    ///
    /// A kept pair is loaded again as long as it covers every one of `names`, so clients that
    /// pinned it keep working across restarts and upgrades. When it misses one (the endpoint is
    /// now reached by another name or address), a new pair replaces it, with a warning: clients
    /// could not verify the old one under that name anyway, and those that trusted it must be
    /// given the new one. The machine's host name alone does not replace a kept pair: a
    /// container gets a new one each time it is recreated.
    ///
    /// A pair is written so that a crash midway leaves a key without its certificate, which the
    /// next start replaces: never a certificate beside a key it does not belong to.
    pub fn self_signed(dir: &Path, names: &[String]) -> Result<Self, TlsError> {
        let dir = dir.join("tls");
        let cert = dir.join("self-signed.crt");
        let key = dir.join("self-signed.key");
        let names: Vec<&String> = names
            .iter()
            .filter(|name| {
                let usable = ServerName::try_from(name.as_str()).is_ok();
                if !usable {
                    tracing::warn!(
                        "{name:?} is no host name or IP address: left out of the certificate"
                    );
                }
                usable
            })
            .collect();
        let kept = cert.exists() && key.exists();
        if kept {
            let missing: Vec<&str> = names
                .iter()
                .filter(|name| !covers(&cert, name))
                .map(|name| name.as_str())
                .collect();
            if missing.is_empty() {
                return Self::from_pem_files(&cert, &key);
            }
            tracing::warn!(
                "{} does not cover {}: making a new self-signed certificate; clients that \
                 trusted the old one need the new one",
                cert.display(),
                missing.join(", ")
            );
        }
        let mut subject = vec![
            "localhost".to_owned(),
            "127.0.0.1".to_owned(),
            "::1".to_owned(),
        ];
        subject.extend(machine_host_name());
        for name in names {
            if !subject.contains(name) {
                subject.push(name.clone());
            }
        }
        let made = rcgen::generate_simple_self_signed(subject)?;
        write_pair(&key, &made.signing_key, &cert, &made.cert)?;
        Self::from_pem_files(&cert, &key)
    }

    /// The certificate file in use.
    pub fn cert_path(&self) -> &Path {
        &self.cert_path
    }
}

/// This machine's host name (the kernel's, as `hostname` prints it), when it is a usable DNS
/// name other than `localhost`. Read from /proc, so no resolver is asked and nothing can hang.
fn machine_host_name() -> Option<String> {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .find_map(|path| std::fs::read_to_string(path).ok())
        .map(|text| text.trim().to_ascii_lowercase())
        .filter(|name| {
            name != "localhost"
                && matches!(
                    ServerName::try_from(name.as_str()),
                    Ok(ServerName::DnsName(_))
                )
        })
}

/// Whether the certificate in `cert` is valid for `name`. A file that cannot be read or parsed
/// counts as covering it: loading it reports what is wrong, instead of it being replaced.
fn covers(cert: &Path, name: &str) -> bool {
    let (Ok(der), Ok(name)) = (
        CertificateDer::from_pem_file(cert),
        ServerName::try_from(name),
    ) else {
        return true;
    };
    match ParsedCertificate::try_from(&der) {
        Ok(parsed) => verify_server_name(&parsed, &name).is_ok(),
        Err(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cert_of(dir: &Path) -> Vec<u8> {
        std::fs::read(dir.join("tls/self-signed.crt")).unwrap()
    }

    fn covered(dir: &Path, name: &str) -> bool {
        let der = CertificateDer::from_pem_file(dir.join("tls/self-signed.crt")).unwrap();
        let parsed = ParsedCertificate::try_from(&der).unwrap();
        verify_server_name(&parsed, &ServerName::try_from(name).unwrap()).is_ok()
    }

    #[test]
    fn the_self_signed_certificate_names_loopback_the_machine_and_the_names_given() {
        let dir = tempfile::tempdir().unwrap();
        Tls::self_signed(dir.path(), &["endpoint.example".into(), "192.0.2.7".into()]).unwrap();
        let mut names = vec![
            "localhost",
            "127.0.0.1",
            "::1",
            "endpoint.example",
            "192.0.2.7",
        ];
        let host = machine_host_name();
        names.extend(host.as_deref());
        for name in names {
            assert!(
                covered(dir.path(), name),
                "{name} is not in the certificate"
            );
        }
        assert!(!covered(dir.path(), "elsewhere.example"));
    }

    #[test]
    fn the_machine_host_name_is_the_one_hostname_prints() {
        let Ok(kernel) = std::fs::read_to_string("/proc/sys/kernel/hostname") else {
            return;
        };
        let kernel = kernel.trim().to_ascii_lowercase();
        if kernel == "localhost" || kernel.is_empty() {
            assert_eq!(machine_host_name(), None);
        } else {
            assert_eq!(machine_host_name().as_deref(), Some(kernel.as_str()));
        }
    }

    #[test]
    fn a_kept_certificate_is_replaced_only_when_it_misses_a_name_asked_for() {
        let dir = tempfile::tempdir().unwrap();
        Tls::self_signed(dir.path(), &["one.example".into()]).unwrap();
        let first = cert_of(dir.path());

        // Covered (or nothing asked for): the same pair.
        Tls::self_signed(dir.path(), &["one.example".into(), "127.0.0.1".into()]).unwrap();
        Tls::self_signed(dir.path(), &[]).unwrap();
        assert_eq!(cert_of(dir.path()), first);

        // A name it misses: a new pair, for that name.
        Tls::self_signed(dir.path(), &["two.example".into()]).unwrap();
        assert_ne!(cert_of(dir.path()), first);
        assert!(covered(dir.path(), "two.example"));

        // Words that are no names are left out, and do not replace the pair.
        let second = cert_of(dir.path());
        Tls::self_signed(dir.path(), &["not a name".into(), String::new()]).unwrap();
        assert_eq!(cert_of(dir.path()), second);
    }

    #[test]
    fn a_key_left_without_its_certificate_is_replaced_by_a_whole_pair() {
        let dir = tempfile::tempdir().unwrap();
        Tls::self_signed(dir.path(), &[]).unwrap();
        // As if a start died while replacing the pair, before the new certificate was in.
        std::fs::remove_file(dir.path().join("tls/self-signed.crt")).unwrap();
        Tls::self_signed(dir.path(), &[]).unwrap();
        Tls::from_pem_files(
            &dir.path().join("tls/self-signed.crt"),
            &dir.path().join("tls/self-signed.key"),
        )
        .unwrap();
    }

    #[test]
    fn the_machine_host_name_alone_does_not_replace_a_kept_certificate() {
        let dir = tempfile::tempdir().unwrap();
        let made = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        std::fs::create_dir_all(dir.path().join("tls")).unwrap();
        std::fs::write(dir.path().join("tls/self-signed.crt"), made.cert.pem()).unwrap();
        std::fs::write(
            dir.path().join("tls/self-signed.key"),
            made.signing_key.serialize_pem(),
        )
        .unwrap();
        let kept = cert_of(dir.path());
        Tls::self_signed(dir.path(), &[]).unwrap();
        assert_eq!(cert_of(dir.path()), kept);
    }
}
