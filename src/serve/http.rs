//! serve's HTTP endpoints. Handlers only read the shared state; none waits on a probe.

use std::fmt::Write;
use std::sync::Arc;

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::health::{Status, render};

use super::{Fleet, Shared, StatusDoc};

/// `loopback`: listening on loopback only; `insecure`: `/status` open beyond it without a token.
pub fn router(fleet: Arc<Fleet>, loopback: bool, insecure: bool) -> Router {
    Router::new()
        .route("/livez", get(livez))
        .route("/health", get(livez))
        .route("/readyz", get(readyz))
        .route("/ready", get(readyz))
        .route("/status", get(move |state, query, headers| status(state, query, headers, loopback || insecure)))
        .route("/metrics", get(metrics))
        .with_state(fleet)
}

/// `?target=NAME` on `/readyz` and `/status`.
struct TargetQuery {
    target: Option<String>,
}

impl TargetQuery {
    fn parse(RawQuery(raw): RawQuery) -> TargetQuery {
        let target = raw.as_deref().and_then(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .find(|(k, _)| k == "target")
                .map(|(_, v)| v.into_owned())
                .filter(|v| !v.is_empty())
        });
        TargetQuery { target }
    }
}

/// 200 while every loop shows signs of life; 503 naming the stuck ones, so a supervisor restarts us.
async fn livez(State(fleet): State<Arc<Fleet>>) -> Response {
    let mut text: Vec<String> = Vec::new();
    for shared in &fleet.members {
        let config = shared.config();
        for (c, silent) in shared.stuck() {
            let scope = if fleet.labelled { config.scoped(c) } else { c.to_string() };
            text.push(format!("the {scope} loop is stuck (silent for {:.0}s)", silent.as_secs_f64()));
        }
    }
    if text.is_empty() {
        return "ok\n".into_response();
    }
    (StatusCode::SERVICE_UNAVAILABLE, format!("{}\n", text.join("; "))).into_response()
}

/// One target's readiness: ready, and the document that explains it.
fn readiness(shared: &Shared) -> (bool, serde_json::Value) {
    let report = shared.report();
    // Not ready until every component has been checked once: the first round is not a verdict.
    let waiting: Vec<String> = crate::config::Component::ALL
        .iter()
        .filter(|c| !report.components.iter().any(|r| r.component == **c))
        .map(|c| c.to_string())
        .collect();
    // A result older than three intervals vouches for nothing: the loop is not keeping up.
    let stale: Vec<String> =
        shared.stale().iter().filter(|c| !waiting.contains(&c.to_string())).map(|c| c.to_string()).collect();
    let ready = matches!(report.status, Status::Healthy | Status::Degraded) && waiting.is_empty() && stale.is_empty();
    let unhealthy: Vec<String> = report
        .components
        .iter()
        .filter(|c| c.critical && matches!(c.status, Status::Unhealthy | Status::Unknown))
        .map(|c| c.component.to_string())
        .collect();
    let doc = serde_json::json!({"ready": ready, "status": report.status, "unhealthy": unhealthy, "not_checked_yet": waiting, "stale": stale});
    (ready, doc)
}

fn code(ready: bool) -> StatusCode {
    if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE }
}

/// The 404 for a `?target=` serve does not watch, naming the ones it does.
fn unknown_target(fleet: &Fleet, name: &str) -> Response {
    let known: Vec<String> = fleet.members.iter().map(|m| m.config().target_name().to_string()).collect();
    (StatusCode::NOT_FOUND, format!("no target `{name}` here; serve watches: {}\n", known.join(", "))).into_response()
}

/// Ready when every watched target is (`?target=NAME`: that one alone, as a load balancer in
/// front of one stack asks).
async fn readyz(State(fleet): State<Arc<Fleet>>, raw: RawQuery) -> Response {
    let query = TargetQuery::parse(raw);
    if let Some(name) = &query.target {
        let Some(shared) = fleet.member(name) else { return unknown_target(&fleet, name) };
        let (ready, mut doc) = readiness(shared);
        doc["target"] = serde_json::json!(name);
        return (code(ready), axum::Json(doc)).into_response();
    }
    if !fleet.labelled {
        let (ready, doc) = readiness(&fleet.members[0]);
        return (code(ready), axum::Json(doc)).into_response();
    }
    let mut all_ready = true;
    let mut worst = Status::Healthy;
    let mut targets = serde_json::Map::new();
    for shared in &fleet.members {
        let (ready, doc) = readiness(shared);
        all_ready &= ready;
        worst = worst.worst(shared.report().status);
        targets.insert(shared.config().target_name().to_string(), doc);
    }
    let not_ready: Vec<&String> = targets.iter().filter(|(_, d)| d["ready"] != true).map(|(n, _)| n).collect();
    let doc = serde_json::json!({"ready": all_ready, "status": worst, "not_ready": not_ready, "targets": targets});
    (code(all_ready), axum::Json(doc)).into_response()
}

async fn status(State(fleet): State<Arc<Fleet>>, raw: RawQuery, headers: HeaderMap, open: bool) -> Response {
    let query = TargetQuery::parse(raw);
    let config = fleet.members[0].config();
    if !open {
        // Fail closed: without a configured token nobody gets /status beyond loopback.
        let token = std::env::var(&config.serve.status_token_env).ok().filter(|t| !t.is_empty());
        let sent =
            headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
        if token.is_none() || sent != token.as_deref() {
            return (StatusCode::UNAUTHORIZED, "a bearer token is required for /status\n").into_response();
        }
    }
    let members: Vec<&Arc<Shared>> = match &query.target {
        Some(name) => match fleet.member(name) {
            Some(shared) => vec![shared],
            None => return unknown_target(&fleet, name),
        },
        None => fleet.members.iter().collect(),
    };
    let mut docs = Vec::new();
    for shared in &members {
        docs.push(status_doc(shared).await);
    }
    let mut doc = if fleet.labelled && query.target.is_none() {
        let worst = docs.iter().fold(Status::Healthy, |w, d| w.worst(d.status));
        let targets: Vec<serde_json::Value> = docs
            .into_iter()
            .zip(&members)
            .map(|(d, m)| {
                let mut v = serde_json::to_value(d).expect("status serializes");
                v["target"] = serde_json::json!(m.config().target_name());
                v
            })
            .collect();
        serde_json::json!({
            "status": worst,
            "version": env!("CARGO_PKG_VERSION"),
            "started_at": fleet.members[0].started_at,
            "targets": targets,
        })
    } else {
        let mut v = serde_json::to_value(docs.remove(0)).expect("status serializes");
        if let Some(target) = &members[0].config().target {
            v["target"] = serde_json::json!(target);
        }
        v
    };
    crate::config::redact_json(&mut doc);
    axum::Json(doc).into_response()
}

/// One target's `/status` document.
async fn status_doc(shared: &Shared) -> StatusDoc {
    let config = shared.config();
    let report = shared.report();
    let pending = crate::offload::recovery_state(&shared.journal, &config)
        .await
        .map(|st| st.pending().into_iter().cloned().collect())
        .unwrap_or_default();
    StatusDoc {
        status: report.status,
        version: env!("CARGO_PKG_VERSION"),
        started_at: shared.started_at,
        interval_s: config.health.interval.as_secs_f64(),
        auto_recover: config.serve.auto_recover,
        components: report.components,
        pending_approvals: pending,
        checked_at: shared.checked_at.read().expect("lock").clone(),
    }
}

async fn metrics(State(fleet): State<Arc<Fleet>>) -> Response {
    // The snapshot listing and /proc reads are file I/O: off the HTTP threads.
    let limit = crate::offload::JOURNAL_DEADLINE;
    match crate::offload::run("rendering /metrics", limit, move || render_metrics(&fleet)).await {
        Ok(out) => ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], out).into_response(),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, format!("{e}\n")).into_response(),
    }
}

/// Every target's metrics (labelled `target` when the config has targets), then serve's own.
fn render_metrics(fleet: &Fleet) -> String {
    let parts: Vec<(String, String)> =
        fleet.members.iter().map(|m| (m.config().target_name().to_string(), target_metrics(m))).collect();
    let mut out = if fleet.labelled {
        let parts: Vec<(&str, String)> = parts.iter().map(|(n, t)| (n.as_str(), t.clone())).collect();
        render::prometheus_fleet(&parts)
    } else {
        parts.into_iter().map(|(_, text)| text).collect()
    };
    let _ = writeln!(out, "# HELP ifctl_build_info ifctl's version.");
    let _ = writeln!(out, "# TYPE ifctl_build_info gauge");
    let _ = writeln!(out, "ifctl_build_info{{version=\"{}\"}} 1", env!("CARGO_PKG_VERSION"));
    if let Some(head) = fleet.journal.head() {
        // An anchor outside the journal file: Prometheus keeps its history (docs/journal.md).
        let _ = writeln!(out, "# HELP ifctl_journal_head_seq Sequence number of the audit journal's newest event.");
        let _ = writeln!(out, "# TYPE ifctl_journal_head_seq gauge");
        let _ = writeln!(out, "ifctl_journal_head_seq {}", head.seq);
        let _ = writeln!(out, "# HELP ifctl_journal_head_info Hash of the audit journal's newest event, as a label.");
        let _ = writeln!(out, "# TYPE ifctl_journal_head_info gauge");
        let _ = writeln!(out, "ifctl_journal_head_info{{seq=\"{}\",hash=\"{}\"}} 1", head.seq, head.hash);
    }
    super::process::metrics(&mut out, fleet.members[0].started_at.timestamp_micros() as f64 / 1e6);
    crate::config::redact_userinfo(&out).into_owned()
}

/// One target's part of `/metrics`: its report, serve's recovery attempts, its newest snapshot.
fn target_metrics(shared: &Shared) -> String {
    let report = shared.report();
    let mut out = render::prometheus(&report);
    let _ = writeln!(out, "# HELP ifctl_recovery_attempts_total Recovery attempts by serve since it started.");
    let _ = writeln!(out, "# TYPE ifctl_recovery_attempts_total counter");
    for ((component, strategy, result), n) in shared.attempts.lock().expect("attempts lock").iter() {
        let _ = writeln!(
            out,
            "ifctl_recovery_attempts_total{{component=\"{component}\",strategy=\"{strategy}\",result=\"{result}\"}} {n}"
        );
    }
    let snapshots = crate::snapshot::list::list(&shared.config().snapshot_dir()).unwrap_or_default();
    if let Some(newest) = snapshots.iter().filter_map(|s| s.created_at).max() {
        let _ = writeln!(out, "# HELP ifctl_snapshot_newest_timestamp_seconds Creation time of the newest snapshot.");
        let _ = writeln!(out, "# TYPE ifctl_snapshot_newest_timestamp_seconds gauge");
        let _ = writeln!(out, "ifctl_snapshot_newest_timestamp_seconds {}", newest.timestamp());
    }
    out
}
