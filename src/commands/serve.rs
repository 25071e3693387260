//! `ifctl serve`: the long-running loop and its HTTP endpoints.

use std::sync::Arc;
use std::time::Duration;

use crate::cli::log::{LogFormat, StderrLog};
use crate::cli::{CliError, Context, Failure};
use crate::config::{Component, ProcessEnv};
use crate::exit;
use crate::health::Secrets;
use crate::journal::NewEvent;
use crate::serve::{Log, Shared, component_loop, http, journal_stop};

pub const AFTER_HELP: &str = concat!(
    "EXAMPLES:\n",
    "  ifctl serve\n",
    "  ifctl serve --listen 0.0.0.0:9109 --interval 10s --log-format json\n",
    "  curl -s localhost:9109/readyz; curl -s localhost:9109/metrics | promtool check metrics\n",
    "\n",
    "Every component has its own loop: probe every --interval (circuit breaker per component),\n",
    "journal status changes (not every tick), and when it is unhealthy run the next recovery\n",
    "strategy by the same policy as `ifctl recover` (strategies that need approval are queued once;\n",
    "`disable` windows and cooldowns are respected; `serve.auto_recover = false` turns it off).\n",
    "HTTP: /livez (/health) the process is alive; /readyz (/ready) 200 when the critical\n",
    "components are healthy or degraded, else 503; /status the full JSON state (a bearer token from\n",
    "`serve.status_token_env` is required when listening beyond loopback); /metrics Prometheus.\n",
    "SIGTERM/SIGINT stop within 5 s (a recovery still running is journaled as interrupted);\n",
    "SIGHUP reloads the config (a bad config is rejected and the old one kept).\n",
    "\n",
    "EXIT STATUS:\n",
    "  0    stopped by SIGTERM/SIGINT\n",
    "  1    the server failed\n",
    "  2    usage or configuration error (e.g. the address is in use)"
);

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on [default: serve.listen, 127.0.0.1:9109]
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<std::net::SocketAddr>,
    /// Time between checks of each component [default: health.interval, 5s]
    #[arg(long, value_parser = humantime::parse_duration, value_name = "DUR")]
    pub interval: Option<Duration>,
    /// Log lines on stderr as text or JSON
    #[arg(long, value_enum, default_value = "text")]
    pub log_format: LogFormat,
}

pub fn run(ctx: &Context, args: ServeArgs) -> Result<u8, Failure> {
    let resolved = ctx.config()?;
    let apply_flags = |mut config: crate::config::Config| {
        if let Some(listen) = args.listen {
            config.serve.listen = listen.to_string();
        }
        if let Some(interval) = args.interval.filter(|i| !i.is_zero()) {
            config.health.interval = interval;
        }
        config
    };
    let config = apply_flags(resolved.config.clone());
    let addr: std::net::SocketAddr = config.serve.listen.parse().map_err(|_| CliError::usage("bad `serve.listen`"))?;
    let journal = ctx.journal(&resolved);
    let log: Arc<dyn Log> = Arc::new(StderrLog {
        format: args.log_format,
        correlation_id: journal.correlation_id().to_string(),
        quiet: ctx.printer.quiet,
    });
    let secrets = Secrets::from_env(&config, &ProcessEnv);
    let shared = Shared::new(config, secrets, journal);
    let runtime = crate::cli::runtime();
    let local = tokio::task::LocalSet::new();
    let outcome = local.block_on(&runtime, async move {
        let listener = std::net::TcpListener::bind(addr).map_err(|e| {
            CliError::usage(format!("cannot listen on {addr}: {e}"))
                .hint("pass --listen ADDR, or stop what holds the port")
        })?;
        listener.set_nonblocking(true).map_err(|e| CliError::failed(e.to_string()))?;
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        shared.journal.append(NewEvent::new("serve.started", "started").details(serde_json::json!({
            "listen": addr.to_string(), "interval_s": shared.config().health.interval.as_secs_f64(),
        })))?;
        log.log("info", None, &format!("listening on http://{addr}"), serde_json::json!({}));
        // The loops share this thread; a slow probe only awaits I/O, so none holds up another.
        let mut loops = Vec::new();
        for component in Component::ALL {
            loops.push((
                component,
                tokio::task::spawn_local(component_loop(shared.clone(), component, log.clone(), stop_rx.clone())),
            ));
        }
        // HTTP has a thread and runtime of its own: nothing the loops do (fsync, parsing) delays it.
        let router = http::router(shared.clone(), addr.ip().is_loopback());
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
                _ = hup.recv() => match ctx.config() {
                    Ok(new) => {
                        let config = apply_flags(new.config);
                        let secrets = Secrets::from_env(&config, &ProcessEnv);
                        shared.reload(config, secrets);
                        let _ = shared.journal.append(NewEvent::new("config.reloaded", "ok"));
                        log.log("info", None, "configuration reloaded", serde_json::json!({}));
                    }
                    Err(e) => {
                        let _ = shared.journal.append(NewEvent::new("config.reload_failed", "rejected")
                            .details(serde_json::json!({"error": e.message})));
                        log.log("error", None, "new configuration rejected; the old one stays in force",
                            serde_json::json!({"error": e.message}));
                    }
                },
            }
        }
        log.log("info", None, "stopping", serde_json::json!({}));
        let _ = stop_tx.send(true);
        let deadline = tokio::time::Instant::now() + Duration::from_millis(2500);
        let mut interrupted = Vec::new();
        for (component, handle) in loops {
            let abort = handle.abort_handle();
            if tokio::time::timeout_at(deadline, handle).await.is_err() {
                abort.abort(); // still recovering at the deadline
                interrupted.push(component);
            }
        }
        journal_stop(&shared, &interrupted);
        let _ = server.join();
        log.log("info", None, "stopped", serde_json::json!({"interrupted": interrupted}));
        let _ = shared.journal.append(NewEvent::new("serve.stopped", "stopped"));
        Ok::<u8, Failure>(exit::SUCCESS)
    });
    // Blocking work still queued (a DNS lookup, say) must not hold the exit past the 5 s promise.
    drop(local);
    runtime.shutdown_timeout(Duration::from_millis(300));
    outcome
}
