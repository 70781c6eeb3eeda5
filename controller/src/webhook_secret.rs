//! The webhook secret a controller makes on its first start, and the file it is copied to for
//! the operator (the secret itself is never printed or logged).

use std::path::{Path, PathBuf};

use aps_server::files::{self, Readers};

use crate::Error;
use crate::callback::Secret;
use crate::store::Store;

/// The stored webhook secret, made first when there is none; a new one is also copied to
/// `{data dir}/webhook-secret` (0600), whose path comes back. The copy is written aside before
/// the secret is stored, so a data directory that cannot take it stops the start while the
/// database still has no secret that nobody was shown.
pub(crate) async fn first(
    store: &Store,
    data_dir: &Path,
) -> Result<(Secret, Option<PathBuf>), Error> {
    let fresh = Secret::generate().to_string();
    let path = data_dir.join(WEBHOOK_SECRET_FILE);
    // Absolute, so the path printed for the operator means something outside the working dir.
    let path = std::path::absolute(&path).unwrap_or(path);
    let staged = files::stage(&path, format!("{fresh}\n").as_bytes(), Readers::Owner)?;
    let stored = store.setting_or_insert("webhook_secret", &fresh).await?;
    let secret = Secret::parse(&stored)?;
    if stored != fresh {
        return Ok((secret, None));
    }
    staged.replace()?;
    Ok((secret, Some(path)))
}

/// The file, in the data directory, that a webhook secret made by the controller is copied to.
const WEBHOOK_SECRET_FILE: &str = "webhook-secret";
