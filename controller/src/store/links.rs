//! Links between resources: one row per direction (`resource_id` links `target_id` under
//! `relation`). A link whose relation has a counterpart on the other type is two rows, always
//! written and removed in one transaction.

use aps_protocol::event::EventKind;
use sqlx::SqliteConnection;
use uuid::Uuid;

use super::commit::LinkText;
use super::subscriptions::Event;
use super::{Store, StoreError, uuid};
use crate::timestamp::Timestamp;

/// One direction of a link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LinkRow {
    pub resource: Uuid,
    pub relation: String,
    pub target: Uuid,
}

impl LinkRow {
    pub(super) fn text(&self) -> LinkText {
        LinkText {
            resource_id: self.resource.to_string(),
            relation: self.relation.clone(),
            target_id: self.target.to_string(),
        }
    }
}

/// What storing a link did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Linked {
    /// Stored.
    Done,
    /// It was stored already; nothing changed.
    Already,
    /// A single relation of `resource` already holds a link to `other`; nothing changed.
    Taken {
        resource: Uuid,
        relation: String,
        other: Uuid,
    },
}

/// Stores one direction of a link (a new resource's, inside its task's transaction).
pub(super) async fn insert(db: &mut SqliteConnection, link: &LinkText) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT OR IGNORE INTO links (resource_id, relation, target_id, created) VALUES (?, ?, ?, ?)",
    )
    .bind(&link.resource_id)
    .bind(&link.relation)
    .bind(&link.target_id)
    .bind(Timestamp::now().to_string())
    .execute(db)
    .await?;
    Ok(())
}

/// Removes every link from or to a resource.
pub(super) async fn remove_all(db: &mut SqliteConnection, id: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM links WHERE resource_id = ?1 OR target_id = ?1")
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

/// Tells the subscriptions to the link's resource that its link of `relation` changed.
async fn notify_link(
    db: &mut SqliteConnection,
    kind: EventKind,
    row: &LinkRow,
) -> Result<usize, StoreError> {
    let type_id: Option<(String,)> = sqlx::query_as("SELECT type_id FROM resources WHERE id = ?")
        .bind(row.resource.to_string())
        .fetch_optional(&mut *db)
        .await?;
    let Some((type_id,)) = type_id else {
        return Ok(0);
    };
    let event = Event {
        kind,
        type_id,
        source: row.resource,
        relation: Some(row.relation.clone()),
    };
    super::subscriptions::notify(db, &event).await
}

impl Store {
    /// Every link of a resource, as (relation, target), oldest first.
    pub(crate) async fn links_of(&self, resource: Uuid) -> Result<Vec<(String, Uuid)>, StoreError> {
        let _held = self.hold();
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT relation, target_id FROM links WHERE resource_id = ? ORDER BY created, rowid",
        )
        .bind(resource.to_string())
        .fetch_all(self.reader())
        .await?;
        rows.into_iter()
            .map(|(relation, target)| Ok((relation, uuid(&target)?)))
            .collect()
    }

    /// Stores a link (its rows: one per direction) in one transaction, unless one of the
    /// `single` relations (resource, relation) already holds a link to another resource.
    pub(crate) async fn link(
        &self,
        rows: &[LinkRow],
        single: &[(Uuid, String)],
    ) -> Result<Linked, StoreError> {
        let _held = self.hold();
        let mut tx = self.writer.begin().await?;
        if let Some(first) = rows.first() {
            let stored: Option<(i64,)> = sqlx::query_as(
                "SELECT 1 FROM links WHERE resource_id = ? AND relation = ? AND target_id = ?",
            )
            .bind(first.resource.to_string())
            .bind(&first.relation)
            .bind(first.target.to_string())
            .fetch_optional(&mut *tx)
            .await?;
            if stored.is_some() {
                return Ok(Linked::Already);
            }
        }
        for (resource, relation) in single {
            let held: Option<(String,)> = sqlx::query_as(
                "SELECT target_id FROM links WHERE resource_id = ? AND relation = ? LIMIT 1",
            )
            .bind(resource.to_string())
            .bind(relation)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some((other,)) = held {
                return Ok(Linked::Taken {
                    resource: *resource,
                    relation: relation.clone(),
                    other: uuid(&other)?,
                });
            }
        }
        let mut written = 0;
        for row in rows {
            insert(&mut tx, &row.text()).await?;
            written += notify_link(&mut tx, EventKind::Linked, row).await?;
        }
        tx.commit().await?;
        self.written(written);
        Ok(Linked::Done)
    }

    /// Removes a link (its rows) in one transaction; answers whether the first row was stored.
    pub(crate) async fn unlink(&self, rows: &[LinkRow]) -> Result<bool, StoreError> {
        let _held = self.hold();
        let mut tx = self.writer.begin().await?;
        let mut found = Vec::with_capacity(rows.len());
        let mut written = 0;
        for row in rows {
            let done = sqlx::query(
                "DELETE FROM links WHERE resource_id = ? AND relation = ? AND target_id = ?",
            )
            .bind(row.resource.to_string())
            .bind(&row.relation)
            .bind(row.target.to_string())
            .execute(&mut *tx)
            .await?;
            found.push(done.rows_affected() > 0);
            if done.rows_affected() > 0 {
                written += notify_link(&mut tx, EventKind::Unlinked, row).await?;
            }
        }
        tx.commit().await?;
        self.written(written);
        Ok(found.first().copied().unwrap_or(false))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(resource: Uuid, relation: &str, target: Uuid) -> LinkRow {
        LinkRow {
            resource,
            relation: relation.into(),
            target,
        }
    }

    #[tokio::test]
    async fn a_single_relation_holds_one_link_and_both_directions_go_together() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("s.db").display());
        let store = Store::open(&url).await.unwrap();
        let (site, other_site, domain) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let both = |site| vec![row(site, "domains", domain), row(domain, "website", site)];
        let single = [(domain, "website".to_owned())];
        assert_eq!(
            store.link(&both(site), &single).await.unwrap(),
            Linked::Done
        );
        assert_eq!(
            store.link(&both(site), &single).await.unwrap(),
            Linked::Already
        );
        assert_eq!(
            store.link(&both(other_site), &single).await.unwrap(),
            Linked::Taken {
                resource: domain,
                relation: "website".into(),
                other: site
            }
        );
        assert_eq!(
            store.links_of(domain).await.unwrap(),
            [("website".to_owned(), site)]
        );
        assert!(store.links_of(other_site).await.unwrap().is_empty());
        assert!(store.unlink(&both(site)).await.unwrap());
        assert!(!store.unlink(&both(site)).await.unwrap());
        assert!(store.links_of(site).await.unwrap().is_empty());
        assert!(store.links_of(domain).await.unwrap().is_empty());
        assert_eq!(
            store.link(&both(other_site), &single).await.unwrap(),
            Linked::Done
        );
    }
}
