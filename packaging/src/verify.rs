//! Checking a package completely, reporting every problem rather than the first.

use crate::archive::Archive;
use crate::read::{read_meta, read_schemas, root};
use crate::{PackageError, list};

/// Every problem of an `.app.zip`, in a stable order; empty when the package is sound.
///
/// Checks what [`Package::read`](crate::Package::read) checks and, in addition, that
/// `APP-LIST.xml` is present, well-formed, lists every file of the archive except itself, and
/// gives each its right size and SHA-256. Never panics, whatever the bytes.
pub fn verify(bytes: &[u8]) -> Vec<PackageError> {
    let mut archive = match Archive::open(bytes) {
        Ok(archive) => archive,
        Err(problem) => return vec![problem],
    };
    let mut problems = archive.take_refused();
    match read_meta(&mut archive) {
        Ok(meta) => {
            let (schemas, schema_problems) = read_schemas(&mut archive, &meta);
            let all_read = schema_problems.is_empty();
            problems.extend(schema_problems);
            // Without every schema, a missing application type may only be a missing schema.
            if all_read {
                problems.extend(root(&meta, &schemas).err());
            }
        }
        Err(problem) => problems.push(problem),
    }
    problems.extend(list::problems(&mut archive));
    problems
}
