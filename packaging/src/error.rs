//! What can be wrong with a package, and why a build can fail.

use std::path::PathBuf;

/// One thing wrong with a package: [`Package::read`](crate::Package::read) stops at the first,
/// [`verify`](crate::verify) reports them all. Each displays as one line that names the file or
/// service at fault.
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    /// The bytes are not a readable zip archive.
    #[error("not a zip archive: {0}")]
    NotAZip(String),
    /// The archive would unpack to more than [`MAX_UNPACKED`](crate::MAX_UNPACKED) bytes.
    #[error("the package would unpack to {declared} bytes, more than the {limit} allowed")]
    TooLarge {
        /// What the entries declare, added up.
        declared: u64,
        /// The limit.
        limit: u64,
    },
    /// An entry could not be decompressed or its checksum is wrong.
    #[error("`{path}` cannot be read from the archive: {reason}")]
    Corrupt {
        /// The entry.
        path: String,
        /// What the zip reader said.
        reason: String,
    },
    /// An entry's path would land outside the directory the package is unpacked into.
    #[error("`{0}` escapes the package (absolute path, `..` or a drive prefix)")]
    PathEscape(String),
    /// An entry is a symbolic link; packages hold only files.
    #[error("`{0}` is a symbolic link; a package may hold only regular files")]
    Link(String),
    /// Two entries have the same path.
    #[error("`{0}` appears twice in the archive")]
    Duplicate(String),
    /// A file the package needs is not in it.
    #[error("`{0}` is missing from the package")]
    Missing(String),
    /// A text file is not UTF-8.
    #[error("`{0}` is not UTF-8 text")]
    NotText(String),
    /// `APP-META.xml` cannot be read.
    #[error(transparent)]
    Meta(#[from] aps_protocol::meta::MetaError),
    /// A service names no schema: the archive is a package source tree, not a built package.
    #[error(
        "service `{service}` has no <schema>{code}: this looks like a package source tree; \
         build it into a package with its schemas first"
    )]
    NoSchema {
        /// The service id.
        service: String,
        /// ` (it names <engine> code at <path>)` when the service names code, else empty.
        code: String,
    },
    /// A schema file is not a valid APS type schema.
    #[error("schema `{path}` of service `{service}` is not a valid type schema: {source}")]
    Schema {
        /// The service id.
        service: String,
        /// The schema's path in the package.
        path: String,
        /// What the JSON reader said.
        source: serde_json::Error,
    },
    /// No service implements the APS application type, so nothing can be installed.
    #[error(
        "no service's schema implements {}",
        aps_protocol::schema::APPLICATION_TYPE
    )]
    NoApplication,
    /// `APP-LIST.xml` cannot be read.
    #[error("APP-LIST.xml: {0}")]
    List(String),
    /// A file's size differs from what `APP-LIST.xml` says.
    #[error("`{path}` is {actual} bytes but APP-LIST.xml says {listed}")]
    SizeMismatch {
        /// The file.
        path: String,
        /// Its size in the archive.
        actual: u64,
        /// Its size in `APP-LIST.xml`.
        listed: u64,
    },
    /// A file's SHA-256 differs from what `APP-LIST.xml` says.
    #[error("`{path}` has SHA-256 {actual} but APP-LIST.xml says {listed}")]
    HashMismatch {
        /// The file.
        path: String,
        /// Its digest, hex.
        actual: String,
        /// The digest in `APP-LIST.xml`.
        listed: String,
    },
    /// A file is in the archive but not in `APP-LIST.xml`.
    #[error("`{0}` is in the archive but not listed in APP-LIST.xml")]
    Unlisted(String),
}

/// Why [`build`](crate::build) failed.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// A file or directory could not be read or written.
    #[error("{action} `{}`: {source}", path.display())]
    Io {
        /// What was being done, e.g. `cannot read`.
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// `<app> meta --out DIR` did not succeed.
    #[error("`{} meta --out DIR` failed ({status}): {stderr}", app.display())]
    MetaCommand {
        /// The application binary.
        app: PathBuf,
        /// Its exit status.
        status: String,
        /// What it wrote to standard error (trimmed).
        stderr: String,
    },
    /// What the application wrote is not a valid package.
    #[error("the metadata that `{} meta` wrote is not a valid package: {source}", app.display())]
    Invalid {
        /// The application binary.
        app: PathBuf,
        /// The first problem found.
        source: PackageError,
    },
    /// The zip archive could not be written.
    #[error("cannot write the archive: {0}")]
    Zip(#[from] zip::result::ZipError),
}

impl BuildError {
    pub(crate) fn io(
        action: &'static str,
        path: &std::path::Path,
    ) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.to_path_buf();
        move |source| Self::Io {
            action,
            path,
            source,
        }
    }
}
