//! API tokens: their public part and the hash of their secret, never the secret.

use super::{Store, StoreError, corrupt};
use crate::timestamp::Timestamp;

/// An API token as stored.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TokenRow {
    pub id: String,
    pub name: String,
    pub scope: String,
    /// SHA-256 of the secret, hex.
    pub hash: String,
    pub created: Timestamp,
    pub expires: Option<Timestamp>,
    pub revoked: Option<Timestamp>,
}

type Columns = (
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
);

fn row(
    (id, name, scope, hash, created, expires, revoked): Columns,
) -> Result<TokenRow, StoreError> {
    let time = |text: &str| Timestamp::parse(text).ok_or_else(|| corrupt(text));
    Ok(TokenRow {
        id,
        name,
        scope,
        hash,
        created: time(&created)?,
        expires: expires.as_deref().map(time).transpose()?,
        revoked: revoked.as_deref().map(time).transpose()?,
    })
}

const COLUMNS: &str = "id, name, scope, hash, created, expires, revoked";

impl Store {
    /// Stores a new token.
    pub(crate) async fn insert_token(&self, token: &TokenRow) -> Result<(), StoreError> {
        let _held = self.hold();
        sqlx::query(&format!(
            "INSERT INTO api_tokens ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)"
        ))
        .bind(&token.id)
        .bind(&token.name)
        .bind(&token.scope)
        .bind(&token.hash)
        .bind(token.created.to_string())
        .bind(token.expires.map(|t| t.to_string()))
        .bind(token.revoked.map(|t| t.to_string()))
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// A token by its id.
    pub(crate) async fn token(&self, id: &str) -> Result<Option<TokenRow>, StoreError> {
        let _held = self.hold();
        let found: Option<Columns> =
            sqlx::query_as(&format!("SELECT {COLUMNS} FROM api_tokens WHERE id = ?"))
                .bind(id)
                .fetch_optional(self.reader())
                .await?;
        found.map(row).transpose()
    }

    /// Every token, oldest first.
    pub(crate) async fn tokens(&self) -> Result<Vec<TokenRow>, StoreError> {
        let _held = self.hold();
        let rows: Vec<Columns> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM api_tokens ORDER BY created, id"
        ))
        .fetch_all(self.reader())
        .await?;
        rows.into_iter().map(row).collect()
    }

    /// Marks a token revoked; answers whether there was such a token not yet revoked.
    pub(crate) async fn revoke_token(&self, id: &str) -> Result<bool, StoreError> {
        let _held = self.hold();
        let done =
            sqlx::query("UPDATE api_tokens SET revoked = ? WHERE id = ? AND revoked IS NULL")
                .bind(Timestamp::now().to_string())
                .bind(id)
                .execute(&self.writer)
                .await?;
        Ok(done.rows_affected() == 1)
    }
}
