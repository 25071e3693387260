//! A snapshot made ready to read: whatever repository it is in and whether or not it is
//! encrypted, `verify` and `restore` get a plain `.tar.gz` on this host — the file itself when it
//! is a local plain archive, else a private copy (downloaded, then decrypted) in a temporary
//! directory that is removed when the [`Fetched`] is dropped.

use std::path::{Path, PathBuf};

use super::list::snapshot_file;
use super::repo::Repository;
use super::seal::{AGE_EXTENSION, Keys};
use super::{EXTENSION, SnapshotError, check_name, resolve_archive};

#[derive(Debug)]
pub struct Fetched {
    /// A plain `.tar.gz` to read.
    pub archive: PathBuf,
    /// Where the snapshot is, for people and the journal (a path or a URL).
    pub source: String,
    pub encrypted: bool,
    _work: Option<tempfile::TempDir>,
}

impl Fetched {
    /// An error about the temporary copy, told about the snapshot instead (its URL or path).
    pub fn explain(&self, err: SnapshotError) -> SnapshotError {
        let temp = self.archive.display().to_string();
        match err {
            SnapshotError::Integrity(msg) if self._work.is_some() => {
                SnapshotError::Integrity(msg.replace(&temp, &self.source))
            }
            other => other,
        }
    }
}

/// Finds `name_or_path` in `repo` and makes it readable here; `scratch` holds the temporary copy.
pub async fn fetch(
    repo: &Repository,
    name_or_path: &str,
    keys: &Keys,
    scratch: &Path,
) -> Result<Fetched, SnapshotError> {
    // A path (anything with a `/`) is a local file whatever the repository.
    let local;
    let repo = if name_or_path.contains('/') && matches!(repo, Repository::Remote(_)) {
        local = Repository::Local(PathBuf::from("."));
        &local
    } else {
        repo
    };
    match repo {
        Repository::Local(dir) => {
            let path = resolve_archive(dir, name_or_path);
            let source = path.display().to_string();
            let file_name = path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
            if !file_name.ends_with(AGE_EXTENSION) {
                return Ok(Fetched { archive: path, source, encrypted: false, _work: None });
            }
            if !path.exists() {
                return Err(SnapshotError::Usage(format!("no snapshot at `{source}`")));
            }
            let work = work_dir(scratch)?;
            let plain = work.path().join(file_name.trim_end_matches(AGE_EXTENSION));
            let keys = keys.clone();
            let (from, to, shown) = (path.clone(), plain.clone(), source.clone());
            tokio::task::spawn_blocking(move || keys.decrypt_file(&from, &to, &shown))
                .await
                .map_err(|e| SnapshotError::Failed(format!("the decryption task failed: {e}")))??;
            Ok(Fetched { archive: plain, source, encrypted: true, _work: Some(work) })
        }
        Repository::Remote(remote) => {
            let name = snapshot_file(name_or_path).map_or(name_or_path, |(name, _)| name);
            check_name(name)?;
            let plain_name = format!("{name}{EXTENSION}");
            let sealed_name = format!("{plain_name}{AGE_EXTENSION}");
            let encrypted = if remote.head(&plain_name).await?.is_some() {
                false
            } else if remote.head(&sealed_name).await?.is_some() {
                true
            } else {
                return Err(SnapshotError::Usage(format!(
                    "no snapshot `{name}` in `{}` (`ifctl snapshot list --repo {}` shows what there is)",
                    remote.url, remote.url
                )));
            };
            let file = if encrypted { &sealed_name } else { &plain_name };
            let source = remote.location(file);
            if encrypted {
                // The key is checked before the download, not after it.
                keys.check(&source)?;
            }
            let work = work_dir(scratch)?;
            let downloaded = work.path().join(file);
            remote.download(file, &downloaded).await?;
            if !encrypted {
                return Ok(Fetched { archive: downloaded, source, encrypted, _work: Some(work) });
            }
            let plain = work.path().join(&plain_name);
            let keys = keys.clone();
            let (from, to, shown) = (downloaded.clone(), plain.clone(), source.clone());
            tokio::task::spawn_blocking(move || keys.decrypt_file(&from, &to, &shown))
                .await
                .map_err(|e| SnapshotError::Failed(format!("the decryption task failed: {e}")))??;
            let _ = std::fs::remove_file(&downloaded);
            Ok(Fetched { archive: plain, source, encrypted, _work: Some(work) })
        }
    }
}

/// A private work dir `.ifctl-fetch-<pid>-…` under `scratch`; those of processes that are gone
/// (killed, Ctrl-C) are removed first — they may hold a decrypted archive.
fn work_dir(scratch: &Path) -> Result<tempfile::TempDir, SnapshotError> {
    crate::config::private_dir(scratch).map_err(SnapshotError::io(format!("creating `{}`", scratch.display())))?;
    if let Ok(entries) = std::fs::read_dir(scratch) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let pid = name.strip_prefix(".ifctl-fetch-").and_then(|rest| rest.split('-').next()?.parse::<u32>().ok());
            if pid.is_some_and(|pid| !super::lock::process_alive(pid)) {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
    tempfile::Builder::new()
        .prefix(&format!(".ifctl-fetch-{}-", std::process::id()))
        .tempdir_in(scratch)
        .map_err(SnapshotError::io(format!("creating a work dir in `{}`", scratch.display())))
}
