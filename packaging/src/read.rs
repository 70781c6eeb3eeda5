//! Reading a built package: its `APP-META.xml`, the schema of every service, and the root.

use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom};

use aps_protocol::{AppMeta, ServiceMeta, TypeSchema};

use crate::archive::Archive;
use crate::{PackageError, list};

/// The path of the application metadata inside a package.
pub(crate) const META: &str = "APP-META.xml";

/// A package as a controller imports it.
#[derive(Debug, Clone, PartialEq)]
pub struct Package {
    /// `APP-META.xml`.
    pub meta: AppMeta,
    /// The type schema of every service, by service id.
    pub schemas: BTreeMap<String, TypeSchema>,
    root: String,
}

impl Package {
    /// Reads an `.app.zip` and checks what an import relies on, stopping at the first problem:
    /// a zip of at most [`MAX_UNPACKED`](crate::MAX_UNPACKED) bytes unpacked, no entry that
    /// escapes the package or is a link, a valid `APP-META.xml`, a valid schema for every
    /// service (generated `*.schema.gen` files with `//` comment lines included), and one service
    /// implementing the application type. When `APP-LIST.xml` is present every size and digest
    /// in it must match; a package without it is accepted here (use [`verify`](crate::verify)
    /// to require it).
    ///
    /// Never panics, whatever the bytes.
    pub fn read(bytes: &[u8]) -> Result<Self, PackageError> {
        Self::check(Archive::open(bytes)?)
    }

    /// Like [`read`](Self::read), from a file (or any reader that can seek) instead of memory:
    /// only the zip's directory and the entries an import reads are read, so a large package
    /// costs no more memory than a small one.
    pub fn read_from(mut reader: impl Read + Seek) -> Result<Self, PackageError> {
        let size = reader
            .seek(SeekFrom::End(0))
            .and_then(|size| reader.rewind().map(|()| size))
            .map_err(|e| PackageError::NotAZip(e.to_string()))?;
        Self::check(Archive::from_reader(reader, size)?)
    }

    fn check<R: Read + Seek>(mut archive: Archive<R>) -> Result<Self, PackageError> {
        if let Some(problem) = archive.take_refused().into_iter().next() {
            return Err(problem);
        }
        let meta = read_meta(&mut archive)?;
        let (schemas, problems) = read_schemas(&mut archive, &meta);
        if let Some(problem) = problems.into_iter().next() {
            return Err(problem);
        }
        let root = root(&meta, &schemas)?;
        if archive.contains(list::PATH) {
            if let Some(problem) = list::problems(&mut archive).into_iter().next() {
                return Err(problem);
            }
        }
        Ok(Self {
            meta,
            schemas,
            root,
        })
    }

    /// The id of the root service: the one whose schema implements
    /// `http://aps-standard.org/types/core/application/1.0` (the first, if several do).
    pub fn root(&self) -> &str {
        &self.root
    }

    /// The schema of a service.
    pub fn schema(&self, service: &str) -> Option<&TypeSchema> {
        self.schemas.get(service)
    }
}

/// Reads and parses `APP-META.xml`.
pub(crate) fn read_meta<R: Read + Seek>(archive: &mut Archive<R>) -> Result<AppMeta, PackageError> {
    Ok(AppMeta::parse(&archive.read_text(META)?)?)
}

/// The schemas of every service that has a valid one, and a problem for each that has not.
pub(crate) fn read_schemas<R: Read + Seek>(
    archive: &mut Archive<R>,
    meta: &AppMeta,
) -> (BTreeMap<String, TypeSchema>, Vec<PackageError>) {
    let mut schemas = BTreeMap::new();
    let mut problems = Vec::new();
    for service in &meta.services {
        match read_schema(archive, service) {
            Ok(schema) => {
                schemas.insert(service.id.clone(), schema);
            }
            Err(problem) => problems.push(problem),
        }
    }
    (schemas, problems)
}

fn read_schema<R: Read + Seek>(
    archive: &mut Archive<R>,
    service: &ServiceMeta,
) -> Result<TypeSchema, PackageError> {
    let Some(path) = service.schema.as_deref().filter(|p| !p.is_empty()) else {
        return Err(PackageError::NoSchema {
            service: service.id.clone(),
            code: service
                .code
                .as_ref()
                .map(|c| format!(" (it names {} code at `{}`)", c.engine, c.path))
                .unwrap_or_default(),
        });
    };
    let text = archive.read_text(path)?;
    TypeSchema::parse(&text).map_err(|source| PackageError::Schema {
        service: service.id.clone(),
        path: path.to_owned(),
        source,
    })
}

/// The root service: the first, in `APP-META.xml` order, whose schema is an application.
pub(crate) fn root(
    meta: &AppMeta,
    schemas: &BTreeMap<String, TypeSchema>,
) -> Result<String, PackageError> {
    meta.services
        .iter()
        .find(|s| schemas.get(&s.id).is_some_and(TypeSchema::is_application))
        .map(|s| s.id.clone())
        .ok_or(PackageError::NoApplication)
}
