//! The store's tasks, resources and outbox on a real SQLite file.

use serde_json::json;

use super::*;
use crate::package::PackageModel;

fn record(resource: Uuid, app: Uuid) -> Record {
    let id = Uuid::new_v4();
    let now = Timestamp::now().to_string();
    serde_json::from_value(json!({
        "task": {
            "id": id, "name": "Provisioning \"thing\" for APS application t", "operation": "provision",
            "application": app,
            "resource": {"id": resource, "type": "http://t/thing/1.0", "service": "thing", "href": "/"},
            "state": "queued", "description": null, "output": null, "attempts": 0, "nextCheck": null,
            "retryAfter": null, "creationTime": now, "lastModified": now, "completionTime": null,
            "revision": 1, "error": null, "statusURI": "/s", "resultURI": "/r"
        },
        "work": {
            "transaction_id": Uuid::new_v4(), "phase_async": false, "endpoint": "http://e",
            "body": null, "failures": 0, "deadline": now, "callback_url": "http://cb/?t=1", "result": null
        }
    }))
    .unwrap()
}

/// A store on a fresh file, with a package and an application instance (not yet stored).
async fn fixture(dir: &tempfile::TempDir) -> (String, Store, ApplicationRow) {
    let url = format!("sqlite://{}", dir.path().join("s.db").display());
    let store = Store::open(&url).await.unwrap();
    let package = Uuid::new_v4();
    let model = PackageModel {
        meta: aps_protocol::AppMeta {
            id: "i".into(),
            name: "t".into(),
            version: "1".into(),
            release: "1".into(),
            ..Default::default()
        },
        schemas: vec![],
    };
    store.insert_package(package, &model).await.unwrap();
    let app = ApplicationRow {
        id: Uuid::new_v4(),
        package_id: package,
        endpoint: "http://e".into(),
        settings: json!({}),
        root_id: Uuid::new_v4(),
    };
    (url, store, app)
}

fn resource(app: &ApplicationRow) -> ResourceRow {
    ResourceRow {
        id: Uuid::new_v4(),
        application_id: app.id,
        service: "thing".into(),
        type_id: "http://t/thing/1.0".into(),
        body: json!({"aps": {}}),
    }
}

#[tokio::test]
async fn state_survives_reopening_the_file_and_one_task_per_resource() {
    let dir = tempfile::tempdir().unwrap();
    let (url, store, app) = fixture(&dir).await;
    let resource = resource(&app);
    let first = record(resource.id, app.id);
    store
        .begin(&first, Some(&app), Some(&resource), None, &[])
        .await
        .unwrap();
    let second = record(resource.id, app.id);
    match store.begin(&second, None, Some(&resource), None, &[]).await {
        Err(StoreError::Busy(task)) => assert_eq!(task, first.task.id),
        other => panic!("expected Busy, got {other:?}"),
    }
    let mut ended = first.clone();
    ended.finish(State::Success, None, None);
    let owed = crate::callback::owed(&ended.task, "http://cb/?t=1");
    store
        .save(
            &ended,
            &ResourceChange::Delete(resource.id),
            Some(&owed),
            &Default::default(),
        )
        .await
        .unwrap();
    drop(store);

    let store = Store::open(&url).await.unwrap();
    assert!(store.unfinished().await.unwrap().is_empty());
    assert_eq!(store.task(first.task.id).await.unwrap(), Some(ended));
    assert_eq!(store.pending_callbacks().await.unwrap(), vec![owed.clone()]);
    assert!(store.resource(resource.id).await.unwrap().is_none());
    assert_eq!(
        store
            .package(app.package_id)
            .await
            .unwrap()
            .unwrap()
            .meta
            .name,
        "t"
    );
    store.callback_done(&owed.id).await.unwrap();
    assert!(store.pending_callbacks().await.unwrap().is_empty());
    assert_eq!(store.setting_or_insert("k", "a").await.unwrap(), "a");
    assert_eq!(store.setting_or_insert("k", "b").await.unwrap(), "a");
}

#[tokio::test]
async fn changes_sent_together_are_all_stored_and_a_busy_start_fails_alone() {
    let dir = tempfile::tempdir().unwrap();
    let (url, store, app) = fixture(&dir).await;
    let taken = resource(&app);
    let first = record(taken.id, app.id);
    store
        .begin(&first, Some(&app), Some(&taken), None, &[])
        .await
        .unwrap();
    let starts: Vec<_> = (0..40)
        .map(|i| {
            let (store, app) = (store.clone(), app.clone());
            let row = if i == 20 {
                taken.clone()
            } else {
                resource(&app)
            };
            tokio::spawn(async move {
                let mut task = record(row.id, app.id);
                store.begin(&task, None, Some(&row), None, &[]).await?;
                task.task.state = State::Running;
                task.touch();
                store
                    .save(&task, &ResourceChange::Keep, None, &Default::default())
                    .await
            })
        })
        .collect();
    let mut busy = 0;
    for start in starts {
        match start.await.unwrap() {
            Ok(()) => {}
            Err(StoreError::Busy(task)) => {
                assert_eq!(task, first.task.id);
                busy += 1;
            }
            Err(other) => panic!("unexpected {other}"),
        }
    }
    assert_eq!(busy, 1);
    assert_eq!(store.stats().task_writes, 1 + 39 * 2);
    drop(store);

    let store = Store::open(&url).await.unwrap();
    let unfinished = store.unfinished().await.unwrap();
    assert_eq!(unfinished.len(), 40);
    let running = unfinished.iter().filter(|r| r.task.state == State::Running);
    assert_eq!(running.count(), 39);
}

#[tokio::test]
async fn a_start_from_a_changed_resource_and_a_change_of_a_missing_one_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (_, store, app) = fixture(&dir).await;
    let row = resource(&app);
    let first = record(row.id, app.id);
    store
        .begin(&first, Some(&app), Some(&row), None, &[])
        .await
        .unwrap();
    let mut ended = first.clone();
    ended.finish(State::Success, None, None);
    store
        .save(&ended, &ResourceChange::Keep, None, &Default::default())
        .await
        .unwrap();
    assert_eq!(store.unfinished_task_of(row.id).await.unwrap(), None);
    // The endpoint changes the resource after a configure read it.
    let read = row.body.clone();
    let changed = store
        .update_resource(row.id, None, |body| {
            body["size"] = json!(3);
            None
        })
        .await
        .unwrap();
    assert_eq!(changed, Some(json!({"aps": {}, "size": 3})));
    let configure = record(row.id, app.id);
    match store
        .begin(&configure, None, Some(&row), Some(&read), &[])
        .await
    {
        Err(StoreError::Changed(id)) => assert_eq!(id, row.id),
        other => panic!("expected Changed, got {other:?}"),
    }
    assert_eq!(
        store.resource(row.id).await.unwrap().unwrap().body["size"],
        3
    );
    assert!(store.task(configure.task.id).await.unwrap().is_none());
    // Read again, it starts, and the change goes with the task's record.
    let read = changed.unwrap();
    store
        .begin(&configure, None, Some(&row), Some(&read), &[])
        .await
        .unwrap();
    let running = Some(configure.task.id);
    assert_eq!(store.unfinished_task_of(row.id).await.unwrap(), running);
    let mut next = configure.clone();
    next.task.output = Some("seen".into());
    // Not while the caller does not know of the task.
    match store.update_resource(row.id, None, |_| None).await {
        Err(StoreError::Changed(id)) => assert_eq!(id, row.id),
        other => panic!("expected Changed, got {other:?}"),
    }
    store
        .update_resource(row.id, running, |_| Some(next))
        .await
        .unwrap()
        .unwrap();
    let stored = store.task(configure.task.id).await.unwrap().unwrap();
    assert_eq!(stored.task.output.as_deref(), Some("seen"));
    // Gone: nothing is written, and nothing is made.
    let gone = Uuid::new_v4();
    let none = store.update_resource(gone, None, |_| None).await.unwrap();
    assert_eq!(none, None);
    assert!(store.resource(gone).await.unwrap().is_none());
}
