//! `APP-META.xml`: the application's identity and its services.
//!
//! [`AppMeta::to_xml`] writes what the framework generates; [`AppMeta::parse`] reads both that
//! and what the official APS build tool writes (namespace prefixes, whitespace around values,
//! elements this crate does not model).

use quick_xml::events::{BytesDecl, BytesStart, BytesText, Event};
use quick_xml::{Reader, Writer};

/// The APS 2 namespace of `APP-META.xml`.
pub const NAMESPACE: &str = "http://aps-standard.org/ns/2";

/// The contents of `APP-META.xml` that tools act on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppMeta {
    /// The application id (a URI).
    pub id: String,
    /// The application name, e.g. `async-provisioning`.
    pub name: String,
    /// The version, e.g. `0.1`.
    pub version: String,
    /// The release within the version, e.g. `1`.
    pub release: String,
    /// The vendor's name.
    pub vendor: Option<String>,
    /// The packager's name.
    pub packager: Option<String>,
    /// One-line summary.
    pub summary: Option<String>,
    /// Longer description.
    pub description: Option<String>,
    /// The services, one per resource type, in document order.
    pub services: Vec<ServiceMeta>,
}

/// One `<service>` of `APP-META.xml`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceMeta {
    /// The service id, e.g. `provisionable` (trimmed).
    pub id: String,
    /// Path of the type schema inside the package, e.g. `schemas/provisionable.schema`.
    pub schema: Option<String>,
    /// The `<code>` element: the backend that implements the service, when named.
    pub code: Option<Code>,
}

/// The `<code engine="…" path="…"/>` element of a service.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Code {
    /// The engine, e.g. `php` in source packages or `rust` for this framework.
    pub engine: String,
    /// Path of the code inside the package.
    pub path: String,
}

/// Why an `APP-META.xml` could not be read.
#[derive(Debug, thiserror::Error)]
pub enum MetaError {
    /// The document is not well-formed XML.
    #[error("APP-META.xml is not well-formed XML: {0}")]
    Xml(#[from] quick_xml::Error),
    /// An attribute could not be read.
    #[error("APP-META.xml has a malformed attribute: {0}")]
    Attribute(#[from] quick_xml::events::attributes::AttrError),
    /// The root element is not `<application>`.
    #[error("APP-META.xml must have <application> as its root element")]
    NotAnApplication,
    /// A required element is missing or empty.
    #[error("APP-META.xml has no <{0}>")]
    Missing(&'static str),
}

impl AppMeta {
    /// Reads `APP-META.xml`.
    pub fn parse(xml: &str) -> Result<Self, MetaError> {
        let mut reader = Reader::from_str(xml);
        let mut meta = AppMeta::default();
        let mut path: Vec<String> = Vec::new();
        let mut text = String::new();
        loop {
            match reader.read_event()? {
                Event::Start(e) => {
                    enter(&mut meta, &path, &e)?;
                    path.push(local(&e));
                    text.clear();
                }
                Event::Empty(e) => enter(&mut meta, &path, &e)?,
                Event::Text(t) => text.push_str(&t.unescape()?),
                Event::CData(t) => text.push_str(&String::from_utf8_lossy(&t)),
                Event::End(_) => {
                    leave(&mut meta, &path, text.trim());
                    path.pop();
                    text.clear();
                }
                Event::Eof => break,
                _ => {}
            }
        }
        for (value, name) in [
            (&meta.id, "id"),
            (&meta.name, "name"),
            (&meta.version, "version"),
            (&meta.release, "release"),
        ] {
            if value.is_empty() {
                return Err(MetaError::Missing(name));
            }
        }
        Ok(meta)
    }

    /// Writes `APP-META.xml`.
    pub fn to_xml(&self) -> String {
        let mut writer = Writer::new_with_indent(Vec::new(), b' ', 2);
        self.write(&mut writer)
            .unwrap_or_else(|_| unreachable!("writing into memory does not fail"));
        let mut xml = writer.into_inner();
        xml.push(b'\n');
        String::from_utf8(xml).unwrap_or_else(|_| unreachable!("every part written is UTF-8"))
    }

    fn write(&self, w: &mut Writer<Vec<u8>>) -> std::io::Result<()> {
        w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
        w.create_element("application")
            .with_attributes([("version", "2.0"), ("xmlns", NAMESPACE)])
            .write_inner_content(|w| {
                for (tag, value) in [
                    ("id", &self.id),
                    ("name", &self.name),
                    ("version", &self.version),
                    ("release", &self.release),
                ] {
                    text(w, tag, value)?;
                }
                for (tag, value) in [("vendor", &self.vendor), ("packager", &self.packager)] {
                    if let Some(value) = value {
                        w.create_element(tag)
                            .write_inner_content(|w| text(w, "name", value))?;
                    }
                }
                w.create_element("presentation").write_inner_content(|w| {
                    text(w, "summary", self.summary.as_deref().unwrap_or(&self.name))?;
                    if let Some(description) = &self.description {
                        text(w, "description", description)?;
                    }
                    Ok(())
                })?;
                for service in &self.services {
                    service.write(w)?;
                }
                Ok(())
            })?;
        Ok(())
    }

    /// The service with this id.
    pub fn service(&self, id: &str) -> Option<&ServiceMeta> {
        self.services.iter().find(|s| s.id == id)
    }
}

impl ServiceMeta {
    fn write(&self, w: &mut Writer<Vec<u8>>) -> std::io::Result<()> {
        w.create_element("service")
            .with_attribute(("id", self.id.as_str()))
            .write_inner_content(|w| {
                if let Some(schema) = &self.schema {
                    w.create_element("schema")
                        .with_attribute(("path", schema.as_str()))
                        .write_empty()?;
                }
                if let Some(code) = &self.code {
                    w.create_element("code")
                        .with_attributes([("engine", &*code.engine), ("path", &*code.path)])
                        .write_empty()?;
                }
                Ok(())
            })?;
        Ok(())
    }
}

/// Writes `<tag>value</tag>`.
fn text(w: &mut Writer<Vec<u8>>, tag: &str, value: &str) -> std::io::Result<()> {
    w.create_element(tag)
        .write_text_content(BytesText::new(value))?;
    Ok(())
}

fn local(e: &BytesStart<'_>) -> String {
    String::from_utf8_lossy(e.local_name().as_ref()).into_owned()
}

fn attribute(e: &BytesStart<'_>, name: &str) -> Result<Option<String>, MetaError> {
    for attr in e.attributes() {
        let attr = attr?;
        if attr.key.local_name().as_ref() == name.as_bytes() {
            return Ok(Some(attr.unescape_value()?.trim().to_owned()));
        }
    }
    Ok(None)
}

/// Handles an opening (or empty) element whose parents are `path`.
fn enter(meta: &mut AppMeta, path: &[String], e: &BytesStart<'_>) -> Result<(), MetaError> {
    let name = local(e);
    let parents: Vec<&str> = path.iter().map(String::as_str).collect();
    match (parents.as_slice(), name.as_str()) {
        ([], "application") => {}
        ([], _) => return Err(MetaError::NotAnApplication),
        (["application"], "service") => meta.services.push(ServiceMeta {
            id: attribute(e, "id")?.unwrap_or_default(),
            ..ServiceMeta::default()
        }),
        (["application", "service"], "schema") => {
            if let Some(service) = meta.services.last_mut() {
                service.schema = attribute(e, "path")?;
            }
        }
        (["application", "service"], "code") => {
            if let Some(service) = meta.services.last_mut() {
                service.code = Some(Code {
                    engine: attribute(e, "engine")?.unwrap_or_default(),
                    path: attribute(e, "path")?.unwrap_or_default(),
                });
            }
        }
        _ => {}
    }
    Ok(())
}

/// Handles the text of the element that closes at the end of `path`.
fn leave(meta: &mut AppMeta, path: &[String], text: &str) {
    let path: Vec<&str> = path.iter().map(String::as_str).collect();
    let slot = match path.as_slice() {
        ["application", "id"] => &mut meta.id,
        ["application", "name"] => &mut meta.name,
        ["application", "version"] => &mut meta.version,
        ["application", "release"] => &mut meta.release,
        ["application", "vendor", "name"] => meta.vendor.get_or_insert_default(),
        ["application", "packager", "name"] => meta.packager.get_or_insert_default(),
        ["application", "presentation", "summary"] => meta.summary.get_or_insert_default(),
        ["application", "presentation", "description"] => meta.description.get_or_insert_default(),
        _ => return,
    };
    *slot = text.to_owned();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> AppMeta {
        AppMeta {
            id: "http://example.com/async-prov".into(),
            name: "async-provisioning".into(),
            version: "0.1".into(),
            release: "1".into(),
            vendor: Some("Example & Co".into()),
            packager: None,
            summary: Some("A <demo>".into()),
            description: None,
            services: vec![ServiceMeta {
                id: "globals".into(),
                schema: Some("schemas/globals.schema".into()),
                code: Some(Code {
                    engine: "rust".into(),
                    path: "bin/async-provisioning".into(),
                }),
            }],
        }
    }

    #[test]
    fn written_meta_reads_back() {
        let meta = sample();
        assert_eq!(AppMeta::parse(&meta.to_xml()).unwrap(), meta);
        let bare = AppMeta {
            vendor: None,
            summary: None,
            description: Some("Line one\nand \"two\"".into()),
            services: vec![ServiceMeta {
                id: "a<b".into(),
                ..ServiceMeta::default()
            }],
            ..sample()
        };
        assert_eq!(
            AppMeta::parse(&bare.to_xml()).unwrap(),
            AppMeta {
                summary: Some(bare.name.clone()),
                ..bare
            },
            "the summary defaults to the name"
        );
    }

    #[test]
    fn prefixed_namespaces_and_stray_spaces_are_read() {
        let xml = r#"<a:application xmlns:a="http://aps-standard.org/ns/2" version="2.0">
            <a:id> http://x/app </a:id><a:name>App</a:name><a:version>1.0</a:version>
            <a:release>3</a:release>
            <a:service id="tier "><a:schema path=" schemas/tier.schema"/>
              <a:presentation><a:name>ignored</a:name></a:presentation></a:service>
        </a:application>"#;
        let meta = AppMeta::parse(xml).unwrap();
        assert_eq!(meta.id, "http://x/app");
        assert_eq!(meta.name, "App");
        assert_eq!(meta.services[0].id, "tier");
        assert_eq!(
            meta.services[0].schema.as_deref(),
            Some("schemas/tier.schema")
        );
    }

    #[test]
    fn missing_elements_and_broken_xml_are_errors() {
        assert!(matches!(
            AppMeta::parse("<application><id>x</id></application>"),
            Err(MetaError::Missing("name"))
        ));
        assert!(AppMeta::parse("<application><id>x</application>").is_err());
        assert!(matches!(
            AppMeta::parse("<files/>"),
            Err(MetaError::NotAnApplication)
        ));
    }
}
