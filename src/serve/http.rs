//! serve's HTTP endpoints. Handlers only read the shared state; none waits on a probe.

use std::fmt::Write;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::health::{Status, render};

use super::{Shared, StatusDoc};

/// `loopback`: listening on loopback only; `insecure`: `/status` open beyond it without a token.
pub fn router(shared: Arc<Shared>, loopback: bool, insecure: bool) -> Router {
    Router::new()
        .route("/livez", get(livez))
        .route("/health", get(livez))
        .route("/readyz", get(readyz))
        .route("/ready", get(readyz))
        .route("/status", get(move |state, headers| status(state, headers, loopback || insecure)))
        .route("/metrics", get(metrics))
        .with_state(shared)
}

/// 200 while every loop shows signs of life; 503 naming the stuck ones, so a supervisor restarts us.
async fn livez(State(shared): State<Arc<Shared>>) -> Response {
    let stuck = shared.stuck();
    if stuck.is_empty() {
        return "ok\n".into_response();
    }
    let text: Vec<String> = stuck
        .iter()
        .map(|(c, silent)| format!("the {c} loop is stuck (silent for {:.0}s)", silent.as_secs_f64()))
        .collect();
    (StatusCode::SERVICE_UNAVAILABLE, format!("{}\n", text.join("; "))).into_response()
}

async fn readyz(State(shared): State<Arc<Shared>>) -> Response {
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
    let code = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    let unhealthy: Vec<String> = report
        .components
        .iter()
        .filter(|c| c.critical && matches!(c.status, Status::Unhealthy | Status::Unknown))
        .map(|c| c.component.to_string())
        .collect();
    (code, axum::Json(serde_json::json!({"ready": ready, "status": report.status, "unhealthy": unhealthy, "not_checked_yet": waiting, "stale": stale})))
        .into_response()
}

async fn status(State(shared): State<Arc<Shared>>, headers: HeaderMap, open: bool) -> Response {
    let config = shared.config();
    if !open {
        // Fail closed: without a configured token nobody gets /status beyond loopback.
        let token = std::env::var(&config.serve.status_token_env).ok().filter(|t| !t.is_empty());
        let sent =
            headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
        if token.is_none() || sent != token.as_deref() {
            return (StatusCode::UNAUTHORIZED, "a bearer token is required for /status\n").into_response();
        }
    }
    let report = shared.report();
    let pending = crate::offload::recovery_state(&shared.journal, &config)
        .await
        .map(|st| st.pending().into_iter().cloned().collect())
        .unwrap_or_default();
    let doc = StatusDoc {
        status: report.status,
        version: env!("CARGO_PKG_VERSION"),
        started_at: shared.started_at,
        interval_s: config.health.interval.as_secs_f64(),
        auto_recover: config.serve.auto_recover,
        components: report.components,
        pending_approvals: pending,
        checked_at: shared.checked_at.read().expect("lock").clone(),
    };
    let mut doc = serde_json::to_value(doc).expect("status serializes");
    crate::config::redact_json(&mut doc);
    axum::Json(doc).into_response()
}

async fn metrics(State(shared): State<Arc<Shared>>) -> Response {
    // The snapshot listing and /proc reads are file I/O: off the HTTP threads.
    let limit = crate::offload::JOURNAL_DEADLINE;
    match crate::offload::run("rendering /metrics", limit, move || render_metrics(&shared)).await {
        Ok(out) => ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], out).into_response(),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, format!("{e}\n")).into_response(),
    }
}

fn render_metrics(shared: &Shared) -> String {
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
    let _ = writeln!(out, "# HELP ifctl_build_info ifctl's version.");
    let _ = writeln!(out, "# TYPE ifctl_build_info gauge");
    let _ = writeln!(out, "ifctl_build_info{{version=\"{}\"}} 1", env!("CARGO_PKG_VERSION"));
    if let Some(head) = shared.journal.head() {
        // An anchor outside the journal file: Prometheus keeps its history (docs/journal.md).
        let _ = writeln!(out, "# HELP ifctl_journal_head_seq Sequence number of the audit journal's newest event.");
        let _ = writeln!(out, "# TYPE ifctl_journal_head_seq gauge");
        let _ = writeln!(out, "ifctl_journal_head_seq {}", head.seq);
        let _ = writeln!(out, "# HELP ifctl_journal_head_info Hash of the audit journal's newest event, as a label.");
        let _ = writeln!(out, "# TYPE ifctl_journal_head_info gauge");
        let _ = writeln!(out, "ifctl_journal_head_info{{seq=\"{}\",hash=\"{}\"}} 1", head.seq, head.hash);
    }
    let snapshots = crate::snapshot::list::list(&shared.config().snapshot_dir()).unwrap_or_default();
    if let Some(newest) = snapshots.iter().filter_map(|s| s.created_at).max() {
        let _ = writeln!(out, "# HELP ifctl_snapshot_newest_timestamp_seconds Creation time of the newest snapshot.");
        let _ = writeln!(out, "# TYPE ifctl_snapshot_newest_timestamp_seconds gauge");
        let _ = writeln!(out, "ifctl_snapshot_newest_timestamp_seconds {}", newest.timestamp());
    }
    super::process::metrics(&mut out, shared.started_at.timestamp_micros() as f64 / 1e6);
    crate::config::redact_userinfo(&out).into_owned()
}
