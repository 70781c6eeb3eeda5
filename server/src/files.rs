//! Files a server keeps for itself (keys, certificates, secrets), written whole or not at all.
//!
//! Each file is written to a temporary file beside its place, synced, and only then renamed
//! into place, so a crash leaves the old file or the new one, never half of one. Keys and
//! secrets are readable by their owner only (0600), certificates by everyone (0644); a missing
//! folder is made readable by its owner only (0700).
//!
//! A key and its certificate are two files, and no rename moves both at once: [`write_pair`]
//! orders its steps so that a crash never leaves a certificate beside a key it does not belong
//! to. Readers take a missing certificate as "no pair" and make one again.

use std::io::Write;
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use crate::TlsError;

/// Who may read a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Readers {
    /// Only the user the server runs as (0600): keys, secrets, credentials.
    Owner,
    /// Everyone (0644): certificates.
    Everyone,
}

/// A file written and synced beside its place, not yet in it; dropped, it is removed.
#[derive(Debug)]
pub struct Staged {
    file: NamedTempFile,
    path: PathBuf,
}

/// Writes `contents` beside `path`, ready to be moved in whole with [`Staged::replace`] or
/// [`Staged::keep_first`]. Staging first lets a caller finish other work (that may fail) before
/// the file appears.
pub fn stage(path: &Path, contents: &[u8], readers: Readers) -> Result<Staged, TlsError> {
    let dir = path
        .parent()
        .filter(|dir| !dir.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut folder = std::fs::DirBuilder::new();
    folder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut folder, 0o700);
    folder.create(dir).map_err(|e| TlsError::file(dir, e))?;
    // Made readable by its owner only; certificates are opened up to everyone.
    let mut file = NamedTempFile::new_in(dir).map_err(|e| TlsError::file(dir, e))?;
    #[cfg(unix)]
    if readers == Readers::Everyone {
        use std::os::unix::fs::PermissionsExt;
        file.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))
            .map_err(|e| TlsError::file(path, e))?;
    }
    file.write_all(contents)
        .map_err(|e| TlsError::file(path, e))?;
    file.as_file()
        .sync_all()
        .map_err(|e| TlsError::file(path, e))?;
    Ok(Staged {
        file,
        path: path.to_owned(),
    })
}

impl Staged {
    /// Moves the file into its place, replacing what was there.
    pub fn replace(self) -> Result<(), TlsError> {
        let Self { file, path } = self;
        file.persist(&path)
            .map_err(|e| TlsError::file(&path, e.error))?;
        Ok(())
    }

    /// Moves the file into its place unless a file is already there, which then stays (and this
    /// one is removed): of two racing writers, both end up with the first one's file.
    pub fn keep_first(self) -> Result<(), TlsError> {
        let Self { file, path } = self;
        match file.persist_noclobber(&path) {
            Ok(_) => Ok(()),
            Err(_) if path.exists() => Ok(()),
            Err(e) => Err(TlsError::file(&path, e.error)),
        }
    }
}

/// Writes `path` whole, replacing what was there.
pub fn write(path: &Path, contents: &[u8], readers: Readers) -> Result<(), TlsError> {
    stage(path, contents, readers)?.replace()
}

/// Writes a private key (readable by its owner only) and its certificate, as PEM, replacing the
/// pair that was there. A crash leaves the old pair, the new one, or a key without a
/// certificate; never a certificate beside a key it does not belong to.
pub fn write_pair(
    key_path: &Path,
    key: &rcgen::KeyPair,
    cert_path: &Path,
    cert: &rcgen::Certificate,
) -> Result<(), TlsError> {
    let key_file = stage(key_path, key.serialize_pem().as_bytes(), Readers::Owner)?;
    let cert_file = stage(cert_path, cert.pem().as_bytes(), Readers::Everyone)?;
    // The old certificate leaves before the new key comes and the new certificate comes last:
    // in between, the missing certificate says the pair is not whole.
    match std::fs::remove_file(cert_path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(TlsError::file(cert_path, e));
        }
        _ => {}
    }
    key_file.replace()?;
    cert_file.replace()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[cfg(unix)]
    fn mode(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn a_written_file_replaces_the_old_one_whole_in_a_private_folder() {
        let root = tempfile::tempdir().unwrap();
        let path = root.path().join("new/secret");
        write(&path, b"one", Readers::Owner).unwrap();
        write(&path, b"two", Readers::Owner).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        assert_eq!(names(&root.path().join("new")), ["secret"]);
        #[cfg(unix)]
        {
            assert_eq!(mode(&path), 0o600);
            assert_eq!(mode(&root.path().join("new")), 0o700);
        }
    }

    #[test]
    fn a_staged_file_appears_only_when_moved_in_and_is_gone_when_dropped() {
        let root = tempfile::tempdir().unwrap();
        let path = root.path().join("cert.pem");
        let staged = stage(&path, b"cert", Readers::Everyone).unwrap();
        assert!(!path.exists());
        staged.replace().unwrap();
        #[cfg(unix)]
        assert_eq!(mode(&path), 0o644);
        drop(stage(&path, b"other", Readers::Everyone).unwrap());
        assert_eq!(std::fs::read(&path).unwrap(), b"cert");
        assert_eq!(names(root.path()), ["cert.pem"]);
    }

    #[test]
    fn of_two_writers_keeping_the_first_both_get_the_first_file() {
        let root = tempfile::tempdir().unwrap();
        let path = root.path().join("instance.pem");
        let first = stage(&path, b"first", Readers::Owner).unwrap();
        let second = stage(&path, b"second", Readers::Owner).unwrap();
        first.keep_first().unwrap();
        second.keep_first().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"first");
        assert_eq!(names(root.path()), ["instance.pem"]);
    }

    #[test]
    fn a_pair_replaces_the_old_pair() {
        let root = tempfile::tempdir().unwrap();
        let (key, cert) = (root.path().join("tls/a.key"), root.path().join("tls/a.crt"));
        for _ in 0..2 {
            let made = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
            write_pair(&key, &made.signing_key, &cert, &made.cert).unwrap();
            let key_pem = made.signing_key.serialize_pem();
            assert_eq!(std::fs::read_to_string(&key).unwrap(), key_pem);
            assert_eq!(std::fs::read_to_string(&cert).unwrap(), made.cert.pem());
        }
        assert_eq!(names(&root.path().join("tls")), ["a.crt", "a.key"]);
        #[cfg(unix)]
        {
            assert_eq!(mode(&key), 0o600);
            assert_eq!(mode(&cert), 0o644);
        }
    }
}
