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

    // Tokens in order: the API key, the configured token, the one `token_refresh` stored (read
    // now, so a refresh helps this very process), this process's session, a fresh sign-in. A refused one is passed
    // over, and the report says so.
    let mut refused: Vec<String> = Vec::new();
    let mut source = 0;
    loop {
        let (what, token) = match next_token(probes, &mut source).await {
            Ok(Some(next)) => next,
            Ok(None) if refused.is_empty() => {
                report.detail(
                    "models",
                    format!(
                        "not checked: no API key, token or credentials (set {}, {}, or {} and {})",
                        config.api_key_env, config.token_env, config.email_env, config.password_env
                    ),
                );
                return;
            }
            Ok(None) => {
                report.finding(
                    Status::Degraded,
                    Problem::Auth,
                    format!("`/api/models` refused every token ifctl has ({})", refused.join("; ")),
                    Some(if refused.iter().any(|r| r.starts_with("the API key")) {
                        format!(
                            "an API key is refused when it is unknown (401), or when API keys are disabled or restricted on the server (403: ENABLE_API_KEYS, API_KEYS_ALLOWED_ENDPOINTS must allow /api/models): create one in Settings › Account and set {}",
                            config.api_key_env
                        )
                    } else {
                        format!(
                            "the token is invalid or expired: set a fresh one in {}, or set {} and {} so ifctl signs in (`ifctl recover -c openwebui --strategy token_refresh`)",
                            config.token_env, config.email_env, config.password_env
                        )
                    }),
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
                if let Some(model) = &config.first_token_probe.model {
                    first_token(probes, report, &token, model).await;
                }
                if !refused.is_empty() {
                    report.detail("auth_note", format!("{}; used {what}", refused.join("; ")));
                }
                return;
            }
            Err(HttpError::Status { status: 401 | 403, message, .. }) => {
                if what == "a session of this process" {
                    *probes.session_token.lock().await = None;
                }
                refused.push(format!("{what} was refused ({message})"));
            }
            Err(e) => return record_error(report, &config.url, &e),
        }
    }
}

/// The next token to try after `source` (advanced past it): see the order above.
async fn next_token(probes: &Probes, source: &mut u8) -> Result<Option<(&'static str, Secret)>, String> {
    let stored_path = probes.config.target_dir().join("openwebui.token");
    let configured = match &probes.secrets.openwebui_token {
        Ok(token) => token.clone(),
        Err(e) => return Err(e.clone()),
    };
    while *source < 5 {
        *source += 1;
        match *source {
            1 => {
                if let Some(key) = probes.secrets.openwebui_api_key.clone()? {
                    return Ok(Some(("the API key", key)));
                }
            }
            2 => {
                if let Some(token) = configured.clone() {
                    return Ok(Some(("the configured token", token)));
                }
            }
            3 => {
                let stored = std::fs::read_to_string(&stored_path).ok().map(|t| t.trim().to_string());
                if let Some(token) = stored.filter(|t| !t.is_empty()).map(Secret::new) {
                    if configured.as_ref() != Some(&token) {
                        return Ok(Some(("the token stored by token_refresh", token)));
                    }
                }
            }
            4 => {
                if let Some(token) = probes.session_token.lock().await.clone() {
                    return Ok(Some(("a session of this process", token)));
                }
            }
            _ => {
                let password = probes.secrets.openwebui_password.clone()?;
                let (Some(email), Some(password)) = (probes.secrets.openwebui_email.as_ref(), password) else {
                    continue;
                };
                let token = probes.openwebui.sign_in(email, &password).await.map_err(|e| e.to_string())?;
                *probes.session_token.lock().await = Some(token.clone());
                return Ok(Some(("a fresh sign-in", token)));
            }
        }
    }
    Ok(None)
}

/// The opt-in streaming probe: time to the first token and to the end, judged by their levels.
async fn first_token(probes: &Probes, report: &mut ComponentReport, token: &Secret, model: &str) {
    let probe = &probes.config.openwebui.first_token_probe;
    match probes.openwebui.stream_timing(token, model, &probe.prompt, probe.max_tokens, probe.timeout).await {
        Ok(timing) => {
            report.detail("first_token_model", model);
            report.detail("stream_tokens", timing.tokens);
            report.judge(
                Measure::new(
                    "openwebui_first_token_latency",
                    "Time to the first streamed token of a chat completion through OpenWebUI.",
                    timing.first_token.as_secs_f64() * 1000.0,
                    Unit::Milliseconds,
                )
                .levels(probe.first_token_ms),
                &format!("time to the first token of `{model}`"),
            );
            report.judge(
                Measure::new(
                    "openwebui_stream_total_latency",
                    "Time to the end of a streamed chat completion through OpenWebUI.",
                    timing.total.as_secs_f64() * 1000.0,
                    Unit::Milliseconds,
                )
                .levels(probe.total_ms),
                &format!("streamed completion of `{model}`"),
            );
        }
        // OpenWebUI answered; the model did not, in time: slow, not down.
        Err(HttpError::Timeout { after, .. }) => report.finding(
            Status::Degraded,
            Problem::Threshold,
            format!("no streamed completion from `{model}` within {}", humantime::format_duration(after)),
            Some("check the model's provider; openwebui.first_token_probe.timeout sets the wait".into()),
        ),
        Err(e) => report.finding(
            Status::Degraded,
            Problem::Error,
            format!("a streamed completion with `{model}` failed: {e}"),
            Some(
                "check the model's provider (OpenWebUI › Admin › Connections) and openwebui.first_token_probe.model"
                    .into(),
            ),
        ),
    }
}

fn record_error(report: &mut ComponentReport, url: &str, err: &HttpError) {
    let hints = HttpHints {
        unreachable: format!("is OpenWebUI running and listening at `{url}`?"),
        timeout: "OpenWebUI accepts connections but does not answer: is it stopped or overloaded?".into(),
        misconfigured: format!(
            "set `openwebui.url` (IFCTL_OPENWEBUI_URL) to OpenWebUI's root URL; `{url}` is some other service"
        ),
        auth: "OpenWebUI refused the credentials: give an API key (IFCTL_OPENWEBUI_API_KEY), a token \
               (IFCTL_OPENWEBUI_TOKEN), or IFCTL_OPENWEBUI_EMAIL + IFCTL_OPENWEBUI_PASSWORD"
            .into(),
        ca_key: "openwebui.ca_file",
    };
    http_finding(report, err, hints);
}
