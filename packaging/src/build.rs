//! Building an `.app.zip` from an application binary, reproducibly.

use std::collections::BTreeMap;
use std::fs;
use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use aps_protocol::AppMeta;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

use crate::archive::is_safe;
use crate::list::{self, Listed};
use crate::read::META;
use crate::{BuildError, PackageError, deploy, verify};

/// Permissions of the application binary in the package.
const EXECUTABLE: u32 = 0o755;
/// Permissions of every other file.
const REGULAR: u32 = 0o644;

/// Builds `{name}-{version}-{release}.app.zip` into `out_dir` (created if needed) and returns
/// its path.
///
/// The metadata comes from the application itself: `<app_binary> meta --out DIR` writes
/// `APP-META.xml` and `schemas/`, so the package always matches the code. Everything that
/// command writes goes into the package, with the binary (at the path APP-META's `<code>` names,
/// else `bin/<file name>`), a systemd unit template and the default settings under `deploy/`,
/// and `APP-LIST.xml`. `name` is APP-META's `<name>` with every character other than ASCII
/// letters, digits, `.` and `_` replaced by `_` (`async-provisioning` → `async_provisioning`).
///
/// The result is reproducible: entries sorted, timestamps fixed at 1980-01-01, permissions fixed
/// (0755 for the binary, 0644 otherwise), no directory entries. The finished archive is checked
/// with [`verify`] before it is written.
pub fn build(app_binary: &Path, out_dir: &Path) -> Result<PathBuf, BuildError> {
    let generated =
        tempfile::tempdir().map_err(BuildError::io("cannot create", &std::env::temp_dir()))?;
    run_meta(app_binary, generated.path())?;
    let mut files = BTreeMap::new();
    collect(generated.path(), generated.path(), &mut files)?;
    let invalid = |source| BuildError::Invalid {
        app: app_binary.to_path_buf(),
        source,
    };
    let meta_xml = files
        .get(META)
        .ok_or_else(|| invalid(PackageError::Missing(META.into())))?;
    let meta = AppMeta::parse(&String::from_utf8_lossy(meta_xml)).map_err(|e| invalid(e.into()))?;

    let binary = binary_path(&meta, app_binary);
    let program = fs::read(app_binary).map_err(BuildError::io("cannot read", app_binary))?;
    files.insert(binary.clone(), program);
    for (path, text) in deploy::files(&meta, &binary) {
        files.insert(path.to_owned(), text.into_bytes());
    }
    let listed: Vec<Listed> = files
        .iter()
        .map(|(path, bytes)| Listed::of(path, bytes))
        .collect();
    files.insert(list::PATH.to_owned(), list::write(&listed).into_bytes());

    let zip = write_zip(&files, &binary)?;
    if let Some(problem) = verify(&zip).into_iter().next() {
        return Err(invalid(problem));
    }
    fs::create_dir_all(out_dir).map_err(BuildError::io("cannot create", out_dir))?;
    let target = out_dir.join(file_name(&meta));
    let mut partial = tempfile::NamedTempFile::new_in(out_dir)
        .map_err(BuildError::io("cannot write into", out_dir))?;
    partial
        .write_all(&zip)
        .map_err(BuildError::io("cannot write", partial.path()))?;
    readable(partial.as_file()).map_err(BuildError::io("cannot write", partial.path()))?;
    partial
        .persist(&target)
        .map_err(|e| BuildError::io("cannot write", &target)(e.error))?;
    Ok(target)
}

/// Makes the package readable by everyone, like any file written with the usual umask.
fn readable(file: &fs::File) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(fs::Permissions::from_mode(REGULAR))?;
    }
    #[cfg(not(unix))]
    let _ = file;
    Ok(())
}

/// Runs `<app> meta --out dir`.
fn run_meta(app: &Path, dir: &Path) -> Result<(), BuildError> {
    let output = Command::new(app)
        .arg("meta")
        .arg("--out")
        .arg(dir)
        .stdin(Stdio::null())
        .output()
        .map_err(BuildError::io("cannot run", app))?;
    if output.status.success() {
        return Ok(());
    }
    Err(BuildError::MetaCommand {
        app: app.to_path_buf(),
        status: output.status.to_string(),
        stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
    })
}

/// Reads every regular file under `dir` into `files`, keyed by its `/`-separated path below `base`.
fn collect(
    base: &Path,
    dir: &Path,
    files: &mut BTreeMap<String, Vec<u8>>,
) -> Result<(), BuildError> {
    let entries = fs::read_dir(dir).map_err(BuildError::io("cannot list", dir))?;
    for entry in entries {
        let path = entry.map_err(BuildError::io("cannot list", dir))?.path();
        let kind = fs::symlink_metadata(&path)
            .map_err(BuildError::io("cannot read", &path))?
            .file_type();
        if kind.is_dir() {
            collect(base, &path, files)?;
            continue;
        }
        let relative = path
            .strip_prefix(base)
            .ok()
            .and_then(|p| p.to_str())
            .map(|p| p.replace(std::path::MAIN_SEPARATOR, "/"))
            .filter(|p| kind.is_file() && is_safe(p));
        let Some(relative) = relative else {
            let refused =
                std::io::Error::other("only regular files with UTF-8 names can be packaged");
            return Err(BuildError::io("cannot package", &path)(refused));
        };
        let bytes = fs::read(&path).map_err(BuildError::io("cannot read", &path))?;
        files.insert(relative, bytes);
    }
    Ok(())
}

/// Where the binary goes: the path that APP-META's `<code>` names, else `bin/<file name>`.
fn binary_path(meta: &AppMeta, app: &Path) -> String {
    meta.services
        .iter()
        .filter_map(|s| s.code.as_ref())
        .map(|c| c.path.clone())
        .find(|p| is_safe(p) && p != META && p != list::PATH && !p.starts_with("schemas/"))
        .unwrap_or_else(|| {
            let name = app.file_name().map(|n| n.to_string_lossy().into_owned());
            format!("bin/{}", name.unwrap_or_else(|| "endpoint".into()))
        })
}

/// `{name}-{version}-{release}.app.zip`, each part restricted to ASCII letters, digits, `.`, `_`.
fn file_name(meta: &AppMeta) -> String {
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    };
    format!(
        "{}-{}-{}.app.zip",
        clean(&meta.name),
        clean(&meta.version),
        clean(&meta.release)
    )
}

/// The archive: entries in sorted order, fixed time and permissions, no directories.
fn write_zip(files: &BTreeMap<String, Vec<u8>>, binary: &str) -> Result<Vec<u8>, BuildError> {
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    for (path, bytes) in files {
        let mode = if path == binary { EXECUTABLE } else { REGULAR };
        let options = SimpleFileOptions::default()
            .compression_method(CompressionMethod::Deflated)
            .last_modified_time(DateTime::default())
            .unix_permissions(mode)
            .large_file(bytes.len() as u64 >= u64::from(u32::MAX));
        zip.start_file(path.as_str(), options)?;
        zip.write_all(bytes)
            .map_err(|e| BuildError::Zip(zip::result::ZipError::Io(e)))?;
    }
    Ok(zip.finish()?.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_name_uses_underscores() {
        let meta = AppMeta {
            name: "async-provisioning".into(),
            version: "0.1".into(),
            release: "1".into(),
            ..AppMeta::default()
        };
        assert_eq!(file_name(&meta), "async_provisioning-0.1-1.app.zip");
        let odd = AppMeta {
            name: "../My App".into(),
            ..meta
        };
        assert_eq!(file_name(&odd), ".._My_App-0.1-1.app.zip");
    }
}
