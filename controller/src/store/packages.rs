//! Listing the imported packages.

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
