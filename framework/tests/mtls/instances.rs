//! Who speaks for an instance: the installing controller's certificate, kept across restarts.

use super::*;

#[tokio::test]
async fn only_the_installing_controllers_certificate_speaks_for_the_instance() {
    let data = tempfile::tempdir().unwrap();
    let endpoint = endpoint(data.path()).await;
    let pki = Pki::new("controller CA");
    let controller = pki.leaf("controller");
    let instance = Uuid::new_v4();

    let installed = install(
        &endpoint,
        Some(&controller),
        instance,
        pki.x509(&pki.leaf(&instance.to_string()), &controller),
    )
    .await;
    assert_eq!(installed.status(), StatusCode::CREATED);
    let echoed: Value = installed.json().await.unwrap();
    assert!(
        echoed["aps"].get("x509").is_none(),
        "the private key is never echoed: {echoed}"
    );

    assert_eq!(
        provision(&endpoint, Some(&controller), instance).await,
        StatusCode::ACCEPTED
    );
    assert_eq!(
        provision(&endpoint, None, instance).await,
        StatusCode::FORBIDDEN,
        "no certificate"
    );
    let stranger = Pki::new("someone else").leaf("controller");
    assert_eq!(
        provision(&endpoint, Some(&stranger), instance).await,
        StatusCode::FORBIDDEN,
        "a wrong one"
    );
    let sibling = pki.leaf("another controller of the same CA");
    assert_eq!(
        provision(&endpoint, Some(&sibling), instance).await,
        StatusCode::FORBIDDEN,
        "same CA, other cert"
    );

    let other_instance = Uuid::new_v4();
    let other_controller = pki.leaf("other");
    let other = install(
        &endpoint,
        Some(&other_controller),
        other_instance,
        pki.x509(&pki.leaf("i2"), &other_controller),
    )
    .await;
    assert_eq!(other.status(), StatusCode::CREATED);
    assert_eq!(
        provision(&endpoint, Some(&other_controller), instance).await,
        StatusCode::FORBIDDEN,
        "another instance's"
    );
    assert_eq!(
        provision(&endpoint, Some(&controller), Uuid::new_v4()).await,
        StatusCode::NOT_FOUND,
        "unknown instance"
    );
}

#[tokio::test]
async fn an_install_replayed_is_fine_but_other_credentials_never_take_an_instance_over() {
    let data = tempfile::tempdir().unwrap();
    let endpoint = endpoint(data.path()).await;
    let pki = Pki::new("controller CA");
    let controller = pki.leaf("controller");
    let instance = Uuid::new_v4();
    let x509 = pki.x509(&pki.leaf("instance"), &controller);
    assert_eq!(
        install(&endpoint, Some(&controller), instance, x509.clone())
            .await
            .status(),
        StatusCode::CREATED
    );
    assert_eq!(
        install(&endpoint, Some(&controller), instance, x509)
            .await
            .status(),
        StatusCode::CREATED
    );

    let thief_pki = Pki::new("thief");
    let thief = thief_pki.leaf("controller");
    let takeover = install(
        &endpoint,
        Some(&thief),
        instance,
        thief_pki.x509(&thief_pki.leaf("i"), &thief),
    )
    .await;
    assert_eq!(takeover.status(), StatusCode::CONFLICT);
    assert_eq!(error_name(takeover).await, "Conflict");
    assert_eq!(
        provision(&endpoint, Some(&controller), instance).await,
        StatusCode::ACCEPTED
    );
}

#[tokio::test]
async fn an_install_must_come_from_the_controller_it_names() {
    let data = tempfile::tempdir().unwrap();
    let endpoint = endpoint(data.path()).await;
    let pki = Pki::new("controller CA");
    let named = pki.leaf("controller");
    let sender = pki.leaf("someone");
    let instance = Uuid::new_v4();
    let x509 = pki.x509(&pki.leaf("instance"), &named);
    let refused = install(&endpoint, Some(&sender), instance, x509.clone()).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let anonymous = install(&endpoint, None, instance, x509).await;
    assert_eq!(anonymous.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        provision(&endpoint, Some(&named), instance).await,
        StatusCode::NOT_FOUND,
        "nothing was kept"
    );

    let broken = install(
        &endpoint,
        Some(&named),
        instance,
        json!({"self": "junk", "controller": "junk"}),
    )
    .await;
    assert_eq!(broken.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_name(broken).await, "InvalidCredentials");
}

#[tokio::test]
async fn credentials_are_kept_private_and_survive_a_restart() {
    let data = tempfile::tempdir().unwrap();
    let pki = Pki::new("controller CA");
    let controller = pki.leaf("controller");
    let instance = Uuid::new_v4();
    {
        let endpoint = endpoint(data.path()).await;
        let x509 = pki.x509(&pki.leaf("instance"), &controller);
        assert_eq!(
            install(&endpoint, Some(&controller), instance, x509)
                .await
                .status(),
            StatusCode::CREATED
        );
    }
    let file = data.path().join(format!("instances/{instance}/x509.json"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "{mode:o}");
    }
    let restarted = endpoint(data.path()).await;
    assert_eq!(
        provision(&restarted, Some(&controller), instance).await,
        StatusCode::ACCEPTED
    );
    assert_eq!(
        provision(&restarted, None, instance).await,
        StatusCode::FORBIDDEN
    );
}
