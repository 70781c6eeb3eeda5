//! Certificate and credential files: made once, kept private, refused clearly when unusable.

use super::*;

#[test]
fn the_self_signed_pair_is_made_once_and_kept_private() {
    let dir = tempfile::tempdir().unwrap();
    let first = Tls::self_signed(dir.path(), &["endpoint.example".into()]).unwrap();
    let cert = std::fs::read(first.cert_path()).unwrap();
    let again = Tls::self_signed(dir.path(), &[]).unwrap();
    assert_eq!(std::fs::read(again.cert_path()).unwrap(), cert);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("tls/self-signed.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(
            mode & 0o077,
            0,
            "the key must not be readable by others: {mode:o}"
        );
    }
}

#[test]
fn unusable_certificate_files_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.crt");
    let err = Tls::from_pem_files(&missing, &missing).unwrap_err();
    assert!(err.to_string().contains("missing.crt"), "{err}");

    let garbage = dir.path().join("garbage.pem");
    std::fs::write(&garbage, "not a certificate").unwrap();
    let err = Tls::from_pem_files(&garbage, &garbage).unwrap_err();
    assert!(matches!(err, TlsError::Pem { .. }), "{err}");

    let one = Tls::self_signed(&dir.path().join("one"), &[]).unwrap();
    Tls::self_signed(&dir.path().join("two"), &[]).unwrap();
    let other_key = dir.path().join("two/tls/self-signed.key");
    let err = Tls::from_pem_files(one.cert_path(), &other_key).unwrap_err();
    assert!(matches!(err, TlsError::Rustls(_)), "{err}");
}

#[tokio::test]
async fn damaged_credentials_lock_the_instance_instead_of_freeing_it() {
    let data = tempfile::tempdir().unwrap();
    let instance = Uuid::new_v4();
    let dir = data.path().join(format!("instances/{instance}"));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("x509.json"), b"{\"self\": \"trunc").unwrap();
    let endpoint = endpoint(data.path()).await;
    let pki = Pki::new("controller CA");
    let controller = pki.leaf("controller");

    assert_eq!(
        provision(&endpoint, Some(&controller), instance).await,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    let reinstall = install(
        &endpoint,
        Some(&controller),
        instance,
        pki.x509(&pki.leaf("i"), &controller),
    )
    .await;
    assert_eq!(
        reinstall.status(),
        StatusCode::CONFLICT,
        "no fresh install over damaged credentials"
    );
}
