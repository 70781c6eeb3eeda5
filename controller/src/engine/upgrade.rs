//! Application upgrade (issue #12): an instance moves to a newer imported package of the same
//! application.
//!
//! The upgrade is a task on the instance's root resource ("Upgrading …"): the endpoint is
//! called with `POST /{root service}/{root id}/upgrade?version={old version}-{old release}`
//! and the root resource as the body, and may go async like any operation. When it succeeds,
//! in the transaction that ends the task, the instance takes the new package (its schemas
//! take effect) and the properties the new schemas give defaults are filled into the stored
//! resources that lack them; the resources keep everything else.

use std::cmp::Ordering;

use aps_protocol::AppMeta;
use uuid::Uuid;

use super::{Engine, OperationError};
use crate::store::{PackageSwitch, StoreError};
use crate::task::{Operation, Record, State, Task, UpgradeWork};

/// Compares dotted versions part by part: numbers as numbers, other parts as text.
fn compare_versions(a: &str, b: &str) -> Ordering {
    let parts = |v: &str| -> Vec<String> { v.split(['.', '-']).map(str::to_owned).collect() };
    let (a, b) = (parts(a), parts(b));
    for (x, y) in a.iter().zip(&b) {
        let order = match (x.parse::<u64>(), y.parse::<u64>()) {
            (Ok(x), Ok(y)) => x.cmp(&y),
            _ => x.cmp(y),
        };
        if order != Ordering::Equal {
            return order;
        }
    }
    a.len().cmp(&b.len())
}

/// Whether `new` is a later version-release than `old`.
fn newer(new: &AppMeta, old: &AppMeta) -> bool {
    compare_versions(&new.version, &old.version)
        .then_with(|| compare_versions(&new.release, &old.release))
        == Ordering::Greater
}

impl Engine {
    /// Starts upgrading instance `application` to `package`: 400 for a package of another
    /// application or a version that is not newer, 409 while another operation holds the root.
    pub(crate) async fn upgrade(
        &self,
        application: Uuid,
        package: Uuid,
        callback_url: Option<String>,
    ) -> Result<Task, OperationError> {
        let callback_url = super::urls::callback(callback_url)?;
        let (app, old) = self.instance(application).await?;
        let new = self
            .store
            .package(package)
            .await?
            .ok_or_else(|| OperationError::Invalid(format!("There is no package {package}")))?;
        if new.meta.id != old.meta.id {
            return Err(OperationError::Invalid(format!(
                "Package {package} is of application {}, not {}",
                new.meta.id, old.meta.id
            )));
        }
        if !newer(&new.meta, &old.meta) {
            return Err(OperationError::Invalid(format!(
                "Package {package} is version {}-{}, not newer than the instance's {}-{}",
                new.meta.version, new.meta.release, old.meta.version, old.meta.release
            )));
        }
        let work = UpgradeWork {
            package,
            from: format!("{}-{}", old.meta.version, old.meta.release),
        };
        self.change_stored_with(
            app.root_id,
            Operation::Upgrade,
            callback_url,
            |_| {},
            |record| record.work.upgrade = Some(work.clone()),
        )
        .await
    }

    /// What a successful upgrade's change brings: the instance's new package and the defaults
    /// its schemas declare.
    pub(super) async fn package_switch(
        &self,
        record: &Record,
    ) -> Result<Option<PackageSwitch>, StoreError> {
        let (Operation::Upgrade, State::Success, Some(work)) = (
            record.task.operation,
            record.task.state,
            &record.work.upgrade,
        ) else {
            return Ok(None);
        };
        let Some(package) = self.store.package(work.package).await? else {
            return Err(StoreError::Corrupt(format!(
                "the package {} an upgrade moves to",
                work.package
            )));
        };
        let defaults = package
            .schemas
            .iter()
            .flat_map(|(_, schema)| {
                schema.properties.iter().filter_map(|(name, property)| {
                    let default = property.default.clone()?;
                    Some((schema.id.clone(), name.clone(), default))
                })
            })
            .collect();
        Ok(Some(PackageSwitch {
            application: record.task.application,
            package: work.package,
            defaults,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_by_number_then_text() {
        assert_eq!(compare_versions("0.2", "0.1"), Ordering::Greater);
        assert_eq!(compare_versions("0.10", "0.9"), Ordering::Greater);
        assert_eq!(compare_versions("1.0", "1.0"), Ordering::Equal);
        assert_eq!(compare_versions("1.0.1", "1.0"), Ordering::Greater);
        let meta = |version: &str, release: &str| AppMeta {
            version: version.into(),
            release: release.into(),
            ..AppMeta::default()
        };
        assert!(newer(&meta("0.2", "1"), &meta("0.1", "5")));
        assert!(newer(&meta("0.1", "2"), &meta("0.1", "1")));
        assert!(!newer(&meta("0.1", "1"), &meta("0.1", "1")));
        assert!(!newer(&meta("0.1", "1"), &meta("0.2", "1")));
    }
}
