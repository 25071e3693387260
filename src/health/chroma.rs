//! Chroma probe (v2 API): heartbeat, version, expected collections with counts, and a query
//! round-trip. A URL that answers but is not Chroma is reported as misconfigured, not as down.

use std::time::Instant;

use futures_util::future::join_all;

use crate::clients::http::HttpError;

use super::{ComponentReport, HttpHints, Measure, Probes, Problem, Status, Unit, http_finding};

pub(super) async fn probe(probes: &Probes, report: &mut ComponentReport) {
    let config = &probes.config.chromadb;
    let client = &probes.chroma;
    let started = Instant::now();
    let heartbeat = client.heartbeat().await;
    let heartbeat_ms = started.elapsed().as_secs_f64() * 1000.0;
    if let Err(e) = heartbeat {
        return record_error(report, &config.url, &e);
    }
    report.measures.push(Measure::new(
        "chromadb_heartbeat_latency",
        "Round-trip time of Chroma's heartbeat.",
        heartbeat_ms,
        Unit::Milliseconds,
    ));

    let (version, collections) = tokio::join!(
        client.version(),
        join_all(config.expected_collections.iter().map(|name| client.collection(name)))
    );
    match version {
        Ok(version) => report.detail("api_version", version),
        Err(e) => return record_error(report, &config.url, &e),
    }

    let mut present = Vec::new();
    let mut missing = Vec::new();
    for (name, found) in config.expected_collections.iter().zip(collections) {
        match found {
            Ok(Some(collection)) => present.push(collection),
            Ok(None) => missing.push(name.clone()),
            Err(HttpError::Status { status: 404, message, .. }) => {
                // Tenant or database missing: the whole scope is wrong, not one collection.
                report.finding(
                    Status::Unknown,
                    Problem::Misconfigured,
                    format!("Chroma says: {message}"),
                    Some("check `chromadb.tenant` and `chromadb.database`".into()),
                );
                return;
            }
            Err(e) => return record_error(report, &config.url, &e),
        }
    }

    let counts = join_all(present.iter().map(|c| client.count(&c.id))).await;
    let mut listed = Vec::new();
    for (collection, count) in present.iter().zip(counts) {
        let count = match count {
            Ok(count) => count,
            Err(e) => return record_error(report, &config.url, &e),
        };
        report.measures.push(
            Measure::new(
                "chromadb_collection_records",
                "Records in an expected Chroma collection.",
                count as f64,
                Unit::Count,
            )
            .label("collection", collection.name.clone()),
        );
        if count == 0 {
            report.finding(
                Status::Degraded,
                Problem::Data,
                format!("collection `{}` is empty", collection.name),
                Some("restore it from a snapshot if it should hold data".into()),
            );
        }
        listed.push(serde_json::json!({
            "name": collection.name, "id": collection.id, "present": true,
            "count": count, "dimension": collection.dimension,
        }));
    }
    for name in &missing {
        listed.push(serde_json::json!({"name": name, "present": false}));
    }
    report.detail("collections", listed);
    if !missing.is_empty() {
        report.finding(
            Status::Unhealthy,
            Problem::Data,
            format!("expected collection{} missing: {}", if missing.len() > 1 { "s" } else { "" }, missing.join(", ")),
            Some("restore from a snapshot, or fix `chromadb.expected_collections`".into()),
        );
    }

    // The query round-trip: the path a user's semantic search takes.
    let Some(target) = present.iter().find(|c| c.dimension.is_some_and(|d| d > 0)) else {
        report.detail("query", "skipped: no expected collection has embeddings yet");
        return;
    };
    let dimension = target.dimension.unwrap_or(1) as usize;
    let mut probe_vector = vec![0.0f32; dimension];
    probe_vector[0] = 1.0;
    let started = Instant::now();
    match client.query_ids(&target.id, &probe_vector, 1).await {
        Ok(_) => {
            let query_ms = started.elapsed().as_secs_f64() * 1000.0;
            report.detail("query_collection", &target.name);
            report.judge(
                Measure::new(
                    "chromadb_query_latency",
                    "Round-trip time of a one-vector nearest-neighbour query.",
                    query_ms,
                    Unit::Milliseconds,
                )
                .levels(probes.config.thresholds.chromadb.latency_ms),
                "query latency",
            );
        }
        Err(e) => report.finding(
            Status::Unhealthy,
            Problem::Error,
            format!("query on `{}` failed: {e}", target.name),
            Some("the index may be damaged: check the server log".into()),
        ),
    }
}

fn record_error(report: &mut ComponentReport, url: &str, err: &HttpError) {
    let v1 = matches!(err, HttpError::WrongService { detail, .. } if detail.contains("410")) || url.contains("/api/v1");
    let misconfigured = if v1 {
        format!(
            "`{url}` leads to Chroma's removed v1 API; set `chromadb.url` to the server root, e.g. http://127.0.0.1:8000"
        )
    } else {
        format!("set `chromadb.url` (IFCTL_CHROMADB_URL) to the Chroma server root; `{url}` is some other service")
    };
    let hints = HttpHints {
        unreachable: format!("is the Chroma server running and listening at `{url}`?"),
        timeout: "the server accepts connections but does not answer: is it stopped or overloaded?".into(),
        misconfigured,
        auth: "the server (or its proxy) wants a token: set it in IFCTL_CHROMADB_TOKEN (or chromadb.token_file); \
               it is sent as chromadb.token_header (`authorization`: Bearer, or `x-chroma-token`)"
            .into(),
        ca_key: "chromadb.ca_file",
    };
    http_finding(report, err, hints);
}
