//! The archive: a deterministic tar.gz writer, and a reader that treats every archive as hostile —
//! only regular files and folders under one snapshot folder, no absolute paths, `..`, links or
//! devices, bounded decompressed size, every byte hashed and checked before it is used.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{File, OpenOptions};
use std::io::{BufReader, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Component, Path, PathBuf};

use flate2::read::GzDecoder;
use sha2::{Digest, Sha256};

use super::{CHECKSUMS_FILE, COLLECTIONS_DIR, METADATA_FILE, SnapshotError, SnapshotManifest};

/// Decompressed bytes allowed per compressed byte; Parquet in gzip is close to 1:1.
const MAX_RATIO: u64 = 100;
/// Floor of the decompressed budget, for tiny archives.
const MIN_BUDGET: u64 = 64 << 20;
/// Largest `metadata.json` / `checksums.sha256` accepted.
const MAX_SMALL_FILE: u64 = 16 << 20;
const MAX_ENTRIES: usize = 10_000;

/// The most bytes `compressed` bytes may decompress to: [`MAX_RATIO`] times, at least
/// [`MIN_BUDGET`]. Used for the archive and again for the Parquet pages inside it.
pub fn decompression_budget(compressed: u64) -> u64 {
    compressed.saturating_mul(MAX_RATIO).max(MIN_BUDGET)
}

/// Writes `<name>/…` entries as a gzip'd tar into `out` with fixed owners, modes and times, so
/// the same files give the same archive bytes; returns `out`. `files` are (path inside the
/// snapshot folder, source).
pub fn pack<W: Write>(out: W, name: &str, mtime: u64, files: &[(String, PathBuf)]) -> std::io::Result<W> {
    // Parquet members are zstd-compressed already: gzip would spend ~0.2 s per 20 MB to gain
    // under 1%, so the gzip stream uses stored blocks (still a standard .tar.gz).
    let gz = flate2::GzBuilder::new().mtime(mtime as u32).write(out, flate2::Compression::none());
    let mut tar = tar::Builder::new(gz);
    tar.mode(tar::HeaderMode::Deterministic);
    let dir_header = |path: &str| {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Directory);
        h.set_mode(0o755);
        h.set_mtime(mtime);
        h.set_size(0);
        (h, path.to_string())
    };
    for (mut header, path) in [dir_header(&format!("{name}/")), dir_header(&format!("{name}/{COLLECTIONS_DIR}/"))] {
        tar.append_data(&mut header, path, std::io::empty())?;
    }
    for (inner, source) in files {
        let mut src = File::open(source)
            .map_err(|e| std::io::Error::new(e.kind(), format!("reading `{}`: {e}", source.display())))?;
        let len = src.metadata()?.len();
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Regular);
        header.set_mode(0o644);
        header.set_mtime(mtime);
        header.set_size(len);
        tar.append_data(&mut header, format!("{name}/{inner}"), &mut src)?;
    }
    tar.into_inner()?.finish()
}

/// A snapshot unpacked into a private directory, every checksum verified.
#[derive(Debug)]
pub struct Unpacked {
    pub manifest: SnapshotManifest,
    /// The snapshot folder: `<dir>/<name>`.
    pub root: PathBuf,
    pub files: Vec<PathBuf>,
    pub bytes: u64,
}

impl Unpacked {
    pub fn collection_file(&self, entry: &super::CollectionEntry) -> PathBuf {
        self.root.join(&entry.file)
    }
}

/// Unpacks an archive into `into` (a private directory) and checks that sizes, hashes, the
/// checksums file and the manifest all agree. Nothing outside `into` is written.
pub fn unpack_verified(archive: &Path, into: &Path) -> Result<Unpacked, SnapshotError> {
    let integrity = |msg: String| SnapshotError::Integrity(format!("`{}`: {msg}", archive.display()));
    let file = File::open(archive).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => SnapshotError::Usage(format!("no snapshot at `{}`", archive.display())),
        _ => SnapshotError::Io { context: format!("opening `{}`", archive.display()), source: e },
    })?;
    let compressed = file.metadata().map_err(SnapshotError::io("reading the archive"))?.len();
    let budget = decompression_budget(compressed);
    let mut reader = Budget { inner: GzDecoder::new(BufReader::new(file)), left: budget };
    let mut tar = tar::Archive::new(&mut reader);
    let entries = tar.entries().map_err(|e| integrity(format!("not a tar archive ({e})")))?;

    let mut top: Option<String> = None;
    let mut hashes: BTreeMap<String, (String, u64)> = BTreeMap::new();
    let mut files = Vec::new();
    let mut total = 0u64;
    let mut declared: BTreeMap<String, u64> = BTreeMap::new();
    for (count, entry) in entries.enumerate() {
        if count >= MAX_ENTRIES {
            return Err(integrity(format!("more than {MAX_ENTRIES} entries")));
        }
        let mut entry = entry.map_err(|e| integrity(broken(&e, budget)))?;
        let raw_path =
            entry.path().map_err(|e| integrity(format!("an entry has an unreadable path ({e})")))?.into_owned();
        let shown = raw_path.display().to_string();
        let kind = entry.header().entry_type();
        let (folder, inner) = safe_relative(&raw_path).ok_or_else(|| {
            integrity(format!("entry `{shown}` has an unsafe path (absolute, `..`, or outside one snapshot folder)"))
        })?;
        match &top {
            None => top = Some(folder.clone()),
            Some(t) if *t != folder => {
                return Err(integrity(format!("entries under two folders (`{t}` and `{folder}`)")));
            }
            Some(_) => {}
        }
        match kind {
            tar::EntryType::Directory => {
                if !(inner.is_empty() || inner == COLLECTIONS_DIR) {
                    return Err(integrity(format!("unexpected folder `{shown}`")));
                }
                continue;
            }
            tar::EntryType::Regular | tar::EntryType::Continuous => {}
            other => {
                return Err(integrity(format!(
                    "entry `{shown}` is a {} — only regular files are allowed",
                    describe_kind(other)
                )));
            }
        }
        if !expected_member(&inner) {
            return Err(integrity(format!("unexpected member `{shown}`")));
        }
        let size = entry.header().size().map_err(|e| integrity(format!("entry `{shown}`: {e}")))?;
        if (inner == METADATA_FILE || inner == CHECKSUMS_FILE) && size > MAX_SMALL_FILE {
            return Err(integrity(format!("`{shown}` declares {size} bytes, more than a manifest can need")));
        }
        if let Some(&limit) = declared.get(&inner) {
            if size != limit {
                return Err(integrity(format!("`{shown}` is {size} bytes, the manifest declares {limit}")));
            }
        }
        if size > budget.saturating_sub(total) {
            return Err(integrity(format!(
                "`{shown}` declares {size} bytes: over the decompression limit ({budget} bytes for this archive)"
            )));
        }
        let target = into.join(&folder).join(&inner);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(SnapshotError::io(format!("creating `{}`", parent.display())))?;
        }
        let mut out =
            OpenOptions::new().write(true).create_new(true).mode(0o600).open(&target).map_err(|e| match e.kind() {
                std::io::ErrorKind::AlreadyExists => integrity(format!("member `{shown}` appears twice")),
                _ => SnapshotError::Io { context: format!("writing `{}`", target.display()), source: e },
            })?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 256 * 1024];
        let mut written = 0u64;
        loop {
            let n = entry.read(&mut buf).map_err(|e| integrity(broken(&e, budget)))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            out.write_all(&buf[..n]).map_err(SnapshotError::io(format!("writing `{}`", target.display())))?;
            written += n as u64;
        }
        if written != size {
            return Err(integrity(format!("`{shown}` is truncated ({written} of {size} bytes)")));
        }
        total += written;
        if inner == METADATA_FILE {
            // Once the manifest is known, later members are held to the sizes it declares.
            if let Ok(manifest) =
                serde_json::from_slice::<SnapshotManifest>(&std::fs::read(&target).unwrap_or_default())
            {
                declared = manifest.collections.into_iter().map(|c| (c.file, c.bytes)).collect();
            }
        }
        hashes.insert(inner.clone(), (hex::encode(hasher.finalize()), written));
        files.push(target);
    }
    let folder = top.ok_or_else(|| integrity("the archive is empty".into()))?;
    let root = into.join(&folder);
    let manifest = check_contents(&root, &folder, &hashes).map_err(integrity)?;
    Ok(Unpacked { manifest, root, files, bytes: total })
}

fn broken(e: &std::io::Error, budget: u64) -> String {
    if e.to_string().contains(BUDGET_MESSAGE) {
        format!("decompresses to more than {budget} bytes (a decompression bomb, or not a snapshot)")
    } else {
        format!("corrupt archive ({e})")
    }
}

/// Checks the unpacked files against `checksums.sha256` and `metadata.json`.
fn check_contents(
    root: &Path,
    folder: &str,
    hashes: &BTreeMap<String, (String, u64)>,
) -> Result<SnapshotManifest, String> {
    for required in [CHECKSUMS_FILE, METADATA_FILE] {
        if !hashes.contains_key(required) {
            return Err(format!("`{required}` is missing"));
        }
    }
    let listed = parse_checksums(&std::fs::read_to_string(root.join(CHECKSUMS_FILE)).map_err(|e| e.to_string())?)?;
    let present: BTreeSet<&String> = hashes.keys().filter(|k| *k != CHECKSUMS_FILE).collect();
    let named: BTreeSet<&String> = listed.keys().collect();
    if present != named {
        let missing: Vec<_> = named.difference(&present).map(|s| s.as_str()).collect();
        let extra: Vec<_> = present.difference(&named).map(|s| s.as_str()).collect();
        return Err(format!(
            "`{CHECKSUMS_FILE}` does not match the members (listed but missing: {missing:?}; present but not listed: {extra:?})"
        ));
    }
    let text = std::fs::read_to_string(root.join(METADATA_FILE)).map_err(|e| e.to_string())?;
    let manifest: SnapshotManifest =
        serde_json::from_str(&text).map_err(|e| format!("`{METADATA_FILE}` is not a snapshot manifest ({e})"))?;
    if manifest.format_version != super::FORMAT_VERSION {
        return Err(format!(
            "format version {} is not supported (this ifctl reads {})",
            manifest.format_version,
            super::FORMAT_VERSION
        ));
    }
    if manifest.name != folder {
        return Err(format!("the folder is `{folder}` but the manifest names `{}`", manifest.name));
    }
    for c in &manifest.collections {
        if let Some((_, bytes)) = hashes.get(&c.file).filter(|(_, b)| *b != c.bytes) {
            return Err(format!("`{}` is {bytes} bytes, the manifest declares {}", c.file, c.bytes));
        }
    }
    for (path, expected) in &listed {
        let (actual, _) = &hashes[path];
        if actual != expected {
            return Err(format!("checksum mismatch for `{path}`: expected {expected}, got {actual}"));
        }
    }
    let mut seen = BTreeSet::new();
    for c in &manifest.collections {
        if !seen.insert(&c.file) || !expected_member(&c.file) || c.file == METADATA_FILE || c.file == CHECKSUMS_FILE {
            return Err(format!("collection `{}` names an invalid or repeated file `{}`", c.name, c.file));
        }
        let (hash, _) = hashes.get(&c.file).ok_or(format!("`{}` of collection `{}` is missing", c.file, c.name))?;
        if *hash != c.sha256 {
            return Err(format!("`{}` does not match the manifest's sha256", c.file));
        }
    }
    if seen.len() + 2 != hashes.len() {
        return Err("the archive holds files the manifest does not list".into());
    }
    Ok(manifest)
}

/// `sha256sum` format: `<64 hex>  <path>` per line.
pub fn parse_checksums(text: &str) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let (hash, path) = line
            .split_once("  ")
            .or_else(|| line.split_once(" *"))
            .ok_or(format!("`{CHECKSUMS_FILE}` line {} is not `<sha256>  <path>`", i + 1))?;
        if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!("`{CHECKSUMS_FILE}` line {} has no valid sha256", i + 1));
        }
        if out.insert(path.to_string(), hash.to_ascii_lowercase()).is_some() {
            return Err(format!("`{CHECKSUMS_FILE}` lists `{path}` twice"));
        }
    }
    Ok(out)
}

pub fn format_checksums(entries: &[(String, String)]) -> String {
    entries.iter().map(|(path, hash)| format!("{hash}  {path}\n")).collect()
}

/// `<folder>/<inner>` with only normal components; `None` for anything else.
fn safe_relative(path: &Path) -> Option<(String, String)> {
    let mut parts = Vec::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => parts.push(part.to_str()?.to_string()),
            Component::CurDir if parts.is_empty() => {}
            _ => return None,
        }
    }
    let folder = parts.first()?.clone();
    super::check_name(&folder).ok()?;
    Some((folder, parts[1..].join("/")))
}

/// The members a snapshot folder may hold.
fn expected_member(inner: &str) -> bool {
    if inner == METADATA_FILE || inner == CHECKSUMS_FILE {
        return true;
    }
    match inner.strip_prefix(&format!("{COLLECTIONS_DIR}/")) {
        Some(file) => {
            file.strip_suffix(".parquet").is_some_and(crate::config::valid_collection_name) && !file.contains('/')
        }
        None => false,
    }
}

fn describe_kind(kind: tar::EntryType) -> &'static str {
    match kind {
        tar::EntryType::Symlink => "symbolic link",
        tar::EntryType::Link => "hard link",
        tar::EntryType::Char => "character device",
        tar::EntryType::Block => "block device",
        tar::EntryType::Fifo => "FIFO",
        _ => "special entry",
    }
}

const BUDGET_MESSAGE: &str = "decompressed size limit exceeded";

/// A reader that fails once it has produced more than its budget.
struct Budget<R> {
    inner: R,
    left: u64,
}

impl<R: Read> Read for Budget<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n as u64 > self.left {
            return Err(std::io::Error::other(BUDGET_MESSAGE));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// SHA-256 of a file, streaming.
pub fn sha256_file(path: &Path) -> std::io::Result<(String, u64)> {
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut total = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        total += n as u64;
    }
    Ok((hex::encode(hasher.finalize()), total))
}
