//! A thin client for Chroma's HTTP API v2 (v1 answers 410 on Chroma ≥ 1.0).
//!
//! Collections are addressed by name for get/delete and by UUID everywhere else (SERVERS.md).

use std::time::Duration;

use serde::Deserialize;
use serde_json::json;

use super::http::{self, Answer, HttpError};

const EXPECTED: &str = "a Chroma v2 API";

#[derive(Debug, Clone)]
pub struct ChromaClient {
    http: reqwest::Client,
    /// The token header and CA of a Chroma behind an authenticating proxy.
    access: std::sync::Arc<http::Access>,
    base: String,
    tenant: String,
    database: String,
    timeout: Duration,
}

/// A collection as the server describes it (the fields ifctl uses).
#[derive(Debug, Clone, Deserialize)]
pub struct Collection {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub dimension: Option<u32>,
    #[serde(default)]
    pub metadata: Option<serde_json::Map<String, serde_json::Value>>,
    #[serde(default)]
    pub configuration_json: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Deserialize)]
struct ErrorBody {
    error: String,
    message: String,
}

impl ChromaClient {
    pub fn new(http: reqwest::Client, url: &str, tenant: &str, database: &str, timeout: Duration) -> ChromaClient {
        ChromaClient {
            http,
            access: Default::default(),
            base: url.trim_end_matches('/').to_string(),
            tenant: tenant.to_string(),
            database: database.to_string(),
            timeout,
        }
    }

    /// A client for bulk work (snapshots, migrations, rebuilds): 5 s to connect, up to 5 minutes
    /// per request.
    pub fn bulk(config: &crate::config::Config) -> ChromaClient {
        let token = crate::config::Secret::lookup(
            &crate::config::ProcessEnv,
            &config.chromadb.token_env,
            config.chromadb.token_file.as_deref(),
        );
        ChromaClient::configured(&config.chromadb, &token, Duration::from_secs(5), Duration::from_secs(300))
    }

    /// A client as `config` says: its URL and scope, its CA, and the token (sent as
    /// `chromadb.token_header`) when there is one. A token or CA that cannot be used makes every
    /// request fail with why ([`HttpError::Setup`]).
    pub fn configured(
        config: &crate::config::ChromaConfig,
        token: &Result<Option<crate::config::Secret>, String>,
        connect: Duration,
        timeout: Duration,
    ) -> ChromaClient {
        let credential = match token {
            Ok(Some(token)) => Some(config.token_header.header(token.expose())),
            _ => None,
        };
        let mut access = http::Access::new(config.ca_file.as_deref(), "chromadb.ca_file", credential);
        if let Err(e) = token {
            access = http::Access::failed(e.clone());
        }
        let client = access.client(connect, timeout);
        ChromaClient {
            access: std::sync::Arc::new(access),
            ..ChromaClient::new(client, &config.url, &config.tenant, &config.database, timeout)
        }
    }

    pub fn database(&self) -> &str {
        &self.database
    }

    /// The same server, with its own connections and a deadline of `timeout`: for a thread with
    /// a runtime of its own (pooled connections belong to the runtime that opened them).
    pub fn detached(&self, timeout: Duration) -> ChromaClient {
        ChromaClient { http: self.access.client(timeout, timeout), timeout, ..self.clone() }
    }

    /// The same server and tenant, another database.
    pub fn in_database(&self, database: &str) -> ChromaClient {
        ChromaClient { database: database.to_string(), ..self.clone() }
    }

    /// Creates this client's database in its tenant; one that exists already is fine.
    pub async fn create_database(&self) -> Result<(), HttpError> {
        let url = format!("{}/api/v2/tenants/{}/databases", self.base, self.tenant);
        let answer = self.post(&url, &json!({"name": self.database})).await?;
        match self.decode::<serde_json::Value>(&url, answer) {
            Ok(_) => Ok(()),
            Err(HttpError::Status { status: 409, .. }) => Ok(()),
            Err(HttpError::Status { message, .. }) if message.contains("already exists") => Ok(()),
            Err(e) => Err(e),
        }
    }

    fn scoped(&self, rest: &str) -> String {
        format!("{}/api/v2/tenants/{}/databases/{}{rest}", self.base, self.tenant, self.database)
    }

    async fn get(&self, url: &str) -> Result<Answer, HttpError> {
        self.send(self.http.get(url), url).await
    }

    async fn post(&self, url: &str, body: &serde_json::Value) -> Result<Answer, HttpError> {
        self.send(self.http.post(url).json(body), url).await
    }

    /// Every request goes out here, with the configured credential.
    async fn send(&self, request: reqwest::RequestBuilder, url: &str) -> Result<Answer, HttpError> {
        http::send(self.access.apply(request)?, url, self.timeout).await
    }

    /// Decodes a 2xx JSON answer, or turns anything else into the right error.
    fn decode<T: serde::de::DeserializeOwned>(&self, url: &str, answer: Answer) -> Result<T, HttpError> {
        // A proxy's refusal is often an HTML page: it is still a refusal, not another service.
        if matches!(answer.status, 401 | 403) {
            return Err(HttpError::Status {
                url: url.to_string(),
                status: answer.status,
                kind: None,
                message: if answer.status == 401 { "unauthorized" } else { "forbidden" }.to_string(),
            });
        }
        if answer.is_html() {
            return Err(HttpError::WrongService {
                url: url.to_string(),
                expected: EXPECTED,
                detail: "it answers with an HTML page".into(),
            });
        }
        if !(200..300).contains(&answer.status) {
            return Err(match serde_json::from_slice::<ErrorBody>(&answer.body) {
                Ok(body) => HttpError::Status {
                    url: url.to_string(),
                    status: answer.status,
                    kind: Some(body.error),
                    message: body.message,
                },
                Err(_) => HttpError::Status {
                    url: url.to_string(),
                    status: answer.status,
                    kind: None,
                    message: String::from_utf8_lossy(&answer.body[..answer.body.len().min(200)]).trim().to_string(),
                },
            });
        }
        serde_json::from_slice(&answer.body)
            .map_err(|e| HttpError::Decode { url: url.to_string(), detail: e.to_string() })
    }

    /// `GET /api/v2/heartbeat`: the server's clock in nanoseconds. Also the test that this URL is
    /// Chroma at all: HTML, 404 and v1's 410 come back as [`HttpError::WrongService`].
    pub async fn heartbeat(&self) -> Result<u128, HttpError> {
        let url = format!("{}/api/v2/heartbeat", self.base);
        let answer = self.get(&url).await?;
        let wrong = |detail: String| HttpError::WrongService { url: url.clone(), expected: EXPECTED, detail };
        match answer.status {
            404 => return Err(wrong("it answers 404 Not Found for the v2 heartbeat".into())),
            410 => {
                return Err(wrong(format!(
                    "it answers 410 Gone ({})",
                    String::from_utf8_lossy(&answer.body[..answer.body.len().min(120)]).trim()
                )));
            }
            _ => {}
        }
        let body: serde_json::Value = self.decode(&url, answer).map_err(|e| match e {
            HttpError::Decode { detail, .. } => wrong(format!("its answer is not JSON ({detail})")),
            other => other,
        })?;
        body.get("nanosecond heartbeat")
            .and_then(|v| v.as_u64().map(u128::from).or_else(|| v.as_f64().map(|f| f as u128)))
            .ok_or_else(|| wrong(format!("its heartbeat answer has no `nanosecond heartbeat` field: {body}")))
    }

    /// `GET /api/v2/version`: a bare JSON string (1.5.9 says "1.0.0").
    pub async fn version(&self) -> Result<String, HttpError> {
        let url = format!("{}/api/v2/version", self.base);
        let answer = self.get(&url).await?;
        self.decode(&url, answer)
    }

    /// A collection by name; `Ok(None)` when it does not exist.
    pub async fn collection(&self, name: &str) -> Result<Option<Collection>, HttpError> {
        let url = self.scoped(&format!("/collections/{name}"));
        let answer = self.get(&url).await?;
        match self.decode::<Collection>(&url, answer) {
            Ok(collection) => Ok(Some(collection)),
            Err(HttpError::Status { status: 404, kind: Some(kind), message, .. })
                if kind == "NotFoundError" && message.starts_with("Collection") =>
            {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// The number of records in a collection (by UUID).
    pub async fn count(&self, collection_id: &str) -> Result<u64, HttpError> {
        let url = self.scoped(&format!("/collections/{collection_id}/count"));
        let answer = self.get(&url).await?;
        self.decode(&url, answer)
    }

    /// A nearest-neighbour query with one embedding; returns the ids found.
    pub async fn query_ids(
        &self,
        collection_id: &str,
        embedding: &[f32],
        n_results: u32,
    ) -> Result<Vec<String>, HttpError> {
        let url = self.scoped(&format!("/collections/{collection_id}/query"));
        let body = json!({"query_embeddings": [embedding], "n_results": n_results, "include": ["distances"]});
        let answer = self.post(&url, &body).await?;
        #[derive(Deserialize)]
        struct QueryIds {
            ids: Vec<Vec<String>>,
        }
        let found: QueryIds = self.decode(&url, answer)?;
        Ok(found.ids.into_iter().next().unwrap_or_default())
    }

    /// Every collection of the tenant/database, paging through the list.
    pub async fn list_collections(&self) -> Result<Vec<Collection>, HttpError> {
        let mut all = Vec::new();
        let page = 100;
        loop {
            let url = self.scoped(&format!("/collections?limit={page}&offset={}", all.len()));
            let answer = self.get(&url).await?;
            let batch: Vec<Collection> = self.decode(&url, answer)?;
            let done = batch.len() < page;
            all.extend(batch);
            if done {
                return Ok(all);
            }
        }
    }

    /// Creates a collection with the given configuration (e.g. `{"hnsw": {...}}`) and metadata.
    pub async fn create_collection(
        &self,
        name: &str,
        metadata: Option<&serde_json::Map<String, serde_json::Value>>,
        configuration: Option<&serde_json::Value>,
    ) -> Result<Collection, HttpError> {
        let url = self.scoped("/collections");
        let mut body = json!({"name": name});
        if let Some(metadata) = metadata.filter(|m| !m.is_empty()) {
            body["metadata"] = serde_json::Value::Object(metadata.clone());
        }
        if let Some(configuration) = configuration {
            body["configuration"] = configuration.clone();
        }
        let answer = self.post(&url, &body).await?;
        self.decode(&url, answer)
    }

    /// Deletes a collection by name.
    pub async fn delete_collection(&self, name: &str) -> Result<(), HttpError> {
        let url = self.scoped(&format!("/collections/{name}"));
        let answer = self.send(self.http.delete(&url), &url).await?;
        self.decode::<serde_json::Value>(&url, answer).map(|_| ())
    }

    /// Renames a collection (by UUID). Chroma answers 500 when the new name is taken.
    pub async fn rename_collection(&self, collection_id: &str, new_name: &str) -> Result<(), HttpError> {
        let url = self.scoped(&format!("/collections/{collection_id}"));
        let body = json!({"new_name": new_name});
        let answer = self.send(self.http.put(&url).json(&body), &url).await?;
        self.decode::<serde_json::Value>(&url, answer).map(|_| ())
    }

    /// Replaces a collection's metadata (by UUID); last write wins.
    pub async fn update_metadata(
        &self,
        collection_id: &str,
        metadata: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<(), HttpError> {
        let url = self.scoped(&format!("/collections/{collection_id}"));
        let body = json!({"new_metadata": metadata});
        let answer = self.send(self.http.put(&url).json(&body), &url).await?;
        self.decode::<serde_json::Value>(&url, answer).map(|_| ())
    }

    /// Every record id of a collection, in storage order, fetched in pages (see [`IdPages`]).
    pub async fn all_ids(&self, collection_id: &str) -> Result<Vec<String>, HttpError> {
        let mut pages = IdPages::new(collection_id, ID_PAGE);
        let mut all = Vec::new();
        while let Some(page) = pages.next(self).await? {
            all.extend(page);
        }
        Ok(all)
    }

    /// Up to `limit` record ids from position `offset` in storage order.
    pub async fn ids_page(&self, collection_id: &str, offset: u64, limit: usize) -> Result<Vec<String>, HttpError> {
        let url = self.scoped(&format!("/collections/{collection_id}/get"));
        let answer = self.post(&url, &json!({"include": [], "limit": limit, "offset": offset})).await?;
        #[derive(Deserialize)]
        struct Ids {
            ids: Vec<String>,
        }
        Ok(self.decode::<Ids>(&url, answer)?.ids)
    }

    /// The raw JSON answer of `get` for these ids with embeddings, documents, metadatas and uris.
    /// Parsing is left to the caller so it can happen off the network path.
    pub async fn get_records_raw(&self, collection_id: &str, ids: &[String]) -> Result<Vec<u8>, HttpError> {
        self.get_raw(collection_id, ids, &["embeddings", "documents", "metadatas", "uris"]).await
    }

    /// The raw JSON answer of `get` for these ids with the given `include` list.
    pub async fn get_raw(&self, collection_id: &str, ids: &[String], include: &[&str]) -> Result<Vec<u8>, HttpError> {
        let url = self.scoped(&format!("/collections/{collection_id}/get"));
        let body = json!({"ids": ids, "include": include});
        let answer = self.post(&url, &body).await?;
        if !(200..300).contains(&answer.status) || answer.is_html() {
            return Err(self
                .decode::<serde_json::Value>(&url, answer)
                .err()
                .unwrap_or(HttpError::Decode { url, detail: "unexpected answer".into() }));
        }
        Ok(answer.body)
    }

    /// Adds records; `body` is a ready JSON document (`ids`, `embeddings`, …).
    pub async fn add_raw(&self, collection_id: &str, body: Vec<u8>) -> Result<(), HttpError> {
        let url = self.scoped(&format!("/collections/{collection_id}/add"));
        let request = self.http.post(&url).header(reqwest::header::CONTENT_TYPE, "application/json").body(body);
        let answer = self.send(request, &url).await?;
        self.decode::<serde_json::Value>(&url, answer).map(|_| ())
    }

    /// Adds or replaces records; `body` as for [`ChromaClient::add_raw`].
    pub async fn upsert_raw(&self, collection_id: &str, body: Vec<u8>) -> Result<(), HttpError> {
        let url = self.scoped(&format!("/collections/{collection_id}/upsert"));
        let request = self.http.post(&url).header(reqwest::header::CONTENT_TYPE, "application/json").body(body);
        let answer = self.send(request, &url).await?;
        self.decode::<serde_json::Value>(&url, answer).map(|_| ())
    }

    /// Deletes records by id (ids that do not exist are ignored by the server).
    pub async fn delete_ids(&self, collection_id: &str, ids: &[String]) -> Result<(), HttpError> {
        let url = self.scoped(&format!("/collections/{collection_id}/delete"));
        let answer = self.post(&url, &json!({"ids": ids})).await?;
        self.decode::<serde_json::Value>(&url, answer).map(|_| ())
    }

    /// Nearest-neighbour ids for several query embeddings at once.
    pub async fn query_many(
        &self,
        collection_id: &str,
        embeddings: &[Vec<f32>],
        n_results: u32,
    ) -> Result<Vec<Vec<String>>, HttpError> {
        let url = self.scoped(&format!("/collections/{collection_id}/query"));
        let body = json!({"query_embeddings": embeddings, "n_results": n_results, "include": ["distances"]});
        let answer = self.post(&url, &body).await?;
        #[derive(Deserialize)]
        struct QueryIds {
            ids: Vec<Vec<String>>,
        }
        Ok(self.decode::<QueryIds>(&url, answer)?.ids)
    }
}

/// Ids per page when walking a collection.
pub const ID_PAGE: usize = 5000;

/// Most relocations one walk makes before it gives up on a collection that keeps shrinking.
const MAX_RELOCATIONS: usize = 1000;

/// Walks the ids of a collection page by page in storage order, so memory is bounded by the page
/// and not by the collection.
///
/// Storage order is insertion order and stays stable across pages (SERVERS.md); rows added during
/// the walk go to the end and are seen, but a row deleted *before* the current position shifts
/// every later row one place left, so plain offset paging would skip a row that was never
/// touched. Each page therefore re-reads the last id of the page before: when it is not where it
/// was, the walk looks back for the newest id of that page still present and carries on right
/// after it. Every id present from the start to the end of the walk is returned once; rows
/// deleted or added meanwhile may or may not be.
#[derive(Debug)]
pub struct IdPages {
    collection_id: String,
    page: usize,
    /// Where the next unseen id should be.
    offset: u64,
    /// The ids of the page returned last, in order.
    last: Vec<String>,
    done: bool,
    relocations: usize,
}

impl IdPages {
    pub fn new(collection_id: &str, page: usize) -> IdPages {
        IdPages {
            collection_id: collection_id.to_string(),
            page: page.max(1),
            offset: 0,
            last: Vec::new(),
            done: false,
            relocations: 0,
        }
    }

    /// The next page of ids; `None` when the walk is done.
    pub async fn next(&mut self, chroma: &ChromaClient) -> Result<Option<Vec<String>>, HttpError> {
        while !self.done {
            let Some(anchor) = self.last.last().cloned() else {
                let ids = chroma.ids_page(&self.collection_id, 0, self.page).await?;
                return Ok(self.advance(ids));
            };
            // Re-read the anchor (the last id returned) in front of the page.
            let mut ids = chroma.ids_page(&self.collection_id, self.offset - 1, self.page + 1).await?;
            if ids.first() == Some(&anchor) {
                ids.remove(0);
                return Ok(self.advance(ids));
            }
            self.relocate(chroma).await?;
        }
        Ok(None)
    }

    /// Takes a page in; a short page ends the walk. An empty page is not returned.
    fn advance(&mut self, ids: Vec<String>) -> Option<Vec<String>> {
        self.done = ids.len() < self.page;
        self.offset += ids.len() as u64;
        if ids.is_empty() {
            return None;
        }
        self.last.clone_from(&ids);
        Some(ids)
    }

    /// Rows before `offset` were deleted: finds the newest id of the last page still present
    /// (at or before its old place, as rows only move left) and puts the anchor there.
    async fn relocate(&mut self, chroma: &ChromaClient) -> Result<(), HttpError> {
        self.relocations += 1;
        if self.relocations > MAX_RELOCATIONS {
            return Err(HttpError::Changing {
                detail: format!(
                    "collection {} kept losing rows while it was read ({MAX_RELOCATIONS} times); pause the writers that delete and try again",
                    self.collection_id
                ),
            });
        }
        let wanted: std::collections::HashMap<&str, usize> =
            self.last.iter().enumerate().map(|(i, id)| (id.as_str(), i)).collect();
        let mut end = self.offset;
        while end > 0 {
            let start = end.saturating_sub(self.page as u64);
            let window = chroma.ids_page(&self.collection_id, start, (end - start) as usize).await?;
            let found = window
                .iter()
                .enumerate()
                .filter_map(|(at, id)| wanted.get(id.as_str()).map(|&rank| (rank, at)))
                .max_by_key(|&(rank, _)| rank);
            if let Some((rank, at)) = found {
                self.last.truncate(rank + 1);
                self.offset = start + at as u64 + 1;
                return Ok(());
            }
            end = start;
        }
        // The whole last page is gone: nothing marks the place any more.
        Err(HttpError::Changing {
            detail: format!(
                "every row of a page of collection {} was deleted while it was read, so the read cannot tell where it was; try again",
                self.collection_id
            ),
        })
    }
}
