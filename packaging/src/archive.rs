//! A zip archive opened defensively: sizes bounded before anything is inflated, and entries whose
//! path could escape the unpack directory (or that are links) set aside as problems.

use std::collections::BTreeMap;
use std::io::{Cursor, Read, Seek};

use zip::ZipArchive;

use crate::PackageError;

/// The most a package may unpack to, in bytes (256 MiB), and the largest package file accepted.
pub const MAX_UNPACKED: u64 = 256 * 1024 * 1024;

/// The regular files of a zip archive, by path, read from memory or from a file.
pub(crate) struct Archive<R> {
    zip: ZipArchive<R>,
    /// Regular files with safe paths → their index in the zip.
    files: BTreeMap<String, usize>,
    /// Entries refused for their path or kind.
    refused: Vec<PackageError>,
}

impl<'a> Archive<Cursor<&'a [u8]>> {
    /// Opens `bytes` as a zip (see [`Archive::from_reader`]).
    pub(crate) fn open(bytes: &'a [u8]) -> Result<Self, PackageError> {
        Archive::from_reader(Cursor::new(bytes), bytes.len() as u64)
    }
}

impl<R: Read + Seek> Archive<R> {
    /// Opens a zip of `size` bytes and sorts its entries; fails when it is not a zip or is too
    /// large. Only the central directory and the entries asked for are read: a package in a
    /// file is never held in memory whole.
    pub(crate) fn from_reader(reader: R, size: u64) -> Result<Self, PackageError> {
        if size > MAX_UNPACKED {
            return Err(PackageError::TooLarge {
                declared: size,
                limit: MAX_UNPACKED,
            });
        }
        let mut zip = ZipArchive::new(reader).map_err(|e| PackageError::NotAZip(e.to_string()))?;
        let mut declared: u64 = 0;
        let mut files = BTreeMap::new();
        let mut refused = Vec::new();
        for index in 0..zip.len() {
            let entry = zip
                .by_index_raw(index)
                .map_err(|e| PackageError::NotAZip(e.to_string()))?;
            declared = declared.saturating_add(entry.size());
            let name = entry.name().to_owned();
            if !is_safe(&name) {
                refused.push(PackageError::PathEscape(name));
            } else if entry.is_symlink() {
                refused.push(PackageError::Link(name));
            } else if entry.is_dir() {
                continue;
            } else if files.insert(name.clone(), index).is_some() {
                refused.push(PackageError::Duplicate(name));
            }
        }
        if declared > MAX_UNPACKED {
            return Err(PackageError::TooLarge {
                declared,
                limit: MAX_UNPACKED,
            });
        }
        Ok(Self {
            zip,
            files,
            refused,
        })
    }

    /// The entries refused for their path or kind, taken out (the second call returns none).
    pub(crate) fn take_refused(&mut self) -> Vec<PackageError> {
        std::mem::take(&mut self.refused)
    }

    /// The paths of the regular files, sorted.
    pub(crate) fn paths(&self) -> Vec<String> {
        self.files.keys().cloned().collect()
    }

    /// Whether the archive holds this file.
    pub(crate) fn contains(&self, path: &str) -> bool {
        self.files.contains_key(path)
    }

    /// The contents of a file, inflated with the declared size as a hard limit.
    pub(crate) fn read(&mut self, path: &str) -> Result<Vec<u8>, PackageError> {
        let index = *self
            .files
            .get(path)
            .ok_or_else(|| PackageError::Missing(path.to_owned()))?;
        let corrupt = |reason: String| PackageError::Corrupt {
            path: path.to_owned(),
            reason,
        };
        let entry = self
            .zip
            .by_index(index)
            .map_err(|e| corrupt(e.to_string()))?;
        let declared = entry.size();
        let mut bytes = Vec::new();
        entry
            .take(declared.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(|e| corrupt(e.to_string()))?;
        if bytes.len() as u64 != declared {
            return Err(corrupt(format!(
                "it inflates to {} bytes, not the declared {declared}",
                bytes.len()
            )));
        }
        Ok(bytes)
    }

    /// The contents of a text file.
    pub(crate) fn read_text(&mut self, path: &str) -> Result<String, PackageError> {
        String::from_utf8(self.read(path)?).map_err(|_| PackageError::NotText(path.to_owned()))
    }
}

/// Whether an entry path stays inside the directory it is unpacked into: relative, no `..`,
/// no drive prefix, no backslashes (which some unzip tools treat as separators), no NUL.
pub(crate) fn is_safe(path: &str) -> bool {
    !path.is_empty()
        && !path.starts_with('/')
        && !path.contains(['\\', '\0'])
        && !path
            .split('/')
            .any(|part| part == ".." || part.contains(':'))
}

#[cfg(test)]
mod tests {
    use super::is_safe;

    #[test]
    fn escaping_paths_are_unsafe() {
        for bad in [
            "../x",
            "a/../../x",
            "/etc/passwd",
            "C:/x",
            "a\\..\\x",
            "",
            "a/\0",
        ] {
            assert!(!is_safe(bad), "{bad:?}");
        }
        for good in ["APP-META.xml", "schemas/a.schema", "ui/x..y.js", "bin/app"] {
            assert!(is_safe(good), "{good:?}");
        }
    }
}
