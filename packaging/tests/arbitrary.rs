//! Property tests: the package reader and verifier take arbitrary bytes, and arbitrary zips
//! (any entry names, any contents, APP-META.xml and schemas that are almost right), without
//! panicking.

#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

use std::io::Write;

use proptest::prelude::*;

/// A zip of the given entries (name, contents).
fn zip_of(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut cursor = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut cursor);
        let options = zip::write::SimpleFileOptions::default();
        for (name, contents) in entries {
            // A name the writer refuses (e.g. a duplicate) is simply left out.
            if zip.start_file(name.as_str(), options).is_ok() {
                zip.write_all(contents).unwrap();
            }
        }
        zip.finish().unwrap();
    }
    cursor.into_inner()
}

const META: &str = r#"<application version="2.0" xmlns="http://aps-standard.org/ns/2">
<id>http://example.com/p</id><name>p</name><version>1.0</version><release>1</release>
<service id="app"><schema path="schemas/app.schema"/></service></application>"#;
const SCHEMA: &str = r#"{"apsVersion":"2.0","id":"http://example.com/p/app/1.0","name":"app",
"implements":["http://aps-standard.org/types/core/application/1.0"],"properties":{}}"#;

/// Entry names a package has, names that try to escape it, and random ones.
fn entry_name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("APP-META.xml".to_owned()),
        Just("APP-LIST.xml".to_owned()),
        Just("schemas/app.schema".to_owned()),
        Just("schemas/app.schema.gen".to_owned()),
        Just("../escape".to_owned()),
        Just("/absolute".to_owned()),
        Just("schemas/".to_owned()),
        "[a-zA-Z0-9/._-]{1,24}",
    ]
}

/// Contents: the right files, cut or spoiled, or random bytes.
fn contents() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        (0..META.len()).prop_map(|n| META.as_bytes()[..n].to_vec()),
        (0..SCHEMA.len()).prop_map(|n| SCHEMA.as_bytes()[..n].to_vec()),
        Just(META.as_bytes().to_vec()),
        Just(SCHEMA.as_bytes().to_vec()),
        Just(br#"<files xmlns="http://apstandard.com/ns/1"><file name="APP-META.xml" size="1" sha256="00"/></files>"#.to_vec()),
        prop::collection::vec(any::<u8>(), 0..256),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_bytes_are_read_and_verified_without_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        let _ = aps_package::Package::read(&bytes);
        let _ = aps_package::verify(&bytes);
    }

    #[test]
    fn any_zip_is_read_and_verified_without_panic(
        entries in prop::collection::vec((entry_name(), contents()), 0..8)
    ) {
        let bytes = zip_of(&entries);
        let read = aps_package::Package::read(&bytes);
        let _ = aps_package::verify(&bytes);
        // Read from a reader (a file, in the controller), the answer is the same.
        let from = aps_package::Package::read_from(std::io::Cursor::new(&bytes));
        prop_assert_eq!(
            read.map_err(|e| e.to_string()),
            from.map_err(|e| e.to_string())
        );
    }

    #[test]
    fn a_zip_cut_or_flipped_anywhere_is_refused_without_panic(cut in any::<prop::sample::Index>(), flip in any::<prop::sample::Index>(), bit in 0u8..8) {
        let mut bytes = zip_of(&[
            ("APP-META.xml".into(), META.as_bytes().to_vec()),
            ("schemas/app.schema".into(), SCHEMA.as_bytes().to_vec()),
        ]);
        let at = flip.index(bytes.len());
        bytes[at] ^= 1 << bit;
        let _ = aps_package::Package::read(&bytes);
        let _ = aps_package::verify(&bytes);
        bytes.truncate(cut.index(bytes.len()));
        let _ = aps_package::Package::read(&bytes);
        let _ = aps_package::verify(&bytes);
    }
}
