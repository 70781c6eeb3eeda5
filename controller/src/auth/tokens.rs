//! API tokens: made with a scope (and optionally an expiry), shown once, kept only as a hash,
//! listed and revoked.
//!
//! A token reads `apsc_{id}_{secret}`: the id (16 hex digits) finds its row, and the secret
//! (32 random bytes, base64url) is checked against the SHA-256 stored there in constant time.
//! The id is what `token list` shows and `token revoke` takes; it grants nothing by itself.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::Scope;
use crate::Error;
use crate::store::{Store, StoreError, TokenRow};
use crate::timestamp::Timestamp;

/// What every token starts with, so a leaked one is recognizable (and scanners can find it).
const PREFIX: &str = "apsc_";

/// A token as listed: everything but its secret.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TokenInfo {
    /// The token's public id.
    pub id: String,
    /// A name for people, e.g. who or what uses it.
    pub name: String,
    /// What it may do.
    pub scope: Scope,
    /// When it was made.
    pub created: Timestamp,
    /// When it stops working, if ever.
    pub expires: Option<Timestamp>,
    /// When it was revoked.
    pub revoked: Option<Timestamp>,
}

/// A token just made: its description, and the token itself, which is shown this once.
#[derive(Debug, Clone)]
pub struct NewToken {
    /// The token as listed.
    pub info: TokenInfo,
    /// The token to send as `Authorization: Bearer …`; never stored, never shown again.
    pub token: String,
}

/// Why a presented token was not accepted (for the log, never for the caller).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refused {
    Malformed,
    Unknown,
    Revoked,
    Expired,
}

impl Refused {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Malformed => "malformed token",
            Self::Unknown => "unknown token",
            Self::Revoked => "revoked token",
            Self::Expired => "expired token",
        }
    }
}

/// The API tokens of a controller's database.
#[derive(Debug, Clone)]
pub struct Tokens {
    store: Store,
}

fn hash(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn info(row: TokenRow) -> TokenInfo {
    TokenInfo {
        // A stored scope this version does not know grants the least.
        scope: row.scope.parse().unwrap_or(Scope::Read),
        id: row.id,
        name: row.name,
        created: row.created,
        expires: row.expires,
        revoked: row.revoked,
    }
}

impl Tokens {
    /// The tokens of the database at `database` (a path or an `sqlite://` URL), which is
    /// created and migrated when needed; for `aps-controller token …` beside a running
    /// controller.
    pub async fn open(database: &str) -> Result<Self, Error> {
        let url = if database.starts_with("sqlite:") {
            database.to_owned()
        } else {
            format!("sqlite://{database}")
        };
        Ok(Self::new(Store::open(&url).await?))
    }

    pub(crate) fn new(store: Store) -> Self {
        Self { store }
    }

    /// Makes a token; the answer holds the token itself, which nothing keeps.
    pub async fn create(
        &self,
        name: &str,
        scope: Scope,
        expires: Option<Timestamp>,
    ) -> Result<NewToken, Error> {
        let mut id = [0u8; 8];
        let mut secret = [0u8; 32];
        rand::rng().fill_bytes(&mut id);
        rand::rng().fill_bytes(&mut secret);
        let id: String = id.iter().map(|b| format!("{b:02x}")).collect();
        let secret = URL_SAFE_NO_PAD.encode(secret);
        let row = TokenRow {
            id: id.clone(),
            name: name.to_owned(),
            scope: scope.as_str().to_owned(),
            hash: hash(&secret),
            created: Timestamp::now(),
            expires,
            revoked: None,
        };
        self.store.insert_token(&row).await?;
        Ok(NewToken {
            info: info(row),
            token: format!("{PREFIX}{id}_{secret}"),
        })
    }

    /// Every token, oldest first.
    pub async fn list(&self) -> Result<Vec<TokenInfo>, Error> {
        Ok(self.store.tokens().await?.into_iter().map(info).collect())
    }

    /// Revokes a token by its id; answers false when there is no such token not yet revoked.
    pub async fn revoke(&self, id: &str) -> Result<bool, Error> {
        Ok(self.store.revoke_token(id.trim()).await?)
    }

    /// The token a request presented: its id and scope, or why it is refused.
    pub(crate) async fn check(
        &self,
        presented: &str,
    ) -> Result<Result<(String, Scope), Refused>, StoreError> {
        let Some((id, secret)) = presented
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.split_once('_'))
        else {
            return Ok(Err(Refused::Malformed));
        };
        if id.len() != 16 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(Err(Refused::Malformed));
        }
        let Some(row) = self.store.token(id).await? else {
            return Ok(Err(Refused::Unknown));
        };
        if !bool::from(hash(secret).as_bytes().ct_eq(row.hash.as_bytes())) {
            return Ok(Err(Refused::Unknown));
        }
        Ok(usable(&row).map(|scope| (row.id.clone(), scope)))
    }

    /// The scope of a token by its id (a panel session's), when it is still usable.
    pub(crate) async fn scope_of(&self, id: &str) -> Result<Option<Scope>, StoreError> {
        Ok(self
            .store
            .token(id)
            .await?
            .and_then(|row| usable(&row).ok()))
    }
}

/// The scope of a token that is neither revoked nor expired.
fn usable(row: &TokenRow) -> Result<Scope, Refused> {
    if row.revoked.is_some() {
        return Err(Refused::Revoked);
    }
    if row.expires.is_some_and(|at| at <= Timestamp::now()) {
        return Err(Refused::Expired);
    }
    Ok(row.scope.parse().unwrap_or(Scope::Read))
}
