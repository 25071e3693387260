//! Running the probes: one per component, concurrently, each under its own deadline.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::clients::chroma::ChromaClient;
use crate::clients::openwebui::OpenWebUiClient;
use crate::config::{Component, Config, Environment, Secret};

use super::{ComponentReport, HealthReport, Problem, Status, apply_dependencies};

/// Secrets the probes may need, read once from the environment or secret files.
#[derive(Debug, Clone)]
pub struct Secrets {
    pub redis_password: Result<Option<Secret>, String>,
    pub chroma_token: Result<Option<Secret>, String>,
    pub openwebui_api_key: Result<Option<Secret>, String>,
    pub openwebui_token: Result<Option<Secret>, String>,
    pub openwebui_email: Option<Secret>,
    pub openwebui_password: Result<Option<Secret>, String>,
}

impl Secrets {
    pub fn from_env(config: &Config, env: &dyn Environment) -> Secrets {
        let token_file = config.openwebui.token_file.clone().or_else(|| {
            // A token stored by `recover --strategy token_refresh` is used when none is configured.
            let stored = config.target_dir().join("openwebui.token");
            stored.exists().then_some(stored)
        });
        Secrets {
            redis_password: Secret::lookup(env, &config.redis.password_env, config.redis.password_file.as_deref()),
            chroma_token: Secret::lookup(env, &config.chromadb.token_env, config.chromadb.token_file.as_deref()),
            openwebui_api_key: Secret::lookup(
                env,
                &config.openwebui.api_key_env,
                config.openwebui.api_key_file.as_deref(),
            ),
            openwebui_token: Secret::lookup(env, &config.openwebui.token_env, token_file.as_deref()),
            openwebui_email: env.var(&config.openwebui.email_env).map(Secret::new),
            openwebui_password: Secret::lookup(
                env,
                &config.openwebui.password_env,
                config.openwebui.password_file.as_deref(),
            ),
        }
    }
}

/// Which components to check and the deadline of each probe.
#[derive(Debug, Clone)]
pub struct CheckOptions {
    pub components: Vec<Component>,
    pub timeout: Duration,
}

/// Everything needed to probe the stack, built once and reused by `watch` and `serve` so HTTP
/// connections and an OpenWebUI session survive between rounds.
pub struct Probes {
    pub config: Config,
    pub(super) secrets: Secrets,
    pub(super) timeout: Duration,
    pub(super) chroma: ChromaClient,
    pub(super) openwebui: OpenWebUiClient,
    /// A token obtained by signing in, kept for the next rounds.
    pub(super) session_token: tokio::sync::Mutex<Option<Secret>>,
    /// Since when a system reading has been running (a hung `statvfs` never returns: the next
    /// rounds report it instead of leaving one more thread behind each).
    system_reading: Arc<Mutex<Option<Instant>>>,
}

impl Probes {
    pub fn new(config: &Config, secrets: Secrets, timeout: Duration) -> Probes {
        let chroma = ChromaClient::configured(&config.chromadb, &secrets.chroma_token, timeout, timeout);
        let openwebui = OpenWebUiClient::configured(&config.openwebui, timeout);
        Probes {
            config: config.clone(),
            secrets,
            timeout,
            chroma,
            openwebui,
            session_token: tokio::sync::Mutex::new(None),
            system_reading: Arc::new(Mutex::new(None)),
        }
    }

    /// Probes one component; never takes longer than the deadline.
    pub async fn probe(&self, component: Component) -> ComponentReport {
        let started = Instant::now();
        let mut report = ComponentReport::new(component, self.config.critical(component));
        if component == Component::System {
            // `statvfs` on a hung mount blocks its thread for good: off the async threads, so the
            // deadline holds and nothing else waits.
            let hint = "check the mounts (`findmnt`; `df` hangs on the bad one) and their servers";
            let running = *self.system_reading.lock().expect("system reading lock");
            if let Some(since) = running {
                report.finding(
                    Status::Unhealthy,
                    Problem::Timeout,
                    format!(
                        "reading disk and memory use has not returned for {:.0}s: a path in `system.disk_paths` is on a mount whose server stopped answering",
                        since.elapsed().as_secs_f64()
                    ),
                    Some(hint.into()),
                );
                report.latency_ms = started.elapsed().as_secs_f64() * 1000.0;
                return report;
            }
            *self.system_reading.lock().expect("system reading lock") = Some(started);
            let (config, blank, reading) = (self.config.clone(), report.clone(), self.system_reading.clone());
            let read = crate::offload::run("reading disk and memory use", self.timeout, move || {
                let mut report = blank;
                super::system::probe(&config, &mut report);
                *reading.lock().expect("system reading lock") = None;
                report
            });
            match read.await {
                Ok(read) => report = read,
                Err(stalled) => report.finding(
                    Status::Unhealthy,
                    Problem::Timeout,
                    format!(
                        "{stalled}: a path in `system.disk_paths` may be on a mount whose server stopped answering"
                    ),
                    Some(hint.into()),
                ),
            }
            report.latency_ms = started.elapsed().as_secs_f64() * 1000.0;
            return report;
        }
        let work = async {
            match component {
                Component::Redis => super::redis::probe(self, &mut report).await,
                Component::Chromadb => super::chroma::probe(self, &mut report).await,
                Component::Openwebui => super::openwebui::probe(self, &mut report).await,
                Component::System => unreachable!("probed above"),
            }
        };
        // The opt-in streaming probe waits for a model, not for OpenWebUI: its own time on top.
        let streaming = &self.config.openwebui.first_token_probe;
        let deadline = if component == Component::Openwebui && streaming.model.is_some() {
            self.timeout + streaming.timeout
        } else {
            self.timeout
        };
        let timed_out = tokio::time::timeout(deadline, work).await.is_err();
        if timed_out {
            report.finding(
                Status::Unhealthy,
                Problem::Timeout,
                format!(
                    "no answer within {} (the server accepts connections but does not respond: hung, stopped or overloaded)",
                    humantime::format_duration(deadline)
                ),
                Some(format!("check the {component} process (is it stopped or stuck?) and its logs")),
            );
        }
        report.latency_ms = started.elapsed().as_secs_f64() * 1000.0;
        report
    }

    /// Probes the given components concurrently and rolls the results up.
    pub async fn check(&self, components: &[Component]) -> HealthReport {
        let started = Instant::now();
        let checked_at = crate::journal::now();
        let mut reports = futures_util::future::join_all(components.iter().map(|c| self.probe(*c))).await;
        apply_dependencies(&mut reports, &self.dependencies());
        HealthReport::new(reports, checked_at, started.elapsed().as_secs_f64() * 1000.0)
    }

    pub fn dependencies(&self) -> BTreeMap<Component, Vec<Component>> {
        BTreeMap::from([(Component::Openwebui, self.config.openwebui.depends_on.clone())])
    }
}

impl Probes {
    pub fn critical(&self, component: Component) -> bool {
        self.config.critical(component)
    }
}
