//! Where snapshots live: a directory on this host (as before), or a prefix in object storage —
//! `s3://bucket/prefix` (AWS or any S3-compatible server), `gs://bucket/prefix`,
//! `az://container/prefix` — through the Arrow project's `object_store`.
//!
//! In object storage a snapshot is one object, `<prefix>/<name>.tar.gz[.age]`, written as a
//! multipart upload: it exists for readers only once the upload completes. ifctl's own records sit
//! under `<prefix>/.ifctl/`: the repository lock ([`super::repo_lock`]) and one marker per upload
//! in progress, naming its upload id, so that an upload whose process died (kill -9, power cut)
//! is found and aborted by the next `prune` instead of costing storage for ever.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt};
use object_store::multipart::{MultipartStore, PartId};
use object_store::path::Path as Key;
use object_store::{ClientConfigKey, ObjectMeta, ObjectStore, ObjectStoreExt, PutPayload, RetryConfig};
use serde::{Deserialize, Serialize};

use super::SnapshotError;
use crate::config::SnapshotConfig;

/// Bytes per uploaded part (S3 requires at least 5 MiB for all but the last).
pub const PART_BYTES: usize = 8 << 20;
/// Parts uploaded at once: memory is about `PART_BYTES` × (this + 2).
const PARTS_IN_FLIGHT: usize = 3;
/// ifctl's records inside a repository prefix.
pub const META_DIR: &str = ".ifctl";

/// A snapshot repository.
#[derive(Debug, Clone)]
pub enum Repository {
    Local(PathBuf),
    Remote(Arc<Remote>),
}

/// A prefix in object storage.
pub struct Remote {
    /// As configured (`s3://bucket/prefix`); URLs of object stores carry no credentials.
    pub url: String,
    store: Arc<dyn ObjectStore>,
    multipart: Arc<dyn MultipartStore>,
    prefix: Key,
}

impl std::fmt::Debug for Remote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Remote").field("url", &self.url).finish_non_exhaustive()
    }
}

impl Repository {
    /// `s3://…`, `gs://…`, `az://…` (also `abfs://`, `azure://`), `file:///path`, or a path.
    pub fn open(spec: &str, config: &SnapshotConfig) -> Result<Repository, SnapshotError> {
        let Some((scheme, _)) = spec.split_once("://") else {
            return Ok(Repository::Local(PathBuf::from(spec)));
        };
        let url = url::Url::parse(spec)
            .map_err(|e| SnapshotError::Usage(format!("snapshot repository `{spec}` is not a valid URL: {e}")))?;
        if scheme == "file" {
            let path = url.to_file_path().map_err(|_| {
                SnapshotError::Usage(format!("snapshot repository `{spec}`: a file:// URL needs an absolute path"))
            })?;
            return Ok(Repository::Local(path));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(SnapshotError::Usage(format!(
                "snapshot repository `{spec}` names no bucket (expected e.g. `s3://backups/ifctl`)"
            )));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(SnapshotError::Usage(format!(
                "snapshot repository `{}` carries credentials; give them in the environment (AWS_ACCESS_KEY_ID, …) instead",
                crate::config::redact_userinfo(spec)
            )));
        }
        let prefix = Key::parse(url.path().trim_matches('/'))
            .map_err(|e| SnapshotError::Usage(format!("snapshot repository `{spec}` has an invalid prefix: {e}")))?;
        let built = build_store(scheme, spec, config)?;
        Ok(Repository::Remote(Arc::new(Remote {
            url: spec.trim_end_matches('/').to_string(),
            store: built.0,
            multipart: built.1,
            prefix,
        })))
    }

    /// For messages and the journal: the directory or the URL.
    pub fn describe(&self) -> String {
        match self {
            Repository::Local(dir) => dir.display().to_string(),
            Repository::Remote(remote) => remote.url.clone(),
        }
    }
}

type Stores = (Arc<dyn ObjectStore>, Arc<dyn MultipartStore>);

fn build_store(scheme: &str, spec: &str, config: &SnapshotConfig) -> Result<Stores, SnapshotError> {
    // Bounded: an unreachable endpoint fails in seconds, not after object_store's default of
    // ten retries over three minutes.
    let retry = RetryConfig {
        max_retries: 3,
        retry_timeout: Duration::from_secs(20),
        backoff: object_store::BackoffConfig {
            init_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(2),
            base: 2.0,
        },
    };
    if config.endpoint.as_deref().is_some_and(|e| e.starts_with("http://")) && !config.allow_http {
        return Err(SnapshotError::Usage(format!(
            "snapshots.endpoint `{}` is http:// but snapshots.allow_http is false; set it to true (test or private servers only)",
            config.endpoint.as_deref().unwrap_or_default()
        )));
    }
    // Set key by key over what the environment gave (AWS_ALLOW_HTTP, …), not replacing it.
    let mut client =
        vec![(ClientConfigKey::ConnectTimeout, "5s".to_string()), (ClientConfigKey::Timeout, "120s".to_string())];
    if config.allow_http {
        client.push((ClientConfigKey::AllowHttp, "true".to_string()));
    }
    let bad = |e: object_store::Error| {
        SnapshotError::Usage(format!("snapshot repository `{spec}`: {}", first_line(&chain(&e))))
    };
    match scheme {
        "s3" | "s3a" => {
            let mut builder = object_store::aws::AmazonS3Builder::from_env().with_url(spec);
            if let Some(endpoint) = &config.endpoint {
                builder = builder.with_endpoint(endpoint);
            }
            if let Some(region) = &config.region {
                builder = builder.with_region(region);
            }
            for (key, value) in client {
                builder = builder.with_config(object_store::aws::AmazonS3ConfigKey::Client(key), value);
            }
            let store = Arc::new(builder.with_retry(retry).build().map_err(bad)?);
            Ok((store.clone(), store))
        }
        "gs" => {
            let mut builder = object_store::gcp::GoogleCloudStorageBuilder::from_env().with_url(spec);
            for (key, value) in client {
                builder = builder.with_config(object_store::gcp::GoogleConfigKey::Client(key), value);
            }
            let store = Arc::new(builder.with_retry(retry).build().map_err(bad)?);
            Ok((store.clone(), store))
        }
        "az" | "abfs" | "abfss" | "azure" | "adl" => {
            let mut builder = object_store::azure::MicrosoftAzureBuilder::from_env().with_url(spec);
            for (key, value) in client {
                builder = builder.with_config(object_store::azure::AzureConfigKey::Client(key), value);
            }
            let store = Arc::new(builder.with_retry(retry).build().map_err(bad)?);
            Ok((store.clone(), store))
        }
        other => Err(SnapshotError::Usage(format!(
            "snapshot repository `{spec}`: `{other}://` is not supported (use s3://, gs://, az://, file:// or a directory)"
        ))),
    }
}

/// Every message of an error and its sources, `: `-joined.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let more = s.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = s.source();
    }
    text
}

/// The store's own words when its answer has them (`<Code>` and `<Message>` of an S3 error
/// document), else the first line of the error.
fn summary(text: &str) -> String {
    let tag = |name: &str| {
        let open = format!("<{name}>");
        let start = text.find(&open)? + open.len();
        let end = text[start..].find(&format!("</{name}>"))? + start;
        Some(text[start..end].to_string())
    };
    match (tag("Code"), tag("Message")) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(code), None) => code,
        _ => first_line(text).to_string(),
    }
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or(text)
}

impl Remote {
    /// `<prefix>/<file>`.
    pub fn key(&self, file: &str) -> Key {
        self.prefix.clone().join(file)
    }

    /// `s3://bucket/prefix/<file>`, for people.
    pub fn location(&self, file: &str) -> String {
        format!("{}/{file}", self.url)
    }

    fn meta_key(&self, rest: &str) -> Key {
        let mut key = self.prefix.clone().join(META_DIR);
        for part in rest.split('/') {
            key = key.join(part);
        }
        key
    }

    /// What went wrong talking to the store, as the error the verbs share: a missing bucket is a
    /// configuration error (2), refused credentials and an unreachable endpoint are exit 3.
    pub fn error(&self, doing: &str, e: object_store::Error) -> SnapshotError {
        let text = chain(&e);
        let detail = summary(&text);
        if text.contains("NoSuchBucket") || text.contains("ContainerNotFound") || text.contains("bucket does not exist")
        {
            return SnapshotError::Usage(format!(
                "snapshot repository `{}`: the bucket does not exist ({doing}); create it (e.g. `aws s3 mb`) or fix snapshots.repository",
                self.url
            ));
        }
        let auth =
            matches!(e, object_store::Error::Unauthenticated { .. } | object_store::Error::PermissionDenied { .. })
                || [
                    "InvalidAccessKeyId",
                    "SignatureDoesNotMatch",
                    "AccessDenied",
                    "ExpiredToken",
                    "403 Forbidden",
                    "401 Unauthorized",
                ]
                .iter()
                .any(|marker| text.contains(marker));
        if auth {
            let check = if self.url.starts_with("gs://") {
                "GOOGLE_SERVICE_ACCOUNT (or GOOGLE_APPLICATION_CREDENTIALS)"
            } else if self.url.starts_with("s3") {
                "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY"
            } else {
                "AZURE_STORAGE_ACCOUNT_NAME / AZURE_STORAGE_ACCOUNT_KEY"
            };
            return SnapshotError::Store(format!(
                "snapshot repository `{}` refused the credentials ({doing}): {detail}; check {check} (or the provider's credential chain)",
                self.url
            ));
        }
        let unreachable = [
            "error sending request",
            "Connection refused",
            "connection refused",
            "timed out",
            "dns error",
            "error trying to connect",
            "connection closed",
            "Connection reset",
        ]
        .iter()
        .any(|marker| text.contains(marker));
        if unreachable {
            return SnapshotError::Store(format!(
                "snapshot repository `{}` is unreachable ({doing}): {detail}; check snapshots.endpoint and the network",
                self.url
            ));
        }
        SnapshotError::Failed(format!("snapshot repository `{}`: {doing}: {detail}", self.url))
    }

    /// The snapshot archives directly under the prefix (not ifctl's records), by key order.
    pub async fn list(&self) -> Result<Vec<ObjectMeta>, SnapshotError> {
        let prefix = (!self.prefix.as_ref().is_empty()).then_some(&self.prefix);
        let listed = self.store.list_with_delimiter(prefix).await.map_err(|e| self.error("listing", e))?;
        Ok(listed.objects)
    }

    /// The object's size, or `None` when there is none.
    pub async fn head(&self, file: &str) -> Result<Option<ObjectMeta>, SnapshotError> {
        match self.store.head(&self.key(file)).await {
            Ok(meta) => Ok(Some(meta)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(self.error(&format!("looking for `{file}`"), e)),
        }
    }

    /// The first `len` bytes of the object at `location` (as listed; all of it when shorter).
    pub async fn read_head_at(&self, location: &Key, size: u64, len: u64) -> Result<Bytes, SnapshotError> {
        let end = size.min(len);
        if end == 0 {
            return Ok(Bytes::new());
        }
        self.store.get_range(location, 0..end).await.map_err(|e| match e {
            object_store::Error::NotFound { .. } => SnapshotError::Usage(format!("`{location}` is gone")),
            e => self.error(&format!("reading `{location}`"), e),
        })
    }

    /// Deletes the object at `location` (as listed).
    pub async fn delete_at(&self, location: &Key) -> Result<(), SnapshotError> {
        match self.store.delete(location).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(self.error(&format!("deleting `{location}`"), e)),
        }
    }

    /// Streams an object into a new private file; returns its size.
    pub async fn download(&self, file: &str, to: &Path) -> Result<u64, SnapshotError> {
        use std::io::Write;
        let got = self.store.get(&self.key(file)).await.map_err(|e| match e {
            object_store::Error::NotFound { .. } => {
                SnapshotError::Usage(format!("no snapshot `{}` in the repository", self.location(file)))
            }
            e => self.error(&format!("reading `{file}`"), e),
        })?;
        let mut out = super::create_private(to)?;
        let mut stream = got.into_stream();
        let mut total = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| self.error(&format!("downloading `{file}`"), e))?;
            out.write_all(&chunk).map_err(SnapshotError::io(format!("writing `{}`", to.display())))?;
            total += chunk.len() as u64;
        }
        out.sync_all().map_err(SnapshotError::io(format!("writing `{}`", to.display())))?;
        Ok(total)
    }

    pub async fn delete(&self, file: &str) -> Result<(), SnapshotError> {
        match self.store.delete(&self.key(file)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(self.error(&format!("deleting `{file}`"), e)),
        }
    }

    /// The raw store, for the lock.
    pub(super) fn store(&self) -> &Arc<dyn ObjectStore> {
        &self.store
    }

    pub(super) fn lock_key(&self) -> Key {
        self.meta_key("lock.json")
    }

    /// Starts a multipart upload of `file` and records its marker. Parts are then sent through
    /// [`Upload::sink`] from a blocking thread and the upload finished with [`Upload::complete`]
    /// or [`Upload::abort`].
    pub async fn start_upload(self: &Arc<Self>, file: &str) -> Result<Upload, SnapshotError> {
        let key = self.key(file);
        let id = self.multipart.create_multipart(&key).await.map_err(|e| self.error("starting the upload", e))?;
        let marker = UploadMarker {
            file: file.to_string(),
            upload_id: id.clone(),
            host: crate::journal::this_host(),
            pid: std::process::id(),
            started: crate::journal::now(),
        };
        let marker_key = self.marker_key(file, &id);
        let body = serde_json::to_vec(&marker).expect("markers serialize");
        if let Err(e) = self.store.put(&marker_key, body.into()).await {
            let _ = self.multipart.abort_multipart(&key, &id).await;
            return Err(self.error("recording the upload", e));
        }
        let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(1);
        let parts = tokio::spawn(send_parts(self.multipart.clone(), key.clone(), id.clone(), rx));
        Ok(Upload { remote: self.clone(), file: file.to_string(), key, id, parts, sender: Some(tx) })
    }

    /// One marker per upload (a crashed create's and the re-run's under the same name differ).
    fn marker_key(&self, file: &str, upload_id: &str) -> Key {
        use sha2::Digest;
        let tag = hex::encode(&sha2::Sha256::digest(upload_id.as_bytes())[..8]);
        self.meta_key(&format!("uploads/{file}.{tag}.json"))
    }

    /// Aborts the uploads that were started and never finished (their process died); only safe
    /// under the repository lock, when no upload of a live process can be in progress. One that
    /// cannot be aborted (say, a key without `s3:AbortMultipartUpload`) keeps its marker and is
    /// reported; the rest go on.
    pub async fn abort_stale_uploads(&self) -> Result<StaleUploads, SnapshotError> {
        let dir = self.meta_key("uploads");
        let markers: Vec<ObjectMeta> =
            self.store.list(Some(&dir)).try_collect().await.map_err(|e| self.error("listing unfinished uploads", e))?;
        let mut done = StaleUploads::default();
        for meta in markers {
            let marker = if meta.size > 64 << 10 {
                None
            } else {
                match self.store.get(&meta.location).await {
                    Ok(got) => got.bytes().await.ok().and_then(|b| serde_json::from_slice::<UploadMarker>(&b).ok()),
                    Err(object_store::Error::NotFound { .. }) => continue,
                    Err(e) => {
                        done.problems.push(format!(
                            "cannot read upload marker `{}`: {}",
                            meta.location,
                            summary(&chain(&e))
                        ));
                        continue;
                    }
                }
            };
            match &marker {
                Some(marker) => {
                    match self.multipart.abort_multipart(&self.key(&marker.file), &marker.upload_id).await {
                        Ok(()) => done.aborted.push(marker.file.clone()),
                        // Completed (its marker outlived it) or already aborted: nothing to abort.
                        Err(object_store::Error::NotFound { .. }) => {}
                        Err(e) => {
                            done.problems.push(format!(
                                "cannot abort the unfinished upload of `{}` (upload id {}): {}",
                                marker.file,
                                marker.upload_id,
                                summary(&chain(&e))
                            ));
                            continue;
                        }
                    }
                }
                None => done.problems.push(format!("removed an unreadable upload marker `{}`", meta.location)),
            }
            if let Err(e) = self.store.delete(&meta.location).await {
                if !matches!(e, object_store::Error::NotFound { .. }) {
                    done.problems.push(format!(
                        "cannot delete upload marker `{}`: {}",
                        meta.location,
                        summary(&chain(&e))
                    ));
                }
            }
        }
        Ok(done)
    }
}

/// What [`Remote::abort_stale_uploads`] did.
#[derive(Debug, Default)]
pub struct StaleUploads {
    /// Files whose dead uploads were aborted.
    pub aborted: Vec<String>,
    /// What could not be cleaned, said for people.
    pub problems: Vec<String>,
}

/// A store that fails once an upload is under way fails the operation (exit 1: something was
/// started and given up), whatever the cause; exit 3 is for not reaching it at all.
fn failed(e: SnapshotError) -> SnapshotError {
    match e {
        SnapshotError::Store(message) => SnapshotError::Failed(message),
        other => other,
    }
}

/// What an upload in progress records about itself.
#[derive(Debug, Serialize, Deserialize)]
struct UploadMarker {
    file: String,
    upload_id: String,
    host: String,
    pid: u32,
    started: chrono::DateTime<chrono::Utc>,
}

async fn send_parts(
    store: Arc<dyn MultipartStore>,
    key: Key,
    id: String,
    rx: tokio::sync::mpsc::Receiver<Bytes>,
) -> Result<Vec<PartId>, object_store::Error> {
    futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|part| (part, rx)) })
        .enumerate()
        .map(|(index, part)| {
            let (store, key, id) = (store.clone(), key.clone(), id.clone());
            async move {
                crate::hooks::crash_point(format_args!("snapshot.upload_part.{index}"));
                store.put_part(&key, &id, index, PutPayload::from_bytes(part)).await
            }
        })
        .buffered(PARTS_IN_FLIGHT)
        .try_collect()
        .await
}

/// A multipart upload in progress.
pub struct Upload {
    remote: Arc<Remote>,
    file: String,
    key: Key,
    id: String,
    parts: tokio::task::JoinHandle<Result<Vec<PartId>, object_store::Error>>,
    sender: Option<tokio::sync::mpsc::Sender<Bytes>>,
}

impl Upload {
    /// A blocking `Write` that cuts the stream into parts (use from a blocking thread).
    pub fn sink(&mut self) -> PartSink {
        PartSink { sender: self.sender.take(), buffer: Vec::with_capacity(PART_BYTES + (256 << 10)) }
    }

    /// Waits for the parts in flight, then makes the object visible; `cancel` completing first
    /// aborts the upload instead.
    /// `confirm` is awaited once the parts are sent and before the object is made visible: an
    /// error from it (the lock was lost) aborts the upload instead.
    pub async fn complete<F, Fut>(mut self, cancel: &mut super::create::Cancel, confirm: F) -> Result<(), SnapshotError>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<(), SnapshotError>>,
    {
        let sent = tokio::select! {
            sent = &mut self.parts => sent,
            _ = &mut *cancel => {
                self.cancel().await;
                return Err(SnapshotError::Interrupted);
            }
        };
        let parts = match sent {
            Ok(Ok(parts)) => parts,
            Ok(Err(e)) => {
                let err = failed(self.remote.error(&format!("uploading `{}`", self.file), e));
                self.remote.abort_quietly(&self.key, &self.id, &self.file).await;
                return Err(err);
            }
            Err(e) => return Err(SnapshotError::Failed(format!("the upload task failed: {e}"))),
        };
        crate::hooks::crash_point("snapshot.before_complete");
        if let Err(e) = confirm().await {
            self.remote.abort_quietly(&self.key, &self.id, &self.file).await;
            return Err(e);
        }
        let done = self.remote.multipart.complete_multipart(&self.key, &self.id, parts).await;
        if let Err(e) = done {
            let err = failed(self.remote.error(&format!("completing `{}`", self.file), e));
            self.remote.abort_quietly(&self.key, &self.id, &self.file).await;
            return Err(err);
        }
        let _ = self.remote.store.delete(&self.remote.marker_key(&self.file, &self.id)).await;
        Ok(())
    }

    /// Stops at once (Ctrl-C): the parts in flight are dropped — the writer's next part then
    /// fails — and the upload is aborted.
    pub async fn cancel(self) {
        self.parts.abort();
        let _ = self.parts.await;
        self.remote.abort_quietly(&self.key, &self.id, &self.file).await;
    }

    /// Gives up: aborts the upload (nothing becomes visible). Returns the store's own error when
    /// a part failed, which is usually why the writer stopped.
    pub async fn abort(self) -> Option<SnapshotError> {
        drop(self.sender);
        let failure = match self.parts.await {
            Ok(Err(e)) => Some(failed(self.remote.error(&format!("uploading `{}`", self.file), e))),
            _ => None,
        };
        self.remote.abort_quietly(&self.key, &self.id, &self.file).await;
        failure
    }
}

impl Remote {
    /// Aborts an upload and removes its marker; when the store cannot be reached the marker stays
    /// and the next `prune` aborts it.
    async fn abort_quietly(&self, key: &Key, id: &str, file: &str) {
        let id = id.to_string();
        let aborted = tokio::time::timeout(Duration::from_secs(30), self.multipart.abort_multipart(key, &id));
        if matches!(aborted.await, Ok(Ok(()))) {
            let _ = tokio::time::timeout(Duration::from_secs(10), self.store.delete(&self.marker_key(file, &id))).await;
        }
    }
}

/// The blocking side of an upload: buffers [`PART_BYTES`] and hands each part to the uploader.
pub struct PartSink {
    sender: Option<tokio::sync::mpsc::Sender<Bytes>>,
    buffer: Vec<u8>,
}

impl PartSink {
    fn send(&mut self) -> std::io::Result<()> {
        let part = std::mem::replace(&mut self.buffer, Vec::with_capacity(PART_BYTES + (256 << 10)));
        let sender = self.sender.as_ref().ok_or_else(|| std::io::Error::other("the upload was closed"))?;
        sender.blocking_send(Bytes::from(part)).map_err(|_| std::io::Error::other("the upload stopped"))
    }

    /// Sends the last part and closes the stream.
    pub fn finish(mut self) -> std::io::Result<()> {
        if !self.buffer.is_empty() {
            self.send()?;
        }
        self.sender = None;
        Ok(())
    }
}

impl std::io::Write for PartSink {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(data);
        if self.buffer.len() >= PART_BYTES {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(spec: &str) -> Result<Repository, SnapshotError> {
        Repository::open(spec, &SnapshotConfig::default())
    }

    #[test]
    fn specs_name_a_directory_or_a_bucket_prefix() {
        assert!(
            matches!(open("/var/lib/ifctl/snapshots"), Ok(Repository::Local(p)) if p == Path::new("/var/lib/ifctl/snapshots"))
        );
        assert!(matches!(open("relative/dir"), Ok(Repository::Local(p)) if p == Path::new("relative/dir")));
        assert!(matches!(open("file:///srv/snaps"), Ok(Repository::Local(p)) if p == Path::new("/srv/snaps")));
        let Ok(Repository::Remote(remote)) = open("s3://backups/ifctl/nightly/") else { panic!("an S3 repository") };
        assert_eq!(remote.url, "s3://backups/ifctl/nightly");
        assert_eq!(remote.key("a.tar.gz").as_ref(), "ifctl/nightly/a.tar.gz");
        assert_eq!(remote.lock_key().as_ref(), "ifctl/nightly/.ifctl/lock.json");
        assert!(remote.marker_key("a.tar.gz", "id-1").as_ref().starts_with("ifctl/nightly/.ifctl/uploads/a.tar.gz."));
        assert_ne!(remote.marker_key("a.tar.gz", "id-1"), remote.marker_key("a.tar.gz", "id-2"));
        assert_eq!(remote.location("a.tar.gz"), "s3://backups/ifctl/nightly/a.tar.gz");
        let Ok(Repository::Remote(root)) = open("s3://backups") else { panic!("a bucket root") };
        assert_eq!(root.key("a.tar.gz").as_ref(), "a.tar.gz");
    }

    #[test]
    fn bad_specs_are_usage_errors_that_never_echo_secrets() {
        for (spec, says) in [
            ("ftp://host/x", "not supported"),
            ("s3:///prefix", "names no bucket"),
            ("file://relative", "absolute path"),
            ("s3://AKIA:hunter2@bucket/x", "environment"),
        ] {
            let err = open(spec).unwrap_err();
            assert_eq!(err.exit_code(), crate::exit::USAGE, "{spec}: {err}");
            assert!(err.to_string().contains(says), "{spec}: {err}");
            assert!(!err.to_string().contains("hunter2"), "{err}");
        }
        let config = SnapshotConfig { endpoint: Some("http://minio:9000".into()), ..SnapshotConfig::default() };
        let err = Repository::open("s3://b/p", &config).unwrap_err();
        assert!(err.to_string().contains("allow_http"), "{err}");
    }

    #[test]
    fn store_errors_are_summarised_in_the_stores_own_words() {
        let xml = "Server returned non-2xx status code: 403 Forbidden: <?xml version=\"1.0\"?>\n<Error><Code>InvalidAccessKeyId</Code><Message>The key does not exist.</Message></Error>";
        assert_eq!(summary(xml), "InvalidAccessKeyId: The key does not exist.");
        assert_eq!(summary("connection refused\nmore"), "connection refused");
    }
}
