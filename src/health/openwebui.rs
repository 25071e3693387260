//! OpenWebUI probe: `/health` always says true, so readiness (`/ready`, else `/health/db`) and an
//! authenticated `/api/models` call decide.

use std::time::Instant;

use crate::clients::http::HttpError;
use crate::clients::openwebui::Readiness;
use crate::config::Secret;

use super::{ComponentReport, HttpHints, Measure, Probes, Problem, Status, Unit, http_finding};

pub(super) async fn probe(probes: &Probes, report: &mut ComponentReport) {
    let config = &probes.config.openwebui;
    let client = &probes.openwebui;
    let started = Instant::now();
    match client.readiness().await {
        Ok(Readiness::Ready { endpoint }) => report.detail("ready_endpoint", endpoint),
        Ok(Readiness::NotReady { endpoint, detail }) => {
            report.finding(
                Status::Unhealthy,
                Problem::Error,
                format!("`{endpoint}` answers 503, not ready: {detail}"),
                Some("OpenWebUI is starting (migrations take about a minute) or its database is down".into()),
            );
            return;
        }
        Err(e) => return record_error(report, &config.url, &e),
    }
    let ready_ms = started.elapsed().as_secs_f64() * 1000.0;
    report.judge(
        Measure::new(
            "openwebui_ready_latency",
            "Round-trip time of OpenWebUI's readiness check.",
            ready_ms,
            Unit::Milliseconds,
        )
        .levels(probes.config.thresholds.openwebui.latency_ms),
        "readiness latency",
    );

    let token = match session_token(probes).await {
        Ok(Some(token)) => token,
        Ok(None) => {
            report.detail(
                "models",
                format!(
                    "not checked: no token or credentials (set {} or {} and {})",
                    config.token_env, config.email_env, config.password_env
                ),
            );
            return;
        }
        Err(e) => {
            report.finding(
                Status::Degraded,
                Problem::Auth,
                format!("cannot sign in to OpenWebUI: {e}"),
                Some(format!("check {} and {}", config.email_env, config.password_env)),
            );
            return;
        }
    };
    let started = Instant::now();
    match client.models(&token).await {
        Ok(models) => {
            let ms = started.elapsed().as_secs_f64() * 1000.0;
            report.measures.push(Measure::new(
                "openwebui_models_latency",
                "Round-trip time of an authenticated /api/models call.",
                ms,
                Unit::Milliseconds,
            ));
            report.measures.push(Measure::new(
                "openwebui_models",
                "Models OpenWebUI offers to users.",
                models.len() as f64,
                Unit::Count,
            ));
            report.detail("models", models);
        }
        Err(HttpError::Status { status: 401 | 403, message, .. }) => {
            *probes.session_token.lock().await = None;
            report.finding(
                Status::Degraded,
                Problem::Auth,
                format!("`/api/models` refused the token ({message})"),
                Some(format!(
                    "the token is invalid or expired: set a fresh one in {}, or set {} and {} so ifctl signs in",
                    config.token_env, config.email_env, config.password_env
                )),
            );
        }
        Err(e) => record_error(report, &config.url, &e),
    }
}

/// The configured token, else a session from signing in with the configured credentials.
async fn session_token(probes: &Probes) -> Result<Option<Secret>, String> {
    match &probes.secrets.openwebui_token {
        Ok(Some(token)) => return Ok(Some(token.clone())),
        Ok(None) => {}
        Err(e) => return Err(e.clone()),
    }
    let mut cached = probes.session_token.lock().await;
    if let Some(token) = cached.as_ref() {
        return Ok(Some(token.clone()));
    }
    let password = probes.secrets.openwebui_password.clone()?;
    let (Some(email), Some(password)) = (probes.secrets.openwebui_email.as_ref(), password) else {
        return Ok(None);
    };
    let token = probes.openwebui.sign_in(email, &password).await.map_err(|e| e.to_string())?;
    *cached = Some(token.clone());
    Ok(Some(token))
}

fn record_error(report: &mut ComponentReport, url: &str, err: &HttpError) {
    let hints = HttpHints {
        unreachable: format!("is OpenWebUI running and listening at `{url}`?"),
        timeout: "OpenWebUI accepts connections but does not answer: is it stopped or overloaded?".into(),
        misconfigured: format!(
            "set `openwebui.url` (IFCTL_OPENWEBUI_URL) to OpenWebUI's root URL; `{url}` is some other service"
        ),
    };
    http_finding(report, err, hints);
}
