//! `APP-LIST.xml`: the size and SHA-256 of every file of a package except itself.
//!
//! Read namespace-aware (the official build tool may bind the namespace to a prefix) and written
//! in the exact shape that tool produces.

use std::io::{Read, Seek};

use quick_xml::events::{BytesDecl, BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::{NsReader, Writer};
use sha2::{Digest, Sha256};

use crate::PackageError;
use crate::archive::Archive;

/// The path of the list inside a package.
pub(crate) const PATH: &str = "APP-LIST.xml";
/// Its namespace.
const NAMESPACE: &str = "http://apstandard.com/ns/1";

/// One `<file>` of the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Listed {
    pub(crate) name: String,
    pub(crate) size: u64,
    /// Lowercase hex.
    pub(crate) sha256: String,
}

impl Listed {
    /// The entry for a file with these contents.
    pub(crate) fn of(name: &str, bytes: &[u8]) -> Self {
        Self {
            name: name.to_owned(),
            size: bytes.len() as u64,
            sha256: hex::encode(Sha256::digest(bytes)),
        }
    }
}

/// Reads the list: the root must be `files` and every `file` must carry a name, a size and a
/// 64-digit hex digest, all in the list's namespace; other elements are ignored.
pub(crate) fn parse(xml: &str) -> Result<Vec<Listed>, PackageError> {
    let error = |message: String| PackageError::List(message);
    let mut reader = NsReader::from_str(xml);
    let mut depth = 0usize;
    let mut files = Vec::new();
    loop {
        let (ns, event) = reader
            .read_resolved_event()
            .map_err(|e| error(format!("not well-formed XML: {e}")))?;
        let ours = matches!(ns, ResolveResult::Bound(n) if n.as_ref() == NAMESPACE.as_bytes());
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                if depth == 0 && !(ours && e.local_name().as_ref() == b"files") {
                    return Err(error(format!(
                        "the root element must be <files xmlns=\"{NAMESPACE}\">"
                    )));
                }
                if depth == 1 && ours && e.local_name().as_ref() == b"file" {
                    files.push(listed(e).map_err(error)?);
                }
                depth += usize::from(matches!(event, Event::Start(_)));
            }
            Event::End(_) => depth = depth.saturating_sub(1),
            Event::Eof => break,
            _ => {}
        }
    }
    if depth != 0 {
        return Err(error("not well-formed XML: unclosed element".into()));
    }
    Ok(files)
}

/// The `name`, `size` and `sha256` of a `<file>`, trimmed.
fn listed(e: &BytesStart<'_>) -> Result<Listed, String> {
    let mut name = None;
    let mut size = None;
    let mut sha256 = None;
    for attr in e.attributes() {
        let attr = attr.map_err(|err| format!("malformed attribute: {err}"))?;
        let value = attr
            .unescape_value()
            .map_err(|err| format!("malformed attribute: {err}"))?
            .trim()
            .to_owned();
        match attr.key.local_name().as_ref() {
            b"name" => name = Some(value),
            b"size" => size = Some(value),
            b"sha256" => sha256 = Some(value.to_ascii_lowercase()),
            _ => {}
        }
    }
    let name = name.ok_or("a <file> has no name")?;
    let size = size
        .ok_or_else(|| format!("<file name=\"{name}\"> has no size"))?
        .parse()
        .map_err(|_| format!("<file name=\"{name}\"> has a size that is not a number"))?;
    let sha256 = sha256.ok_or_else(|| format!("<file name=\"{name}\"> has no sha256"))?;
    if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!(
            "<file name=\"{name}\"> has a sha256 that is not 64 hex digits"
        ));
    }
    Ok(Listed { name, size, sha256 })
}

/// Writes the list as the official build tool does, one line per file, in the given order.
pub(crate) fn write(files: &[Listed]) -> String {
    let mut writer = Writer::new_with_indent(Vec::new(), b' ', 4);
    write_into(&mut writer, files)
        .unwrap_or_else(|_| unreachable!("writing into memory does not fail"));
    let mut xml = writer.into_inner();
    xml.push(b'\n');
    String::from_utf8(xml).unwrap_or_else(|_| unreachable!("every part written is UTF-8"))
}

fn write_into(w: &mut Writer<Vec<u8>>, files: &[Listed]) -> std::io::Result<()> {
    w.write_event(Event::Decl(BytesDecl::new(
        "1.0",
        Some("UTF-8"),
        Some("yes"),
    )))?;
    w.create_element("files")
        .with_attribute(("xmlns", NAMESPACE))
        .write_inner_content(|w| {
            for file in files {
                w.create_element("file")
                    .with_attributes([
                        ("name", file.name.as_str()),
                        ("size", &file.size.to_string()),
                        ("sha256", &file.sha256),
                    ])
                    .write_empty()?;
            }
            Ok(())
        })?;
    Ok(())
}

/// Everything wrong between the archive and its list: files missing, unlisted, listed twice, of
/// another size or digest. A missing or unreadable list is one problem.
pub(crate) fn problems<R: Read + Seek>(archive: &mut Archive<R>) -> Vec<PackageError> {
    let listed = match archive.read_text(PATH).and_then(|xml| parse(&xml)) {
        Ok(listed) => listed,
        Err(e) => return vec![e],
    };
    let mut problems = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for entry in listed {
        if !seen.insert(entry.name.clone()) {
            problems.push(PackageError::List(format!(
                "`{}` is listed twice",
                entry.name
            )));
            continue;
        }
        let actual = match archive.read(&entry.name) {
            Ok(bytes) => Listed::of(&entry.name, &bytes),
            Err(e) => {
                problems.push(e);
                continue;
            }
        };
        if actual.size != entry.size {
            problems.push(PackageError::SizeMismatch {
                path: entry.name,
                actual: actual.size,
                listed: entry.size,
            });
        } else if actual.sha256 != entry.sha256 {
            problems.push(PackageError::HashMismatch {
                path: entry.name,
                actual: actual.sha256,
                listed: entry.sha256,
            });
        }
    }
    for path in archive.paths() {
        if path != PATH && !seen.contains(&path) {
            problems.push(PackageError::Unlisted(path));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_list_reads_back() {
        let files = vec![Listed::of("APP-META.xml", b"<x/>"), Listed::of("a&b", b"")];
        assert_eq!(parse(&write(&files)).unwrap(), files);
    }

    #[test]
    fn prefixed_namespace_and_stray_spaces_are_read() {
        let xml = r#"<ns2:files xmlns:ns2="http://apstandard.com/ns/1">
            <ns2:file name=" a.txt " size=" 3" sha256="BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"/>
            <Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><file name="x"/></Signature>
        </ns2:files>"#;
        let files = parse(xml).unwrap();
        assert_eq!(files, vec![Listed::of("a.txt", b"abc")]);
    }

    #[test]
    fn wrong_root_bad_attributes_and_broken_xml_are_errors() {
        for xml in [
            "<files/>",
            r#"<files xmlns="http://apstandard.com/ns/1"><file name="a" size="x" sha256="00"/></files>"#,
            r#"<files xmlns="http://apstandard.com/ns/1"><file size="1"/></files>"#,
            r#"<files xmlns="http://apstandard.com/ns/1"><file name="a" size="1" sha256="zz"/></files>"#,
            r#"<files xmlns="http://apstandard.com/ns/1">"#,
            "not xml <",
        ] {
            assert!(parse(xml).is_err(), "{xml}");
        }
    }
}
