//! `ifctl serve`: the long-running loop and its HTTP endpoints.

use std::sync::Arc;
use std::time::Duration;

use crate::cli::log::{LogFormat, StderrLog};
use crate::cli::{CliError, Context, Failure};
use crate::config::{Component, ProcessEnv};
use crate::exit;
use crate::health::Secrets;
use crate::journal::NewEvent;
use crate::serve::{Fleet, Log, Shared, TargetLog, http, journal_stop};

pub const AFTER_HELP: &str = concat!(
    "EXAMPLES:\n",
    "  ifctl serve\n",
    "  ifctl serve --listen 0.0.0.0:9109 --interval 10s --log-format json\n",
    "  curl -s localhost:9109/readyz; curl -s localhost:9109/metrics | promtool check metrics\n",
    "  curl -s 'localhost:9109/readyz?target=prod'   # one target of several\n",
    "\n",
    "Every component has its own loop on its own thread: probe every --interval (circuit breaker\n",
    "per component), journal status changes (not every tick), and when it is unhealthy walk one\n",
    "round of the escalation ladder by the same policy as `ifctl recover` (approvals queued once;\n",
    "back-off between rounds 5 s, 10 s, 20 s ... up to `cooldown_seconds`; at most\n",
    "`max_attempts_per_hour` real actions; `disable` windows respected; `serve.auto_recover =\n",
    "false` turns it off). Journal, locks and system calls run off the loops with deadlines.\n",
    "HTTP: /livez (/health) 503 when a loop is stuck (restart the process); /readyz (/ready) 200\n",
    "when the critical components are healthy or degraded, 503 naming what is unhealthy or whose\n",
    "result is older than three intervals; /status the full JSON state (beyond loopback it needs a\n",
    "bearer token from `serve.status_token_env`, and serve refuses to start there without one\n",
    "unless --insecure-status); /metrics Prometheus.\n",
    "SIGTERM/SIGINT stop within 5 s (a recovery still running is journaled as interrupted);\n",
    "SIGHUP reloads the config (a bad config is rejected and the old one kept).\n",
    "With `[targets.*]` in the config serve watches every target (--target or IFCTL_TARGET: only\n",
    "that one): loops per target and component, metrics labelled `target`, /status per target,\n",
    "/readyz?target=NAME and /status?target=NAME for one (404 naming the watched ones otherwise);\n",
    "a reload that adds or removes a target is rejected (restart serve).\n",
    "\n",
    "EXIT STATUS:\n",
    "  0    stopped by SIGTERM/SIGINT\n",
    "  1    the server failed\n",
    "  2    usage or configuration error (e.g. the address is in use)\n",
    "  6    another serve watches this stack or one of these targets (its pid is named)"
);

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on [default: serve.listen, 127.0.0.1:9109]
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<std::net::SocketAddr>,
    /// Time between checks of each component [default: health.interval, 5s]; a probe deadline
    /// (health.timeout) longer than this is shortened to it
    #[arg(long, value_parser = humantime::parse_duration, value_name = "DUR")]
    pub interval: Option<Duration>,
    /// Log lines on stderr as text or JSON
    #[arg(long, value_enum, default_value = "text")]
    pub log_format: LogFormat,
    /// Serve /status beyond loopback without a bearer token (it shows pending actions and reasons)
    #[arg(long)]
    pub insecure_status: bool,
}

pub fn run(ctx: &Context, args: ServeArgs) -> Result<u8, Failure> {
    let fleet = watched(ctx)?;
    let apply_flags = |mut config: crate::config::Config| {
        if let Some(listen) = args.listen {
            config.serve.listen = listen.to_string();
        }
        if let Some(interval) = args.interval.filter(|i| !i.is_zero()) {
            config.health.interval = interval;
            // A probe must end before the next is due: a shorter --interval shortens its deadline.
            config.health.timeout = config.health.timeout.min(interval);
        }
        config
    };
    let labelled = fleet.iter().any(|r| r.config.target.is_some());
    let first = fleet.first().expect("a fleet has a member");
    let config = apply_flags(first.config.clone());
    let addr: std::net::SocketAddr = config.serve.listen.parse().map_err(|_| CliError::usage("bad `serve.listen`"))?;
    if let Some(interval) =
        args.interval.filter(|i| *i < crate::config::MIN_INTERVAL || *i > Duration::from_secs(86_400))
    {
        return Err(CliError::usage(format!(
            "--interval {} is outside 250ms … 1day: shorter, a probe's deadline cannot tell slow from dead",
            humantime::format_duration(interval)
        ))
        .into());
    }
    let token_env = &config.serve.status_token_env;
    if !addr.ip().is_loopback()
        && !args.insecure_status
        && crate::config::Environment::var(&ProcessEnv, token_env).is_none()
    {
        return Err(CliError::usage(format!(
            "refusing to serve /status on {addr} without a token: `{token_env}` is not set"
        ))
        .hint(format!(
            "set one, e.g. `export {token_env}=$(openssl rand -hex 24)`, and send it as `Authorization: Bearer …`; or listen on 127.0.0.1; or pass --insecure-status"
        ))
        .into());
    }
    let process_journal = ctx.journal(first).with_target(None);
    // One serve per state dir, held until it exits.
    // One serve per stack, held until it exits: a serve of every target holds every target's.
    let mut _serve_locks = Vec::new();
    for resolved in &fleet {
        _serve_locks.push(crate::snapshot::lock::acquire_serve(
            process_journal.path(),
            resolved.config.target.as_deref(),
            &format!("ifctl serve on {addr}"),
        )?);
    }
    let log: Arc<dyn Log> = Arc::new(StderrLog {
        format: args.log_format,
        correlation_id: process_journal.correlation_id().to_string(),
        quiet: ctx.printer.quiet,
    });
    let members: Vec<Arc<Shared>> = fleet
        .iter()
        .map(|resolved| {
            let config = apply_flags(resolved.config.clone());
            let secrets = Secrets::from_env(&config, &ProcessEnv);
            // One correlation id for the whole serve: its events read as one run.
            let journal = process_journal.clone().with_target(config.target.clone());
            Shared::new(config, secrets, journal)
        })
        .collect();
    let fleet = Arc::new(Fleet { members, labelled, journal: process_journal });
    let runtime = crate::cli::runtime();
    let local = tokio::task::LocalSet::new();
    let outcome = local.block_on(&runtime, async move {
        let listener = std::net::TcpListener::bind(addr).map_err(|e| {
            CliError::usage(format!("cannot listen on {addr}: {e}"))
                .hint("pass --listen ADDR, or stop what holds the port")
        })?;
        listener.set_nonblocking(true).map_err(|e| CliError::failed(e.to_string()))?;
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let targets: Vec<String> = fleet.members.iter().filter_map(|m| m.config().target.clone()).collect();
        fleet.journal.append(NewEvent::new("serve.started", "started").details(serde_json::json!({
            "listen": addr.to_string(), "interval_s": config.health.interval.as_secs_f64(), "targets": targets,
        })))?;
        let watching = if targets.is_empty() { String::new() } else { format!(", watching {}", targets.join(", ")) };
        log.log("info", None, &format!("listening on http://{addr}{watching}"), serde_json::json!({}));
        // Each loop has a thread of its own: a long recovery or a blocked call delays only its
        // own component of its own target.
        let mut loops = Vec::new();
        for shared in &fleet.members {
            let member_log: Arc<dyn Log> = match shared.config().target.clone() {
                Some(target) => Arc::new(TargetLog { inner: log.clone(), target }),
                None => log.clone(),
            };
            for component in Component::ALL {
                let handle = crate::serve::spawn_loop(shared.clone(), component, member_log.clone(), stop_rx.clone())
                    .map_err(|e| CliError::failed(format!("cannot start the {component} loop: {e}")))?;
                loops.push((shared.clone(), component, handle));
            }
        }
        // HTTP has a thread and runtime of its own: nothing the loops do (fsync, parsing) delays it.
        let router = http::router(fleet.clone(), addr.ip().is_loopback(), args.insecure_status);
        let mut http_stop = stop_rx.clone();
        let server = std::thread::spawn(move || -> std::io::Result<()> {
            let rt = crate::cli::runtime();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener)?;
                axum::serve(listener, router)
                    .with_graceful_shutdown(async move {
                        let _ = http_stop.changed().await;
                    })
                    .await
            })
        });
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).map_err(|e| CliError::failed(e.to_string()))?;
        let mut int = signal(SignalKind::interrupt()).map_err(|e| CliError::failed(e.to_string()))?;
        let mut hup = signal(SignalKind::hangup()).map_err(|e| CliError::failed(e.to_string()))?;
        loop {
            tokio::select! {
                _ = term.recv() => break,
                _ = int.recv() => break,
                _ = hup.recv() => match reload(ctx, &fleet, &apply_flags) {
                    Ok(()) => {
                        let _ = fleet.journal.append(NewEvent::new("config.reloaded", "ok"));
                        log.log("info", None, "configuration reloaded", serde_json::json!({}));
                    }
                    Err(e) => {
                        let _ = fleet.journal.append(NewEvent::new("config.reload_failed", "rejected")
                            .details(serde_json::json!({"error": e.message})));
                        log.log("error", None, "new configuration rejected; the old one stays in force",
                            serde_json::json!({"error": e.message}));
                    }
                },
            }
        }
        log.log("info", None, "stopping", serde_json::json!({}));
        let _ = stop_tx.send(true);
        // Loops stop at their next await; one still recovering at the deadline is abandoned (and
        // journaled as interrupted), one blocked for good is left to the process exit.
        let deadline = std::time::Instant::now() + Duration::from_millis(2500);
        while loops.iter().any(|(_, _, h)| !h.is_finished()) && std::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let mut all_interrupted = Vec::new();
        for shared in &fleet.members {
            let beats = shared.beats.read().expect("beats lock").clone();
            let interrupted: Vec<Component> = loops
                .iter()
                .filter(|(s, c, h)| {
                    Arc::ptr_eq(s, shared) && !h.is_finished() && beats.get(c).is_some_and(|b| b.recovering)
                })
                .map(|(_, c, _)| *c)
                .collect();
            journal_stop(shared, &interrupted);
            all_interrupted.extend(interrupted.iter().map(|c| shared.config().scoped(*c)));
        }
        let _ = server.join();
        log.log("info", None, "stopped", serde_json::json!({"interrupted": all_interrupted}));
        let _ = fleet.journal.append(NewEvent::new("serve.stopped", "stopped"));
        Ok::<u8, Failure>(exit::SUCCESS)
    });
    // Blocking work still queued (a DNS lookup, say) must not hold the exit past the 5 s promise.
    drop(local);
    runtime.shutdown_timeout(Duration::from_millis(300));
    outcome
}

/// The targets serve watches: the one named by --target or IFCTL_TARGET, else every target of
/// the config (`default_target` does not narrow it), else the config's one stack.
fn watched(ctx: &Context) -> Result<Vec<crate::config::Resolved>, CliError> {
    let named = ctx.global.target.is_some()
        || crate::config::Environment::var(&ProcessEnv, crate::config::env::TARGET).is_some();
    if named { Ok(vec![ctx.config()?]) } else { ctx.fleet_for_serve() }
}

/// SIGHUP: the new config of every watched target, all or nothing. The set of targets cannot
/// change under a running serve (its loops are per target): that needs a restart.
fn reload(
    ctx: &Context,
    fleet: &Fleet,
    apply_flags: &dyn Fn(crate::config::Config) -> crate::config::Config,
) -> Result<(), CliError> {
    let new = watched(ctx)?;
    let names = |list: Vec<Option<String>>| list.into_iter().map(|t| t.unwrap_or_default()).collect::<Vec<_>>();
    let before = names(fleet.members.iter().map(|m| m.config().target.clone()).collect());
    let after = names(new.iter().map(|r| r.config.target.clone()).collect());
    if before != after {
        return Err(CliError::usage(format!(
            "the targets changed ({} → {}); restart serve to watch a different set",
            before.join(", "),
            after.join(", ")
        )));
    }
    for (shared, resolved) in fleet.members.iter().zip(new) {
        let config = apply_flags(resolved.config);
        let secrets = Secrets::from_env(&config, &ProcessEnv);
        shared.reload(config, secrets);
    }
    Ok(())
}
