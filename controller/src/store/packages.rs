//! Listing the imported packages.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use aps_protocol::{AppMeta, TypeSchema};
use uuid::Uuid;

use super::{Store, StoreError, corrupt, uuid};
use crate::package::PackageModel;

impl Store {
    /// Every imported package with its id, oldest first.
    pub(crate) async fn packages(&self) -> Result<Vec<(Uuid, PackageModel)>, StoreError> {
        let _held = self.hold();
        let rows: Vec<(String, String, String)> =
            sqlx::query_as("SELECT id, meta_xml, schemas FROM packages ORDER BY created, rowid")
                .fetch_all(self.reader())
                .await?;
        rows.iter()
            .map(|(id, xml, schemas)| Ok((uuid(id)?, model_of(xml, schemas)?)))
            .collect()
    }
}

/// A package model from its stored columns.
pub(super) fn model_of(xml: &str, schemas: &str) -> Result<PackageModel, StoreError> {
    let meta = AppMeta::parse(xml).map_err(corrupt)?;
    let schemas: Vec<(String, TypeSchema)> = serde_json::from_str(schemas).map_err(corrupt)?;
    Ok(PackageModel { meta, schemas })
}

/// Packages already read, by id (a controller imports a handful).
#[derive(Debug, Clone, Default)]
pub(super) struct Models(Arc<Mutex<HashMap<Uuid, PackageModel>>>);

impl Models {
    pub(super) fn get(&self, id: Uuid) -> Option<PackageModel> {
        self.lock().get(&id).cloned()
    }

    pub(super) fn keep(&self, id: Uuid, model: &PackageModel) {
        self.lock().insert(id, model.clone());
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, PackageModel>> {
        // Only whole models go in, so a panic elsewhere leaves nothing half-made.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
