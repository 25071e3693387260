//! Planning and carrying out each strategy. Every plan says exactly what it will do; every
//! execution is followed by a fresh health check that decides success.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::clients::chroma::ChromaClient;
use crate::config::{Component, Config, Secret};
use crate::health::{Probes, Secrets, Status};
use crate::journal::Journal;
use crate::snapshot::prune::{self, Protected, Retention};
use crate::snapshot::restore::{RestoreOptions, restore_collections};
use crate::snapshot::{NoProgress, Progress};

use super::{Plan, PlanError, Strategy};

/// Builds the plan for a strategy from the config and what is on disk now. The same inputs give
/// the same plan, so an approval can check that the plan has not changed.
pub fn plan(config: &Config, strategy: Strategy) -> Result<Plan, PlanError> {
    let r = &config.recovery;
    let (actions, params): (Vec<String>, Value) = match strategy {
        Strategy::Reconnect => (
            vec![format!("open a new connection to `{}` (3 tries with backoff) and PING", config.redis.url)],
            json!({"url": config.redis.url}),
        ),
        Strategy::FlushUnexpiring if r.redis.flush_patterns.is_empty() => {
            return Err(PlanError::NotConfigured("`recovery.redis.flush_patterns` is empty: nothing to flush".into()));
        }
        Strategy::FlushUnexpiring => (
            r.redis
                .flush_patterns
                .iter()
                .map(|p| format!("SCAN MATCH `{p}` and UNLINK each key that has no TTL"))
                .chain([format!("stop after {} keys (`recovery.redis.flush_max_keys`)", r.redis.flush_max_keys)])
                .collect(),
            json!({"url": config.redis.url, "patterns": r.redis.flush_patterns, "max_keys": r.redis.flush_max_keys}),
        ),
        Strategy::Restart => {
            let command =
                r.redis.restart_command.clone().ok_or_else(|| {
                    PlanError::NotConfigured("no `recovery.redis.restart_command` is configured".into())
                })?;
            (
                vec![format!("run `{command}`"), "wait up to 30 s for Redis to answer PING".into()],
                json!({"command": command}),
            )
        }
        Strategy::QueryRetry => (
            vec![format!(
                "retry the Chroma probe up to {} times with exponential backoff and jitter",
                r.chromadb.query_retries
            )],
            json!({"attempts": r.chromadb.query_retries}),
        ),
        Strategy::CollectionReload => (
            vec![format!(
                "re-resolve collections {} by name, re-check their counts and a query",
                config.chromadb.expected_collections.join(", ")
            )],
            json!({"collections": config.chromadb.expected_collections}),
        ),
        Strategy::SnapshotRollback => {
            let broken = broken_collections(config)?;
            let (name, path) = rollback_source(config, &broken)?;
            (
                vec![format!(
                    "restore only {} from snapshot `{name}`, backing up the live state first",
                    broken.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ")
                )],
                json!({"snapshot": name, "path": path, "collections": broken}),
            )
        }
        Strategy::IndexRebuild => (
            config
                .chromadb
                .expected_collections
                .iter()
                .map(|c| format!("re-ingest `{c}` from its own rows into a staging collection and swap it in"))
                .chain(["first export them to a kept snapshot `pre-rebuild-<time>` (the way back)".to_string()])
                .collect(),
            json!({"collections": config.chromadb.expected_collections}),
        ),
        Strategy::TokenRefresh => (
            vec![
                format!(
                    "sign in to `{}` with {} / {}",
                    config.openwebui.url, config.openwebui.email_env, config.openwebui.password_env
                ),
                format!("store the token in `{}` (mode 0600)", token_path(config).display()),
                "check it against /api/models".into(),
            ],
            json!({"url": config.openwebui.url, "store": token_path(config)}),
        ),
        Strategy::ModelFailover => {
            let primary = r.openwebui.primary_model.clone().ok_or_else(|| {
                PlanError::NotConfigured("no `recovery.openwebui.primary_model` is configured".into())
            })?;
            let mut models = vec![primary];
            models.extend(r.openwebui.fallback_models.iter().cloned());
            (
                vec![
                    format!("try a one-message completion through OpenWebUI with {} in this order", models.join(", ")),
                    "make the first that answers OpenWebUI's default model (admin API), recording the previous default"
                        .into(),
                ],
                json!({"url": config.openwebui.url, "models": models}),
            )
        }
        Strategy::GracefulDegradation => {
            let (available, lost) = super::degraded::capabilities(config, Component::Openwebui);
            (vec!["enter OpenWebUI's degraded mode".into()], json!({"available": available, "lost": lost}))
        }
        Strategy::DiskCleanup => {
            let mut actions: Vec<String> = r
                .system
                .cleanup_paths
                .iter()
                .map(|c| {
                    format!(
                        "delete files matching `{}` under `{}` older than {}",
                        c.glob,
                        c.path.display(),
                        humantime::format_duration(c.older_than)
                    )
                })
                .collect();
            if r.system.snapshot_keep_last > 0 {
                actions.push(format!("prune ifctl snapshots to the newest {}", r.system.snapshot_keep_last));
            }
            if actions.is_empty() {
                return Err(PlanError::NotConfigured(
                    "no `recovery.system.cleanup_paths` (or `snapshot_keep_last`) are configured".into(),
                ));
            }
            (actions, json!({"rules": r.system.cleanup_paths, "snapshot_keep_last": r.system.snapshot_keep_last}))
        }
        Strategy::MemoryRelief => {
            let command = r.system.memory_relief_command.clone().ok_or_else(|| {
                PlanError::NotConfigured("no `recovery.system.memory_relief_command` is configured".into())
            })?;
            (vec![format!("run `{command}`")], json!({"command": command}))
        }
        Strategy::ProcessRestart => {
            let command = r.system.process_restart_command.clone().ok_or_else(|| {
                PlanError::NotConfigured("no `recovery.system.process_restart_command` is configured".into())
            })?;
            (vec![format!("run `{command}`")], json!({"command": command}))
        }
    };
    Ok(Plan { component: strategy.component(), strategy, actions, params })
}

fn token_path(config: &Config) -> PathBuf {
    config.target_dir().join("openwebui.token")
}

/// What an execution did, before verification.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Done {
    pub actions: Vec<String>,
    pub details: Value,
}

/// Carries out a plan. `Err` means it could not be carried out (the component is then checked
/// anyway: the attempt counts as failed).
pub async fn execute(
    config: &Config,
    secrets: &Secrets,
    plan: &Plan,
    journal: &Journal,
    progress: &dyn Progress,
) -> Result<Done, String> {
    let p = &plan.params;
    match plan.strategy {
        Strategy::Reconnect => reconnect(config, secrets).await,
        Strategy::FlushUnexpiring => flush_unexpiring(config, secrets).await,
        Strategy::Restart => {
            let command = p["command"].as_str().unwrap_or_default();
            let mut done = run_command(config, command).await?;
            let started = Instant::now();
            while started.elapsed() < Duration::from_secs(30) {
                if ping(config, secrets).await.is_ok() {
                    done.actions.push(format!("Redis answered PING after {:.1} s", started.elapsed().as_secs_f64()));
                    return Ok(done);
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            done.actions.push("Redis did not answer PING within 30 s".into());
            Ok(done)
        }
        Strategy::QueryRetry => {
            let attempts = p["attempts"].as_u64().unwrap_or(5) as u32;
            let probes = Probes::new(config, secrets.clone(), config.health.timeout);
            let mut delay = Duration::from_millis(200);
            for attempt in 1..=attempts.max(1) {
                let report = probes.probe(Component::Chromadb).await;
                if report.status == Status::Healthy {
                    return Ok(Done {
                        actions: vec![format!("the probe succeeded on try {attempt}")],
                        details: json!({}),
                    });
                }
                let jitter = Duration::from_millis(u64::from(rand_u16()) % (delay.as_millis() as u64 / 2 + 1));
                tokio::time::sleep(delay + jitter).await;
                delay *= 2;
            }
            Ok(Done { actions: vec![format!("the probe failed {attempts} times")], details: json!({}) })
        }
        Strategy::CollectionReload => {
            let chroma = ChromaClient::bulk(config);
            let mut found = Vec::new();
            for name in config.chromadb.expected_collections.iter() {
                match chroma.collection(name).await.map_err(|e| e.to_string())? {
                    Some(c) => {
                        let count = chroma.count(&c.id).await.map_err(|e| e.to_string())?;
                        found.push(format!("`{name}` resolved to {} ({count} records)", c.id));
                    }
                    None => found.push(format!("`{name}` does not exist")),
                }
            }
            Ok(Done { actions: found, details: json!({}) })
        }
        Strategy::SnapshotRollback => {
            let chroma = ChromaClient::bulk(config);
            let path = PathBuf::from(p["path"].as_str().unwrap_or_default());
            let collections: Vec<String> = p["collections"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|c| c.as_str().map(String::from))
                .collect();
            let backup = backup_live(config, &chroma, &collections, progress).await?;
            let results = restore_collections(
                &chroma,
                &RestoreOptions::of(config, &path, &collections),
                false,
                journal,
                progress,
            )
            .await
            .map_err(|e| e.to_string())?;
            Ok(Done {
                actions: results
                    .iter()
                    .map(|r| format!("restored `{}`: {:?} -> {} records", r.name, r.before, r.after))
                    .collect(),
                details: json!({"snapshot": p["snapshot"], "backup": backup, "collections": results}),
            })
        }
        Strategy::IndexRebuild => {
            let chroma = ChromaClient::bulk(config);
            let mut names = Vec::new();
            for name in config.chromadb.expected_collections.iter() {
                if chroma.collection(name).await.map_err(|e| e.to_string())?.is_some() {
                    names.push(name.clone());
                }
            }
            if names.is_empty() {
                return Err("none of the expected collections exists; nothing to rebuild".into());
            }
            // The export is a kept snapshot, not a temp dir: the old collections are deleted by the
            // swap, and this is the way back.
            let name = format!("pre-rebuild-{}", crate::journal::now().format("%Y%m%dT%H%M%SZ"));
            let created = export(config, &chroma, &config.snapshot_dir(), &name, &names, progress).await?;
            let opts = RestoreOptions::of(config, &created, &names);
            let results =
                restore_collections(&chroma, &opts, true, journal, progress).await.map_err(|e| e.to_string())?;
            let mut actions: Vec<String> =
                results.iter().map(|r| format!("rebuilt `{}` ({} records)", r.name, r.after)).collect();
            actions.push(format!("kept the rows as they were in snapshot `{}`", created.display()));
            Ok(Done { actions, details: json!({"collections": results, "backup": created}) })
        }
        Strategy::TokenRefresh => token_refresh(config, secrets).await,
        Strategy::ModelFailover => {
            let models: Vec<String> =
                p["models"].as_array().into_iter().flatten().filter_map(|m| m.as_str().map(String::from)).collect();
            model_failover(config, secrets, &models).await
        }
        Strategy::GracefulDegradation => Ok(Done {
            actions: vec!["entered OpenWebUI's degraded mode".into()],
            details: json!({"available": p["available"], "lost": p["lost"]}),
        }),
        Strategy::DiskCleanup => disk_cleanup(config),
        Strategy::MemoryRelief | Strategy::ProcessRestart => {
            run_command(config, p["command"].as_str().unwrap_or_default()).await
        }
    }
}

/// A fresh health check of the component: success means healthy.
pub async fn verify(config: &Config, secrets: &Secrets, component: Component) -> crate::health::ComponentReport {
    Probes::new(config, secrets.clone(), config.health.timeout).probe(component).await
}

async fn export(
    config: &Config,
    chroma: &ChromaClient,
    dest: &Path,
    name: &str,
    collections: &[String],
    progress: &dyn Progress,
) -> Result<PathBuf, String> {
    let opts = crate::snapshot::create::CreateOptions {
        name: crate::snapshot::unique_name(dest, name),
        dest: dest.to_path_buf(),
        collections: collections.to_vec(),
        page_size: None,
        wait: true,
        journal_head: crate::journal::anchor::RecordedHead::of(&config.journal_path()),
        target: config.target.clone(),
        sealing: None,
        pick_free_name: true,
    };
    let source = crate::snapshot::ChromaSource {
        url: config.chromadb.url.clone(),
        version: None,
        tenant: config.chromadb.tenant.clone(),
        database: config.chromadb.database.clone(),
    };
    crate::snapshot::create::create(chroma, source, &opts, progress, |_| {})
        .await
        .map(|c| c.path)
        .map_err(|e| e.to_string())
}

/// Saves the live collections that a rollback replaces, as `pre-rollback-<time>`.
async fn backup_live(
    config: &Config,
    chroma: &ChromaClient,
    collections: &[String],
    progress: &dyn Progress,
) -> Result<Option<String>, String> {
    let mut live = Vec::new();
    for name in collections {
        if chroma.collection(name).await.map_err(|e| e.to_string())?.is_some() {
            live.push(name.clone());
        }
    }
    if live.is_empty() {
        return Ok(None);
    }
    let name = format!("pre-rollback-{}", crate::journal::now().format("%Y%m%dT%H%M%SZ"));
    let path = export(config, chroma, &config.snapshot_dir(), &name, &live, progress).await?;
    Ok(Some(path.display().to_string()))
}

/// The newest snapshot in the destination that passes verification, with the expected
/// collections it holds.
/// The expected collections that are missing or empty now: all a rollback may replace. Healthy
/// collections are never rolled back with them.
fn broken_collections(config: &Config) -> Result<Vec<String>, PlanError> {
    let config = config.clone();
    // A runtime of its own on a thread of its own: planning is synchronous and may be called from
    // inside another runtime's blocking thread.
    let look = std::thread::spawn(move || -> Result<Vec<String>, PlanError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| PlanError::Failed(e.to_string()))?;
        runtime.block_on(async {
            let chroma = ChromaClient::bulk(&config);
            let mut broken = Vec::new();
            for name in &config.chromadb.expected_collections {
                let found =
                    chroma.collection(name).await.map_err(|e| PlanError::chroma(format!("cannot see `{name}`"), e))?;
                let empty = match &found {
                    Some(c) => {
                        chroma.count(&c.id).await.map_err(|e| PlanError::chroma(format!("cannot count `{name}`"), e))?
                            == 0
                    }
                    None => true,
                };
                if empty {
                    broken.push(name.clone());
                }
            }
            Ok(broken)
        })
    });
    let broken = look.join().map_err(|_| PlanError::Failed("looking at the collections failed".into()))??;
    if broken.is_empty() {
        return Err(PlanError::Refused("no expected collection is missing or empty, so a rollback would only replace healthy data; to restore on purpose use `ifctl snapshot restore NAME --collection C`".into()));
    }
    Ok(broken)
}

/// The newest snapshot that holds every broken collection, is younger than
/// `recovery.chromadb.rollback_max_age`, is not a backup taken before a restore (that holds the
/// state being replaced, possibly the bad data itself), and verifies.
fn rollback_source(config: &Config, broken: &[String]) -> Result<(String, PathBuf), PlanError> {
    let dest = config.snapshot_dir();
    let max_age = config.recovery.chromadb.rollback_max_age;
    let oldest = crate::journal::now() - chrono::Duration::from_std(max_age).unwrap_or(chrono::Duration::MAX);
    let mut snapshots = crate::snapshot::list::list(&dest)
        .map_err(|e| PlanError::Failed(format!("cannot list `{}`: {e}", dest.display())))?;
    snapshots.retain(prune::rollback_usable);
    snapshots.retain(|s| broken.iter().all(|c| s.collections.contains(c)));
    let mut too_old = None;
    while let Some(s) = snapshots.pop() {
        if s.created_at.is_none_or(|t| t < oldest) {
            too_old = too_old.or(Some(s.name));
            continue;
        }
        if crate::snapshot::verify::verify_archive(&s.path, &config.state_dir.join("tmp")).is_ok() {
            return Ok((s.name, s.path));
        }
    }
    let wanted = broken.join(", ");
    Err(PlanError::Refused(match too_old {
        Some(name) => format!(
            "the newest snapshot holding {wanted} is `{name}`, older than `recovery.chromadb.rollback_max_age` ({}); restore it on purpose with `ifctl snapshot restore {name} --collection …` if it is still right",
            humantime::format_duration(max_age)
        ),
        None => format!("no snapshot in `{}` holds {wanted} and verifies", dest.display()),
    }))
}

async fn redis_connection(config: &Config, secrets: &Secrets) -> Result<redis::aio::MultiplexedConnection, String> {
    let password = secrets.redis_password.as_ref().ok().and_then(Option::as_ref);
    let client = crate::clients::redis::client(&config.redis, password)?;
    tokio::time::timeout(config.health.timeout, crate::clients::redis::connect(&client, config.health.timeout))
        .await
        .map_err(|_| format!("no answer from `{}` within {:?}", config.redis.url, config.health.timeout))?
        .map_err(|e| e.to_string())
}

async fn ping(config: &Config, secrets: &Secrets) -> Result<(), String> {
    let mut conn = redis_connection(config, secrets).await?;
    let pong: String = redis::cmd("PING").query_async(&mut conn).await.map_err(|e| e.to_string())?;
    if pong == "PONG" { Ok(()) } else { Err(format!("PING answered `{pong}`")) }
}

async fn reconnect(config: &Config, secrets: &Secrets) -> Result<Done, String> {
    let mut delay = Duration::from_millis(100);
    let mut last = String::new();
    for attempt in 1..=3 {
        match ping(config, secrets).await {
            Ok(()) => return Ok(Done { actions: vec![format!("PING answered on try {attempt}")], details: json!({}) }),
            Err(e) => last = e,
        }
        tokio::time::sleep(delay).await;
        delay *= 4;
    }
    Err(format!("3 tries failed; last: {last}"))
}

/// Deletes keys matching the configured patterns that have no TTL, scanning in batches.
async fn flush_unexpiring(config: &Config, secrets: &Secrets) -> Result<Done, String> {
    let cap = config.recovery.redis.flush_max_keys;
    let found = scan_unexpiring(config, secrets, Some(cap)).await?;
    let mut actions = vec![format!(
        "deleted {} keys without TTL; kept {} matching keys that expire",
        found.unexpiring, found.expiring
    )];
    if found.capped {
        actions.push(format!("stopped at `recovery.redis.flush_max_keys` ({cap}); run again for more"));
    }
    Ok(Done {
        actions,
        details: json!({"deleted": found.unexpiring, "kept_with_ttl": found.expiring, "capped": found.capped}),
    })
}

/// What a scan of the flush patterns found (and, when deleting, deleted).
#[derive(Debug, Default, serde::Serialize)]
pub struct FlushScan {
    pub unexpiring: u64,
    pub expiring: u64,
    pub capped: bool,
}

/// How many keys `flush_unexpiring` would delete now, without deleting anything (for `--dry-run`).
pub async fn flush_preview(config: &Config, secrets: &Secrets) -> Result<FlushScan, String> {
    scan_unexpiring(config, secrets, None).await
}

/// SCANs each flush pattern (keys as bytes: any key is valid), and when `delete_up_to` is given
/// UNLINKs (freed in the background, Redis does not block) each key without TTL, at most that many.
/// A failure part-way says how many keys were already deleted.
async fn scan_unexpiring(config: &Config, secrets: &Secrets, delete_up_to: Option<u64>) -> Result<FlushScan, String> {
    let mut conn = redis_connection(config, secrets).await?;
    let mut found = FlushScan::default();
    let failed = |found: &FlushScan, e: redis::RedisError| match delete_up_to {
        Some(_) => format!("{e} (after deleting {} keys)", found.unexpiring),
        None => e.to_string(),
    };
    'patterns: for pattern in &config.recovery.redis.flush_patterns {
        let mut cursor: u64 = 0;
        loop {
            let (next, keys): (u64, Vec<Vec<u8>>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(pattern)
                .arg("COUNT")
                .arg(500)
                .query_async(&mut conn)
                .await
                .map_err(|e| failed(&found, e))?;
            if !keys.is_empty() {
                let mut pipe = redis::pipe();
                for key in &keys {
                    pipe.cmd("TTL").arg(key);
                }
                let ttls: Vec<i64> = pipe.query_async(&mut conn).await.map_err(|e| failed(&found, e))?;
                let mut doomed: Vec<&Vec<u8>> =
                    keys.iter().zip(&ttls).filter(|(_, t)| **t == -1).map(|(k, _)| k).collect();
                found.expiring += ttls.iter().filter(|t| **t >= 0).count() as u64;
                match delete_up_to {
                    None => found.unexpiring += doomed.len() as u64,
                    Some(cap) => {
                        let room = cap.saturating_sub(found.unexpiring) as usize;
                        if doomed.len() > room {
                            doomed.truncate(room);
                            found.capped = true;
                        }
                        if !doomed.is_empty() {
                            let n: u64 = redis::cmd("UNLINK")
                                .arg(&doomed)
                                .query_async(&mut conn)
                                .await
                                .map_err(|e| failed(&found, e))?;
                            found.unexpiring += n;
                        }
                        if found.capped {
                            break 'patterns;
                        }
                    }
                }
            }
            cursor = next;
            if cursor == 0 {
                break;
            }
        }
    }
    Ok(found)
}

async fn token_refresh(config: &Config, secrets: &Secrets) -> Result<Done, String> {
    let password = secrets.openwebui_password.clone()?;
    let (Some(email), Some(password)) = (secrets.openwebui_email.as_ref(), password) else {
        return Err(format!(
            "set {} and {} so ifctl can sign in",
            config.openwebui.email_env, config.openwebui.password_env
        ));
    };
    let client = openwebui_client(config, Duration::from_secs(30));
    let token: Secret = client.sign_in(email, &password).await.map_err(|e| e.to_string())?;
    let models = client.models(&token).await.map_err(|e| format!("the new token was refused: {e}"))?;
    let path = token_path(config);
    write_secret(&path, token.expose()).map_err(|e| format!("cannot store the token in `{}`: {e}", path.display()))?;
    Ok(Done {
        actions: vec![
            format!("signed in, stored a new token in `{}` (0600)", path.display()),
            format!("/api/models accepted it ({} models)", models.len()),
        ],
        details: json!({"store": path}),
    })
}

/// An OpenWebUI client for an admin action, with its own deadline.
fn openwebui_client(config: &Config, timeout: Duration) -> crate::clients::openwebui::OpenWebUiClient {
    crate::clients::openwebui::OpenWebUiClient::configured(&config.openwebui, timeout)
}

/// A session token: the configured one, else a sign-in with the configured credentials.
async fn openwebui_token(
    config: &Config,
    secrets: &Secrets,
    client: &crate::clients::openwebui::OpenWebUiClient,
) -> Result<Secret, String> {
    if let Ok(Some(token)) = &secrets.openwebui_token {
        return Ok(token.clone());
    }
    let password = secrets.openwebui_password.clone()?;
    match (secrets.openwebui_email.as_ref(), password) {
        (Some(email), Some(password)) => client.sign_in(email, &password).await.map_err(|e| e.to_string()),
        _ => Err(format!(
            "no token or credentials: set {} or {} and {}",
            config.openwebui.token_env, config.openwebui.email_env, config.openwebui.password_env
        )),
    }
}

/// Tries each model with a real completion; makes the first that answers the default model.
async fn model_failover(config: &Config, secrets: &Secrets, models: &[String]) -> Result<Done, String> {
    let client = openwebui_client(config, Duration::from_secs(60));
    let token = openwebui_token(config, secrets, &client).await?;
    let mut actions = Vec::new();
    let mut chosen = None;
    for model in models {
        match client.complete(&token, model).await {
            Ok(()) => {
                actions.push(format!("`{model}` answered"));
                chosen = Some(model.clone());
                break;
            }
            Err(e) => actions.push(format!("`{model}` failed: {e}")),
        }
    }
    let Some(chosen) = chosen else {
        return Err(format!("no model answered: {}", actions.join("; ")));
    };
    let mut current = client.models_config(&token).await.map_err(|e| format!("cannot read the models config: {e}"))?;
    let previous = current.get("DEFAULT_MODELS").cloned().unwrap_or(Value::Null);
    if previous.as_str() == Some(chosen.as_str()) {
        actions.push(format!("`{chosen}` is already the default model"));
        return Ok(Done { actions, details: json!({"default_model": chosen, "previous_default": previous}) });
    }
    current["DEFAULT_MODELS"] = Value::String(chosen.clone());
    client.set_models_config(&token, &current).await.map_err(|e| format!("cannot switch the default model: {e}"))?;
    actions.push(format!("switched OpenWebUI's default model from {previous} to `{chosen}` (revert: set it back in Admin > Settings > Models)"));
    Ok(Done { actions, details: json!({"default_model": chosen, "previous_default": previous, "switched": true}) })
}

/// Undoes a `model_failover` attempt (journal event `seq`): sets OpenWebUI's default model back
/// to what it was, if it is still the one the failover chose (someone may have changed it since).
pub async fn revert_model_failover(
    config: &Config,
    secrets: &Secrets,
    attempt: &crate::journal::Event,
) -> Result<Done, String> {
    let done = &attempt.details["details"];
    if attempt.kind != super::state::ATTEMPT || attempt.details["strategy"] != "model_failover" {
        return Err(format!("event #{} is a `{}`, not a model_failover attempt", attempt.seq, attempt.kind));
    }
    if done["switched"] != Value::Bool(true) {
        return Err(format!("attempt #{} did not change the default model: nothing to revert", attempt.seq));
    }
    let client = openwebui_client(config, Duration::from_secs(30));
    let token = openwebui_token(config, secrets, &client).await?;
    let mut current = client.models_config(&token).await.map_err(|e| format!("cannot read the models config: {e}"))?;
    let now = current.get("DEFAULT_MODELS").cloned().unwrap_or(Value::Null);
    if now != done["default_model"] {
        return Err(format!(
            "the default model is {now} now, not {} as attempt #{} left it: changed since, not reverting",
            done["default_model"], attempt.seq
        ));
    }
    current["DEFAULT_MODELS"] = done["previous_default"].clone();
    client.set_models_config(&token, &current).await.map_err(|e| format!("cannot set the default model: {e}"))?;
    Ok(Done {
        actions: vec![format!(
            "set OpenWebUI's default model back to {} (attempt #{} had made it {now})",
            done["previous_default"], attempt.seq
        )],
        details: json!({"reverted_seq": attempt.seq, "from": now, "to": done["previous_default"]}),
    })
}

fn write_secret(path: &Path, value: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = path.parent() {
        crate::config::private_dir(dir)?;
    }
    let tmp = path.with_extension("tmp");
    let mut file = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&tmp)?;
    file.write_all(value.as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)
}

/// Set when a SIGINT or SIGTERM ended a configured command: the ladder takes no further step.
pub static INTERRUPTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Variables every configured command gets (nothing else of ifctl's environment, which holds
/// passwords and tokens): a usable `PATH`, who and where, and the locale.
const COMMAND_BASE_ENV: &[&str] = &["PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "TZ"];

/// Runs an operator-configured command through `sh -c` in a process group of its own, with a
/// minimal environment (plus the variables `recovery.command_env` names) and a deadline that kills
/// the whole group. Its output goes to unlinked temporary files, not pipes: a background process it
/// leaves behind (`server &`) neither holds ifctl up nor dies of SIGPIPE later. The output tail is
/// kept with every secret value masked.
async fn run_command(config: &Config, command: &str) -> Result<Done, String> {
    if command.trim().is_empty() {
        return Err("the command is empty".into());
    }
    let capture =
        || tempfile::tempfile().map_err(|e| format!("cannot create a file for the output of `{command}`: {e}"));
    let (out, err) = (capture()?, capture()?);
    let mut cmd = tokio::process::Command::new("sh");
    cmd.arg("-c")
        .arg(command)
        .env_clear()
        .stdin(std::process::Stdio::null())
        .stdout(out.try_clone().map_err(|e| e.to_string())?)
        .stderr(err.try_clone().map_err(|e| e.to_string())?)
        .process_group(0)
        .kill_on_drop(true);
    for name in COMMAND_BASE_ENV.iter().copied().chain(config.recovery.command_env.iter().map(String::as_str)) {
        if let Some(value) = std::env::var_os(name) {
            cmd.env(name, value);
        }
    }
    if std::env::var_os("PATH").is_none() {
        cmd.env("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    }
    let mut child = cmd.spawn().map_err(|e| format!("cannot run `{command}`: {e}"))?;
    let group = child.id().and_then(|pid| rustix::process::Pid::from_raw(pid as i32));
    let limit = Duration::from_secs(config.recovery.command_timeout_seconds);
    // The command has a group of its own, so a Ctrl-C or a SIGTERM meant for ifctl does not reach
    // it: ifctl passes the end on to the whole group, and the attempt is journaled as failed.
    use tokio::signal::unix::{SignalKind, signal};
    let (mut int, mut term) = (signal(SignalKind::interrupt()).ok(), signal(SignalKind::terminate()).ok());
    let interrupted = async {
        tokio::select! {
            Some(_) = async { int.as_mut()?.recv().await } => "SIGINT",
            Some(_) = async { term.as_mut()?.recv().await } => "SIGTERM",
        }
    };
    let why = tokio::select! {
        status = child.wait() => Ok(status.map_err(|e| format!("`{command}`: {e}"))?),
        _ = tokio::time::sleep(limit) => Err(format!("did not finish within {}", humantime::format_duration(limit))),
        signal = interrupted => {
            INTERRUPTED.store(true, std::sync::atomic::Ordering::SeqCst);
            Err(format!("was interrupted by {signal} to ifctl"))
        }
    };
    let status = match why {
        Ok(status) => status,
        Err(why) => {
            // The whole group: `sh` and everything it started that stayed in the group.
            if let Some(group) = group {
                let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
            }
            let _ = child.wait().await;
            return Err(format!("`{command}` {why} (its process group was killed)"));
        }
    };
    // ifctl's own secrets are remembered as they are read; so are the ones passed to commands.
    let passed = config.recovery.command_env.iter().chain([&config.serve.status_token_env]);
    for value in passed.filter_map(|name| std::env::var(name).ok()) {
        crate::config::remember(&value);
    }
    let tail = |mut file: std::fs::File| {
        use std::io::{Read, Seek, SeekFrom};
        let len = file.seek(SeekFrom::End(0)).unwrap_or(0);
        let _ = file.seek(SeekFrom::Start(len.saturating_sub(16 * 1024)));
        let mut bytes = Vec::new();
        let _ = file.take(16 * 1024).read_to_end(&mut bytes);
        let text = String::from_utf8_lossy(&bytes);
        let text = text.lines().rev().take(5).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("\n");
        crate::config::mask_values(text.into(), "********").into_owned()
    };
    let (stdout, stderr) = (tail(out), tail(err));
    if !status.success() {
        return Err(format!("`{command}` exited with {status}: {stderr}"));
    }
    Ok(Done {
        actions: vec![format!("ran `{command}` (exit 0)")],
        details: json!({"stdout": stdout, "stderr": stderr}),
    })
}

/// Deletes old files matching each rule inside its path, then prunes ifctl's own snapshots if
/// configured. The walk holds each directory open and works relative to it (`openat` with
/// `O_NOFOLLOW`, `fstatat`, `unlinkat`): a directory swapped for a link after it was listed is
/// refused, not followed, so nothing outside the path can be reached (the configured path itself may
/// be a link). It never enters ifctl's state dir or snapshot dir (the journal, snapshots, locks) and
/// never deletes the config file, wherever the rules point. Links and non-files are never deleted.
/// Every path that could not be read is reported; a rule whose path cannot be opened fails the action.
fn disk_cleanup(config: &Config) -> Result<Done, String> {
    use rustix::fs::{Mode, OFlags};
    use std::os::unix::fs::MetadataExt;
    let mut walk = CleanupWalk {
        now: std::time::SystemTime::now(),
        protected: [Some(config.state_dir.clone()), Some(config.snapshot_dir()), config.source_file.clone()]
            .into_iter()
            .flatten()
            .filter_map(|p| std::fs::metadata(p).ok().map(|m| (m.dev(), m.ino())))
            .collect(),
        freed: 0,
        files: 0,
        spared: 0,
        problems: Vec::new(),
    };
    let dir_flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
    let rules = &config.recovery.system.cleanup_paths;
    let mut opened_roots = 0;
    for rule in rules {
        match rustix::fs::open(&rule.path, dir_flags, Mode::empty()) {
            Ok(root) => {
                opened_roots += 1;
                walk.directory(&root, &rule.path, rule, 0);
            }
            Err(e) => walk.problems.push(format!("cannot open `{}`: {}", rule.path.display(), std::io::Error::from(e))),
        }
    }
    let CleanupWalk { mut freed, files, spared, problems, .. } = walk;
    if !rules.is_empty() && opened_roots == 0 {
        return Err(format!("no cleanup path could be opened: {}", problems.join("; ")));
    }
    let mut actions = vec![format!(
        "deleted {files} files, {} freed",
        crate::health::fmt_value(freed as f64, crate::health::Unit::Bytes)
    )];
    if spared > 0 {
        actions.push(format!("left {spared} of ifctl's own files and directories alone (state, snapshots, config)"));
    }
    let keep = config.recovery.system.snapshot_keep_last;
    if keep > 0 {
        let dest = config.snapshot_dir();
        // A create, restore or prune working there now is left alone; this round frees less.
        match crate::snapshot::lock::acquire(&dest, "ifctl recover disk_cleanup", false, |_| {}) {
            Err(e) => {
                let busy = e.to_string();
                actions.push(format!("did not prune snapshots: {}", busy.split("; ").next().unwrap_or(&busy)));
            }
            Ok(_lock) => {
                let snapshots = crate::snapshot::list::list(&dest).map_err(|e| e.to_string())?;
                let protected = Protected::find(&snapshots, &config.target_dir(), &config.journal_path());
                let decisions =
                    prune::plan(&snapshots, Retention { keep_last: Some(keep), ..Default::default() }, &protected);
                let mut pruned = 0;
                for (s, d) in snapshots.iter().zip(&decisions) {
                    if !d.keep && std::fs::remove_file(&s.path).is_ok() {
                        freed += s.bytes;
                        pruned += 1;
                    }
                }
                let spared = decisions.iter().filter(|d| d.keep).count();
                actions.push(format!(
                    "pruned {pruned} old snapshots (kept {spared}: the newest {keep} and what recovery needs)"
                ));
            }
        }
    }
    if !problems.is_empty() {
        let shown: Vec<&str> = problems.iter().take(5).map(String::as_str).collect();
        let more = problems.len().saturating_sub(5);
        let more = if more > 0 { format!(" (and {more} more)") } else { String::new() };
        actions.push(format!("{} problems: {}{more}", problems.len(), shown.join("; ")));
    }
    Ok(Done { actions, details: json!({"bytes_freed": freed, "files_deleted": files, "problems": problems}) })
}

/// The deepest directory `disk_cleanup` descends into: open directories are one per level.
const CLEANUP_MAX_DEPTH: usize = 64;

struct CleanupWalk {
    now: std::time::SystemTime,
    /// (device, inode) of what is never entered or deleted.
    protected: Vec<(u64, u64)>,
    freed: u64,
    files: u64,
    spared: u64,
    problems: Vec<String>,
}

impl CleanupWalk {
    /// One directory, depth first: only the directories on the path to here are open.
    fn directory(&mut self, dir: &rustix::fd::OwnedFd, shown: &Path, rule: &crate::config::CleanupPath, depth: usize) {
        use rustix::fs::{AtFlags, FileType, Mode, OFlags};
        let io = std::io::Error::from;
        if let Ok(stat) = rustix::fs::fstat(dir) {
            if self.protected.contains(&(stat.st_dev, stat.st_ino)) {
                self.spared += 1;
                return;
            }
        }
        let entries = match rustix::fs::Dir::read_from(dir) {
            Ok(entries) => entries,
            Err(e) => return self.problems.push(format!("cannot list `{}`: {}", shown.display(), io(e))),
        };
        for entry in entries {
            let Ok(entry) = entry else { continue };
            let name = entry.file_name().to_owned();
            let text = name.to_string_lossy().into_owned();
            if text == "." || text == ".." {
                continue;
            }
            let path = shown.join(&text);
            let stat = match rustix::fs::statat(dir, name.as_c_str(), AtFlags::SYMLINK_NOFOLLOW) {
                Ok(stat) => stat,
                Err(e) => {
                    self.problems.push(format!("cannot stat `{}`: {}", path.display(), io(e)));
                    continue;
                }
            };
            match FileType::from_raw_mode(stat.st_mode) {
                FileType::Directory if depth >= CLEANUP_MAX_DEPTH => {
                    self.problems.push(format!("skipped `{}`: deeper than {CLEANUP_MAX_DEPTH} levels", path.display()))
                }
                FileType::Directory => {
                    crate::hooks::pause_point("disk_cleanup.descend");
                    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC | OFlags::NOFOLLOW;
                    match rustix::fs::openat(dir, name.as_c_str(), flags, Mode::empty()) {
                        Ok(fd) => self.directory(&fd, &path, rule, depth + 1),
                        Err(e) => self.problems.push(format!(
                            "skipped `{}`: {} (replaced by a link since it was listed?)",
                            path.display(),
                            io(e)
                        )),
                    }
                }
                FileType::RegularFile if glob_match(&rule.glob, &text) => {
                    if self.protected.contains(&(stat.st_dev, stat.st_ino)) {
                        self.spared += 1;
                        continue;
                    }
                    let modified = std::time::UNIX_EPOCH + Duration::from_secs(stat.st_mtime.max(0) as u64);
                    if self.now.duration_since(modified).is_ok_and(|age| age >= rule.older_than) {
                        match rustix::fs::unlinkat(dir, name.as_c_str(), AtFlags::empty()) {
                            Ok(()) => {
                                self.freed += stat.st_size.max(0) as u64;
                                self.files += 1;
                            }
                            Err(e) => self.problems.push(format!("cannot delete `{}`: {}", path.display(), io(e))),
                        }
                    }
                }
                _ => {}
            }
        }
    }
}

/// `*` and `?` wildcards within one file name.
pub fn glob_match(pattern: &str, name: &str) -> bool {
    fn go(p: &[u8], n: &[u8]) -> bool {
        match (p.first(), n.first()) {
            (None, None) => true,
            (Some(b'*'), _) => go(&p[1..], n) || (!n.is_empty() && go(p, &n[1..])),
            (Some(b'?'), Some(_)) => go(&p[1..], &n[1..]),
            (Some(a), Some(b)) if a == b => go(&p[1..], &n[1..]),
            _ => false,
        }
    }
    go(pattern.as_bytes(), name.as_bytes())
}

fn rand_u16() -> u16 {
    (std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().subsec_nanos() % 65_536)
        as u16
}

/// Progress for recoveries run without a terminal.
pub fn quiet() -> &'static dyn Progress {
    &NoProgress
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    #[test]
    fn globs() {
        assert!(glob_match("*", "anything.log"));
        assert!(glob_match("*.log", "a.log"));
        assert!(!glob_match("*.log", "a.log.gz"));
        assert!(glob_match("cache-??.tmp", "cache-01.tmp"));
        assert!(!glob_match("cache-??.tmp", "cache-1.tmp"));
    }
}
