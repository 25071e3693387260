//! `snapshot create`: stream every collection page by page into Parquet, then pack and rename.
//!
//! Paging is by id: one cheap ids-only `get` lists the collection, then the records are fetched
//! by id in pages, so no row is skipped or repeated whatever the server's offset paging does.
//! Fetching (network, server) overlaps with parsing and writing (a worker thread).

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use futures_util::{StreamExt, TryStreamExt};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use sha2::{Digest, Sha256};

use crate::clients::chroma::{ChromaClient, Collection, IdPages};
use crate::clients::http::HttpError;

use super::archive::{format_checksums, pack, sha256_file};
use super::ids::id_key;
use super::records::{Records, schema};
use super::repo::Remote;
use super::seal::{AGE_EXTENSION, Sealing};
use super::{
    CHECKSUMS_FILE, COLLECTIONS_DIR, ChromaSource, CollectionEntry, EXTENSION, METADATA_FILE, Progress, SnapshotError,
    SnapshotManifest, check_name, sorted_pretty_json,
};

#[derive(Debug, Clone)]
pub struct CreateOptions {
    pub name: String,
    pub dest: PathBuf,
    /// Collections to export; empty means every collection of the database.
    pub collections: Vec<String>,
    /// Records per `get` request; `None` sizes pages by bytes (`default_page_rows`).
    pub page_size: Option<usize>,
    /// Wait for another process's lock on `dest` instead of failing.
    pub wait: bool,
    /// The audit journal's head, recorded in `metadata.json` as an anchor.
    pub journal_head: Option<crate::journal::anchor::RecordedHead>,
    /// The named target the snapshot is taken from (recorded in `metadata.json`).
    pub target: Option<String>,
    /// Encrypt the archive (`<name>.tar.gz.age`).
    pub sealing: Option<Arc<Sealing>>,
    /// `name` is a base: under the lock, take `name`, else `name-2`, `name-3`, … (two automatic
    /// snapshots in one second, from two processes or hosts).
    pub pick_free_name: bool,
}

impl CreateOptions {
    /// `<name>.tar.gz`, or `<name>.tar.gz.age` when encrypted.
    pub fn file_name(&self) -> String {
        let ext = if self.sealing.is_some() { AGE_EXTENSION } else { "" };
        format!("{}{EXTENSION}{ext}", self.name)
    }
}

#[derive(Debug, Clone)]
pub struct Created {
    pub manifest: SnapshotManifest,
    pub path: PathBuf,
    pub bytes: u64,
    pub sha256: String,
    pub seconds: f64,
}

/// Rows per Parquet row group: bounds the writer's buffer (≈ 2,048 × a few KB).
const ROW_GROUP_ROWS: usize = 2048;

pub async fn create(
    chroma: &ChromaClient,
    source: ChromaSource,
    opts: &CreateOptions,
    progress: &dyn Progress,
    mut on_wait: impl FnMut(&str),
) -> Result<Created, SnapshotError> {
    let started = Instant::now();
    check_name(&opts.name)?;
    let _lock =
        super::lock::acquire(&opts.dest, &format!("ifctl snapshot create {}", opts.name), opts.wait, &mut on_wait)?;
    remove_stale_temporaries(&opts.dest);
    let picked;
    let opts = if opts.pick_free_name {
        picked = CreateOptions { name: super::unique_name(&opts.dest, &opts.name), ..opts.clone() };
        &picked
    } else {
        opts
    };
    let file_name = opts.file_name();
    let final_path = opts.dest.join(&file_name);
    if let Some(taken) = [opts.name.clone() + EXTENSION, opts.name.clone() + EXTENSION + AGE_EXTENSION]
        .iter()
        .map(|f| opts.dest.join(f))
        .find(|p| p.exists())
    {
        return Err(SnapshotError::Usage(format!(
            "snapshot `{}` already exists at `{}`; choose another --name",
            opts.name,
            taken.display()
        )));
    }
    let work = tempfile::Builder::new()
        .prefix(&format!(".ifctl-tmp-{}-", opts.name))
        .tempdir_in(&opts.dest)
        .map_err(SnapshotError::io(format!("creating a work dir in `{}`", opts.dest.display())))?;
    let (manifest, members) = stage(chroma, source, opts, work.path(), progress).await?;

    progress.on_stage("packing the archive", None);
    let partial = opts.dest.join(format!(".{file_name}.partial"));
    let _ = std::fs::remove_file(&partial);
    let io = |what: &str| SnapshotError::io(format!("{what} `{}`", partial.display()));
    let file = super::create_private(&partial)?;
    let mtime = manifest.created_at.timestamp().max(0) as u64;
    let (file, sha256, bytes) =
        write_archive(file, opts.sealing.as_deref(), &opts.name, mtime, &members).map_err(io("writing"))?;
    file.sync_all().map_err(io("fsync"))?;
    std::fs::rename(&partial, &final_path)
        .map_err(SnapshotError::io(format!("renaming to `{}`", final_path.display())))?;
    if let Ok(dir) = std::fs::File::open(&opts.dest) {
        let _ = dir.sync_all();
    }
    progress.on_done();
    Ok(Created { manifest, path: final_path, bytes, sha256, seconds: started.elapsed().as_secs_f64() })
}

/// `create` into a remote repository: the same export into a work dir under `opts.dest` (this
/// host's scratch space), then the archive is streamed as a multipart upload — no local copy of
/// it — which becomes visible only when complete; any failure aborts the upload. Held under the
/// repository lock for the whole run.
///
/// `cancel` (Ctrl-C) ends the run with [`SnapshotError::Interrupted`] after aborting the upload
/// and releasing the lock, so an interrupted create leaves nothing behind either.
#[allow(clippy::too_many_arguments)]
pub async fn create_remote(
    remote: &Arc<Remote>,
    chroma: &ChromaClient,
    source: ChromaSource,
    opts: &CreateOptions,
    stale_after: std::time::Duration,
    progress: &dyn Progress,
    hooks: LockHooks<'_>,
    cancel: &mut Cancel,
) -> Result<Created, SnapshotError> {
    let started = Instant::now();
    check_name(&opts.name)?;
    let action = format!("ifctl snapshot create {}", opts.name);
    let busy = "wait for it, or pass --wait";
    let lock = tokio::select! {
        lock = super::repo_lock::acquire(remote, &action, opts.wait, busy, stale_after, hooks.on_wait, hooks.on_takeover) => lock?,
        _ = &mut *cancel => return Err(SnapshotError::Interrupted),
    };
    let outcome = async {
        let opts = &CreateOptions { name: free_remote_name(remote, opts).await?, ..opts.clone() };
        let (manifest, sha256, bytes) = upload_snapshot(remote, &lock, chroma, source, opts, progress, cancel).await?;
        Ok::<_, SnapshotError>((opts.file_name(), manifest, sha256, bytes))
    }
    .await;
    lock.release().await;
    let (file_name, manifest, sha256, bytes) = outcome?;
    progress.on_done();
    Ok(Created {
        manifest,
        path: PathBuf::from(remote.location(&file_name)),
        bytes,
        sha256,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// What a remote create tells its caller while it takes the repository lock.
pub struct LockHooks<'a> {
    /// Another process holds it and `--wait` was given: said once.
    pub on_wait: &'a mut (dyn FnMut(&str) + Send),
    /// A stale holder was replaced (to be journaled whatever happens next).
    pub on_takeover: &'a mut (dyn FnMut(&super::repo_lock::LockRecord, &str) + Send),
}

/// `opts.name`, or with `pick_free_name` the first of `name`, `name-2`, … not in the repository
/// (plain or encrypted); called under the lock.
async fn free_remote_name(remote: &Remote, opts: &CreateOptions) -> Result<String, SnapshotError> {
    let taken = |name: String| async move {
        for file in [name.clone() + EXTENSION, name + EXTENSION + AGE_EXTENSION] {
            if remote.head(&file).await?.is_some() {
                return Ok::<_, SnapshotError>(true);
            }
        }
        Ok(false)
    };
    if !opts.pick_free_name || !taken(opts.name.clone()).await? {
        return Ok(opts.name.clone());
    }
    for n in 2.. {
        let name = format!("{}-{n}", opts.name);
        if !taken(name.clone()).await? {
            return Ok(name);
        }
    }
    unreachable!("some suffix is free")
}

/// A future that completes when the operation should stop (Ctrl-C).
pub type Cancel = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

async fn upload_snapshot(
    remote: &Arc<Remote>,
    lock: &super::repo_lock::RepoLock,
    chroma: &ChromaClient,
    source: ChromaSource,
    opts: &CreateOptions,
    progress: &dyn Progress,
    cancel: &mut Cancel,
) -> Result<(SnapshotManifest, String, u64), SnapshotError> {
    for file in [opts.name.clone() + EXTENSION, opts.name.clone() + EXTENSION + AGE_EXTENSION] {
        if remote.head(&file).await?.is_some() {
            return Err(SnapshotError::Usage(format!(
                "snapshot `{}` already exists at `{}`; choose another --name",
                opts.name,
                remote.location(&file)
            )));
        }
    }
    crate::config::private_dir(&opts.dest).map_err(SnapshotError::io(format!("creating `{}`", opts.dest.display())))?;
    // This host's scratch dir is shared by every remote create here: one at a time, so the
    // work dirs a killed one left behind can be removed.
    let _scratch =
        super::lock::acquire(&opts.dest, &format!("ifctl snapshot create {} (remote)", opts.name), true, |_| {})?;
    remove_stale_temporaries(&opts.dest);
    let work = tempfile::Builder::new()
        .prefix(&format!(".ifctl-tmp-{}-", opts.name))
        .tempdir_in(&opts.dest)
        .map_err(SnapshotError::io(format!("creating a work dir in `{}`", opts.dest.display())))?;
    let (manifest, members) = tokio::select! {
        staged = stage(chroma, source, opts, work.path(), progress) => staged?,
        _ = &mut *cancel => return Err(SnapshotError::Interrupted),
    };

    progress.on_stage("uploading the archive", None);
    let file_name = opts.file_name();
    let mut upload = remote.start_upload(&file_name).await?;
    let sink = upload.sink();
    let sealing = opts.sealing.clone();
    let name = opts.name.clone();
    let mtime = manifest.created_at.timestamp().max(0) as u64;
    let packer = tokio::task::spawn_blocking(move || -> std::io::Result<(String, u64)> {
        let (sink, sha256, bytes) = write_archive(sink, sealing.as_deref(), &name, mtime, &members)?;
        sink.finish()?;
        Ok((sha256, bytes))
    });
    let packed = tokio::select! {
        packed = packer => packed,
        _ = &mut *cancel => {
            upload.cancel().await;
            return Err(SnapshotError::Interrupted);
        }
    };
    match packed {
        Ok(Ok((sha256, bytes))) => {
            upload.complete(cancel, || lock.confirm()).await?;
            Ok((manifest, sha256, bytes))
        }
        Ok(Err(e)) => {
            let store = upload.abort().await;
            Err(store.unwrap_or_else(|| SnapshotError::Io { context: "writing the archive".into(), source: e }))
        }
        Err(e) => {
            upload.abort().await;
            Err(SnapshotError::Failed(format!("the archive writer failed: {e}")))
        }
    }
}

/// Exports the collections into `work` and writes `metadata.json` and `checksums.sha256` there;
/// returns the manifest and the archive's members in order (checksums and manifest first, so
/// `list` reads only an archive's head).
async fn stage(
    chroma: &ChromaClient,
    source: ChromaSource,
    opts: &CreateOptions,
    work: &Path,
    progress: &dyn Progress,
) -> Result<(SnapshotManifest, Vec<(String, PathBuf)>), SnapshotError> {
    let created_at = crate::journal::now();
    let collections = select(chroma, &opts.collections).await?;
    std::fs::create_dir_all(work.join(COLLECTIONS_DIR)).map_err(SnapshotError::io("creating the work dir"))?;

    // A collection's writer may still be finishing its last pages while the next collection is
    // fetched; all writers are joined at the end, in order.
    let mut pending = Vec::new();
    for collection in &collections {
        let page_size = opts.page_size.unwrap_or_else(|| default_page_rows(collection.dimension));
        pending.push(export_collection(chroma, collection, work, page_size, progress).await?);
    }
    let mut entries = Vec::new();
    for export in pending {
        entries.push(export.finish()?);
    }
    let manifest = SnapshotManifest {
        format_version: super::FORMAT_VERSION,
        ifctl_version: env!("CARGO_PKG_VERSION").to_string(),
        name: opts.name.clone(),
        created_at,
        chroma: source,
        collections: entries,
        journal_head: opts.journal_head.clone(),
        target: opts.target.clone(),
    };
    let metadata_path = work.join(METADATA_FILE);
    std::fs::write(&metadata_path, sorted_pretty_json(&manifest))
        .map_err(SnapshotError::io("writing metadata.json"))?;
    let (metadata_sha, _) = sha256_file(&metadata_path).map_err(SnapshotError::io("hashing metadata.json"))?;
    let mut sums = vec![(METADATA_FILE.to_string(), metadata_sha)];
    sums.extend(manifest.collections.iter().map(|c| (c.file.clone(), c.sha256.clone())));
    std::fs::write(work.join(CHECKSUMS_FILE), format_checksums(&sums))
        .map_err(SnapshotError::io("writing checksums.sha256"))?;
    let mut members =
        vec![(CHECKSUMS_FILE.to_string(), work.join(CHECKSUMS_FILE)), (METADATA_FILE.to_string(), metadata_path)];
    members.extend(manifest.collections.iter().map(|c| (c.file.clone(), work.join(&c.file))));
    Ok((manifest, members))
}

/// Packs `members` into `out` — through age when `sealing` — and returns `out` with the sha256
/// and size of what was written to it.
fn write_archive<W: Write>(
    out: W,
    sealing: Option<&Sealing>,
    name: &str,
    mtime: u64,
    members: &[(String, PathBuf)],
) -> std::io::Result<(W, String, u64)> {
    let hashing = Hashing { inner: out, hasher: Sha256::new(), bytes: 0 };
    let hashing = match sealing {
        None => pack(hashing, name, mtime, members)?,
        Some(sealing) => pack(sealing.wrap(hashing)?, name, mtime, members)?.finish()?,
    };
    Ok((hashing.inner, hex::encode(hashing.hasher.finalize()), hashing.bytes))
}

/// The collections to export, by name, in name order.
async fn select(chroma: &ChromaClient, wanted: &[String]) -> Result<Vec<Collection>, SnapshotError> {
    let mut all = chroma.list_collections().await?;
    all.sort_by(|a, b| a.name.cmp(&b.name));
    if wanted.is_empty() {
        return Ok(all);
    }
    let mut chosen = Vec::new();
    for name in wanted {
        match all.iter().find(|c| &c.name == name) {
            Some(c) if !chosen.iter().any(|x: &Collection| x.name == c.name) => chosen.push(c.clone()),
            Some(_) => {}
            None => {
                return Err(SnapshotError::Usage(format!(
                    "collection `{name}` does not exist (there are: {})",
                    all.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", ")
                )));
            }
        }
    }
    Ok(chosen)
}

/// Records per page when none is asked for: pages of about 4 MB of `get` JSON (≈ 20 bytes per
/// float as decimal text, plus ~1 KB of id, document and metadata), at most 1,000 records. With
/// two fetches in flight and one page being written, the bodies alive at once stay near 12 MB
/// whatever the collection's size, so a create's memory does not grow with the collection
/// (docs/benchmarks.md, "Fewer and smaller buffers").
pub fn default_page_rows(dimension: Option<u32>) -> usize {
    const PAGE_BYTES: usize = 4_000_000;
    let row_bytes = dimension.unwrap_or(384) as usize * 20 + 1_000;
    (PAGE_BYTES / row_bytes).clamp(50, 1_000)
}

/// A collection whose pages have all been fetched; its writer may still be working.
struct Export {
    entry: CollectionEntry,
    writer: std::thread::JoinHandle<Result<(u64, String, u64), String>>,
    path: PathBuf,
}

impl Export {
    fn finish(self) -> Result<CollectionEntry, SnapshotError> {
        let written =
            self.writer.join().map_err(|_| SnapshotError::Failed("the Parquet writer thread panicked".into()))?;
        let (rows_exported, sha256, bytes) = written.map_err(|e| {
            SnapshotError::Failed(format!("exporting `{}` to `{}`: {e}", self.entry.name, self.path.display()))
        })?;
        Ok(CollectionEntry { rows_exported, sha256, bytes, ..self.entry })
    }
}

async fn export_collection(
    chroma: &ChromaClient,
    collection: &Collection,
    work: &Path,
    page_size: usize,
    progress: &dyn Progress,
) -> Result<Export, SnapshotError> {
    let count_at_start = chroma.count(&collection.id).await?;
    progress.on_stage(&format!("exporting {}", collection.name), Some(count_at_start));
    let file = format!("{COLLECTIONS_DIR}/{}.parquet", collection.name);
    let path = work.join(&file);
    let dim = collection.dimension.map(|d| d as usize);

    // The writer thread parses and writes while the next pages are being fetched.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<(Vec<u8>, usize)>(1);
    let writer_path = path.clone();
    let writer = std::thread::spawn(move || -> Result<(u64, String, u64), String> {
        let mut out = ParquetOut::create(&writer_path, dim.unwrap_or(0))?;
        while let Some((body, asked)) = rx.blocking_recv() {
            let records = Records::from_get_json(&body, dim)?;
            drop(body);
            if records.len() > asked {
                return Err(format!("Chroma returned {} records for {asked} ids", records.len()));
            }
            out.write(records)?;
        }
        out.finish()
    });

    // Ids come in pages (memory bounded by the page, not the collection); each page's records are
    // fetched while the next page of ids is read. An id seen twice (a row rewritten to the end of
    // the storage order during the walk) is exported once.
    let walk = (IdPages::new(&collection.id, page_size), HashSet::<u128>::new());
    let id_pages = futures_util::stream::try_unfold(walk, |(mut walk, mut seen)| async move {
        let Some(page) = walk.next(chroma).await? else { return Ok(None) };
        let page: Vec<String> = page.into_iter().filter(|id| seen.insert(id_key(id))).collect();
        Ok::<_, HttpError>(Some((page, (walk, seen))))
    });
    let pages = id_pages
        .try_filter(|page| std::future::ready(!page.is_empty()))
        .map_ok(|page| async move {
            let body = chroma.get_records_raw(&collection.id, &page).await?;
            Ok::<_, HttpError>((body, page.len()))
        })
        .try_buffered(2);
    let mut pages = std::pin::pin!(pages);
    while let Some(fetched) = pages.next().await {
        let (body, asked) = match fetched {
            Ok(fetched) => fetched,
            Err(e) => {
                drop(tx);
                let _ = writer.join();
                return Err(e.into());
            }
        };
        if tx.send((body, asked)).await.is_err() {
            break; // the writer failed; `finish` reports why
        }
        progress.on_rows(asked as u64);
    }
    drop(tx);
    progress.on_done();
    let entry = CollectionEntry {
        name: collection.name.clone(),
        id: collection.id.clone(),
        configuration: collection.configuration_json.clone(),
        metadata: collection.metadata.clone(),
        count_at_start,
        rows_exported: 0,
        dimension: collection.dimension,
        file,
        bytes: 0,
        sha256: String::new(),
    };
    Ok(Export { entry, writer, path })
}

/// A Parquet file being written, hashed on the way to disk.
struct ParquetOut {
    writer: ArrowWriter<Hashing<std::io::BufWriter<std::fs::File>>>,
    schema: arrow_schema::SchemaRef,
    rows: u64,
}

impl ParquetOut {
    fn create(path: &Path, dim: usize) -> Result<ParquetOut, String> {
        let file = std::fs::File::create(path).map_err(|e| e.to_string())?;
        let sink = Hashing { inner: std::io::BufWriter::with_capacity(1 << 20, file), hasher: Sha256::new(), bytes: 0 };
        let props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(ZstdLevel::try_new(3).expect("3 is a valid zstd level")))
            // Random floats only grow under dictionary encoding; ids and documents are unique.
            .set_dictionary_enabled(false)
            .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
            .set_created_by(format!("ifctl {}", env!("CARGO_PKG_VERSION")))
            .build();
        let schema = schema(dim);
        let writer = ArrowWriter::try_new(sink, schema.clone(), Some(props)).map_err(|e| e.to_string())?;
        Ok(ParquetOut { writer, schema: Arc::clone(&schema), rows: 0 })
    }

    fn write(&mut self, records: Records) -> Result<(), String> {
        if records.is_empty() {
            return Ok(());
        }
        let rows = records.len() as u64;
        let batch = records.into_batch(&self.schema).map_err(|e| e.to_string())?;
        self.writer.write(&batch).map_err(|e| e.to_string())?;
        self.rows += rows;
        Ok(())
    }

    /// Rows, sha256 and size of the finished file.
    fn finish(self) -> Result<(u64, String, u64), String> {
        let mut sink = self.writer.into_inner().map_err(|e| e.to_string())?;
        sink.flush().map_err(|e| e.to_string())?;
        // No fsync: this is a work file; the archive made from it is synced before its rename.
        sink.inner.into_inner().map_err(|e| e.to_string())?;
        Ok((self.rows, hex::encode(sink.hasher.finalize()), sink.bytes))
    }
}

struct Hashing<W> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Leftovers of a create that crashed: only called while holding the destination lock, so no
/// other create can be using them.
fn remove_stale_temporaries(dest: &Path) {
    let Ok(entries) = std::fs::read_dir(dest) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(".ifctl-tmp-") {
            let _ = std::fs::remove_dir_all(entry.path());
        } else if name.starts_with('.') && name.ends_with(".partial") {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::default_page_rows;

    #[test]
    fn pages_are_sized_by_bytes_not_records() {
        assert_eq!(default_page_rows(Some(384)), 460);
        assert_eq!(default_page_rows(None), 460, "an unknown dimension is taken as the fixture's");
        assert_eq!(default_page_rows(Some(1536)), 126);
        assert_eq!(default_page_rows(Some(3)), 1000, "small rows: at most 1,000 per page");
        assert_eq!(default_page_rows(Some(65_536)), 50, "huge rows: never fewer than 50");
    }
}
