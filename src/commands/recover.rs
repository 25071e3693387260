//! `ifctl recover`: one recovery attempt for a component, by policy, verified and journaled.

use crate::cli::progress::Bars;
use crate::cli::{CliError, Context, ErrorKind, Failure as CliFailure};
use crate::config::{Component, ProcessEnv};
use crate::exit;
use crate::health::{Probes, Secrets, Status};
use crate::recovery::policy::{self, Verdict};
use crate::recovery::{self, Failure, Plan, PlanError, Strategy, execute, ladder, state};

pub const AFTER_HELP: &str = concat!(
    "EXAMPLES:\n",
    "  ifctl recover --component redis --dry-run         what would be done, and whether it may\n",
    "  ifctl recover --component redis                    one round of the ladder for what it sees\n",
    "  ifctl recover --component redis --strategy restart --reason \"OOM loop\"\n",
    "  ifctl recover --component chromadb --failure data   e.g. collections missing\n",
    "  ifctl recover --component openwebui --revert 1234   undo attempt #1234 (a model_failover)\n",
    "\n",
    "Strategies in escalation order: redis reconnect, flush_unexpiring*, restart*; chromadb\n",
    "query_retry, collection_reload, snapshot_rollback*, index_rebuild*; openwebui token_refresh,\n",
    "model_failover* (only when named), graceful_degradation; system disk_cleanup, memory_relief,\n",
    "process_restart*\n",
    "(* needs approval by default: `recovery.needs_approval`). Without --strategy, one round: the\n",
    "strategies for the failure, in order, until one heals it or one needs approval (queued).\n",
    "Each attempt is followed by a fresh health check that decides success. Policy: at most\n",
    "`max_attempts_per_hour` real actions per component per rolling hour (reconnect and\n",
    "query_retry are free), budget back after `healthy_reset_seconds` healthy. serve backs off\n",
    "between rounds; a disable window and that back-off stop serve, not this command.\n",
    "When OpenWebUI is impaired because Redis is down, Redis is recovered instead.\n",
    "\n",
    "EXIT STATUS:\n",
    "  0    recovered (healthy after an attempt), or nothing to do, or --dry-run\n",
    "  1    every attempt failed (the component is still not healthy)\n",
    "  2    usage or configuration error (e.g. no restart_command configured)\n",
    "  3    the server a plan must look at is unreachable (e.g. Chroma, for snapshot_rollback)\n",
    "  5    a strategy needs approval: its action id is printed (`ifctl approve ID`)\n",
    "  6    refused before anything ran: budget spent (says when the next is allowed), or\n",
    "       nothing safe to act on (no broken collection, only a snapshot too old)"
);

#[derive(Debug, clap::Args)]
pub struct RecoverArgs {
    /// The component to recover
    #[arg(long, short = 'c', value_enum, value_name = "C")]
    pub component: Component,
    /// The strategy [default: the next in escalation order for the failure seen]
    #[arg(long, value_enum, value_name = "S")]
    pub strategy: Option<Strategy>,
    /// Print the plan and the policy's verdict; change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Why (journaled)
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
    /// The failure to address [default: what the health check sees]
    #[arg(long, value_enum, value_name = "TYPE")]
    pub failure: Option<Failure>,
    /// Undo the recovery attempt with this journal sequence number (`ifctl history` shows it);
    /// model_failover attempts can be undone
    #[arg(long, value_name = "SEQ", conflicts_with_all = ["strategy", "dry_run", "failure"])]
    pub revert: Option<u64>,
}

pub fn run(ctx: &Context, args: RecoverArgs) -> Result<u8, CliFailure> {
    let resolved = ctx.acting_config()?;
    let config = &resolved.config;
    let journal = ctx.journal(&resolved);
    let secrets = Secrets::from_env(config, &ProcessEnv);
    let runtime = crate::cli::runtime();
    if let Some(seq) = args.revert {
        return revert(ctx, config, &secrets, &journal, &runtime, args.component, seq, args.reason.as_deref());
    }
    let probes = Probes::new(config, secrets.clone(), config.health.timeout);
    let mut component = args.component;
    if let Some(s) = args.strategy {
        if s.component() != component {
            return Err(CliError::usage(format!("`{s}` is a {} strategy, not a {component} one", s.component())).into());
        }
    }
    // OpenWebUI's report names Redis as the cause only when Redis is checked with it.
    let checked: Vec<Component> =
        if component == Component::Openwebui { vec![Component::Redis, component] } else { vec![component] };
    let mut report = runtime.block_on(probes.check(&checked));
    let mut target = report.get(component).cloned().expect("the component was checked");
    if args.strategy.is_none() && !target.caused_by.is_empty() {
        let cause = target.caused_by[0];
        ctx.printer
            .status(&format!("{component} is impaired because {cause} is unhealthy; recovering {cause} instead."));
        component = cause;
        report = runtime.block_on(probes.check(&[component]));
        target = report.get(component).cloned().expect("the cause was checked");
    }
    if target.status == Status::Healthy && args.strategy.is_none() {
        if ctx.printer.json() {
            ctx.printer.json_value(&serde_json::json!({"component": component, "status": "healthy", "steps": []}))?;
        } else {
            ctx.printer.line(&format!("`{component}` is healthy; nothing to recover."))?;
        }
        return Ok(exit::SUCCESS);
    }
    // Exclusive with serve and `approve` for this component (exit 6 naming the holder), and the
    // state read under the lock: two of them never both spend the budget.
    let _lock = if args.dry_run {
        None
    } else {
        Some(crate::snapshot::lock::acquire_recovery(
            &config.journal_path(),
            &config.scoped(component),
            "ifctl recover",
        )?)
    };
    let now = crate::journal::now();
    let st = state::derive_for(config, now).map_err(|e| CliError::failed(format!("cannot read the journal: {e}")))?;
    let failure = args.failure.unwrap_or_else(|| Failure::from_report(&target));
    let Some(strategy) = args.strategy else {
        // No strategy named: one round of the escalation ladder, as serve walks it.
        if args.dry_run {
            let previews = recovery::applicable(component, failure)
                .into_iter()
                .filter_map(|s| preview(&runtime, config, &secrets, s).map(|p| (s, p)))
                .collect();
            return show_ladder(ctx, config, &st, component, failure, target.reason.as_deref(), &previews);
        }
        let bars = Bars::new(ctx.printer.progress_allowed());
        let walker = ladder::Walker {
            config: std::sync::Arc::new(config.clone()),
            secrets: &secrets,
            journal: &journal,
            reason: args.reason.as_deref(),
            manual: true,
            progress: &bars,
            stop: None,
        };
        let steps = runtime.block_on(walker.round(component, failure, &mut |_| {}))?;
        return show_round(ctx, &steps);
    };
    let plan = execute::plan(config, strategy).map_err(|e| cannot_plan(ctx, config, strategy, &e))?;
    let verdict = policy::check(config, &st, strategy, true);
    if args.dry_run {
        let preview = preview(&runtime, config, &secrets, strategy);
        return show_plan(ctx, &plan, &verdict, target.reason.as_deref(), preview.as_deref());
    }
    if let Some(d) = st.disabled(component) {
        ctx.printer.warn(&format!(
            "auto-recovery of {component} is disabled until {} ({}); running because you asked",
            crate::cli::time::human(&d.until),
            d.reason
        ));
    }
    match verdict {
        Verdict::Refused { reason, .. } => Err(refused(reason)),
        Verdict::NeedsApproval => request_approval(ctx, &journal, config, &st, &plan, args.reason.as_deref()),
        Verdict::Allowed => {
            let bars = Bars::new(ctx.printer.progress_allowed());
            let result = runtime.block_on(recovery::attempt(
                config,
                &secrets,
                &plan,
                None,
                args.reason.as_deref(),
                &journal,
                &bars,
            ))?;
            show_result(ctx, &result)
        }
    }
}

/// `recover --revert SEQ`: undoes a recovery attempt that can be undone, once, journaled.
#[allow(clippy::too_many_arguments)]
fn revert(
    ctx: &Context,
    config: &crate::config::Config,
    secrets: &Secrets,
    journal: &crate::journal::Journal,
    runtime: &tokio::runtime::Runtime,
    component: Component,
    seq: u64,
    reason: Option<&str>,
) -> Result<u8, CliFailure> {
    let _lock = crate::snapshot::lock::acquire_recovery(
        &config.journal_path(),
        &config.scoped(component),
        "ifctl recover --revert",
    )?;
    let mut attempt = None;
    let mut reverted = false;
    let lines = crate::journal::NewestFirst::open(&config.journal_path())
        .map_err(|e| CliError::failed(format!("cannot read the journal: {e}")))?;
    for line in lines {
        let Ok(event) = serde_json::from_slice::<crate::journal::Event>(&line.unwrap_or_default()) else { continue };
        if event.kind == REVERTED && event.details["reverted_seq"] == seq {
            reverted = true;
        }
        if event.seq <= seq {
            attempt = (event.seq == seq).then_some(event);
            break;
        }
    }
    let Some(attempt) = attempt else {
        return Err(CliError::usage(format!("no journal event #{seq}"))
            .hint("`ifctl history --kind recovery.attempt` lists attempts with their numbers")
            .into());
    };
    if attempt.component.as_deref() != Some(component.name()) {
        return Err(CliError::usage(format!("event #{seq} is not about {component}")).into());
    }
    if reverted {
        return Err(CliError::new(ErrorKind::Refused, format!("attempt #{seq} was already reverted")).into());
    }
    let done = runtime
        .block_on(execute::revert_model_failover(config, secrets, &attempt))
        .map_err(|e| CliError::new(ErrorKind::Refused, format!("cannot revert attempt #{seq}: {e}")))?;
    journal.append(crate::journal::NewEvent::new(REVERTED, "success").component(component.name()).details(
        serde_json::json!({"reverted_seq": seq, "reason": reason, "actions": done.actions, "details": done.details}),
    ))?;
    if ctx.printer.json() {
        ctx.printer
            .json_value(&serde_json::json!({"reverted_seq": seq, "actions": done.actions, "details": done.details}))?;
    } else {
        for action in &done.actions {
            ctx.printer.line(&format!("  - {action}"))?;
        }
        ctx.printer.line(&format!("Reverted attempt #{seq}."))?;
    }
    Ok(exit::SUCCESS)
}

const REVERTED: &str = "recovery.reverted";

fn refused(reason: String) -> CliFailure {
    CliError::new(ErrorKind::Refused, reason)
        .hint("`ifctl history --kind recovery` shows the attempts that count")
        .into()
}

/// What one round did, step by step. Exit: 0 healed, 5 stopped at an approval, 6 refused before
/// anything ran, 1 everything tried failed.
fn show_round(ctx: &Context, steps: &[ladder::Step]) -> Result<u8, CliFailure> {
    let attempted = steps.iter().any(|s| matches!(s, ladder::Step::Attempted(_)));
    let code = if steps.iter().any(ladder::Step::recovered) {
        exit::SUCCESS
    } else if steps.iter().any(|s| matches!(s, ladder::Step::Queued { .. })) {
        exit::PENDING_APPROVAL
    } else if let (false, Some(ladder::Step::Refused { reason, .. })) = (attempted, steps.last()) {
        return Err(refused(reason.clone()));
    } else {
        exit::FAILURE
    };
    if ctx.printer.json() {
        ctx.printer.json_value(&serde_json::json!({"steps": steps}))?;
        return Ok(code);
    }
    for step in steps {
        match step {
            ladder::Step::Attempted(result) => {
                show_result(ctx, result)?;
            }
            ladder::Step::Queued { action_id, plan, .. } => show_queued(ctx, plan, action_id)?,
            ladder::Step::NotConfigured { strategy, why } => {
                ctx.printer.line(&format!("`{}` skipped: {why} ({})", strategy.qualified(), config_file_hint(ctx)))?;
            }
            ladder::Step::CannotPlan { strategy, why } => {
                ctx.printer.line(&format!("`{}` skipped: {why}", strategy.qualified()))?;
            }
            ladder::Step::Refused { strategy, reason, .. } => {
                ctx.printer.line(&format!("`{}` not tried: {reason}", strategy.qualified()))?;
            }
        }
    }
    if steps.is_empty() {
        ctx.printer.line(
            "No recovery strategy applies to this failure (e.g. credentials or permissions): it needs a person; `ifctl health check` says what to fix.",
        )?;
    }
    Ok(code)
}

/// A rung of the ladder: its plan and the verdict now, or why it cannot be planned.
type Rung = (Strategy, Result<(Plan, Verdict), PlanError>);

/// The round `recover` would walk, each rung with its plan and the policy's verdict now.
fn show_ladder(
    ctx: &Context,
    config: &crate::config::Config,
    st: &state::RecoveryState,
    component: Component,
    failure: Failure,
    seen: Option<&str>,
    previews: &std::collections::BTreeMap<Strategy, String>,
) -> Result<u8, CliFailure> {
    let rungs: Vec<Rung> = recovery::applicable(component, failure)
        .into_iter()
        .map(|s| (s, execute::plan(config, s).map(|plan| (plan, policy::check(config, st, s, true)))))
        .collect();
    if ctx.printer.json() {
        let ladder: Vec<serde_json::Value> = rungs
            .iter()
            .map(|(strategy, rung)| match rung {
                Ok((plan, verdict)) => serde_json::json!({
                    "strategy": strategy, "plan": plan, "plan_hash": plan.hash(), "policy": verdict,
                    "preview": previews.get(strategy),
                }),
                Err(why @ PlanError::NotConfigured(_)) => {
                    serde_json::json!({"strategy": strategy, "not_configured": why.to_string()})
                }
                Err(why) => serde_json::json!({"strategy": strategy, "cannot_plan": why.to_string()}),
            })
            .collect();
        ctx.printer.json_value(&serde_json::json!({"dry_run": true, "failure": failure, "ladder": ladder}))?;
        return Ok(exit::SUCCESS);
    }
    if let Some(seen) = seen {
        ctx.printer.line(&format!("Seen: {seen}"))?;
    }
    let failure = serde_json::to_value(failure).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default();
    ctx.printer.line(&format!("One round for a `{failure}` failure, in order until {component} is healthy:"))?;
    for (i, (strategy, rung)) in rungs.iter().enumerate() {
        match rung {
            Ok((plan, verdict)) => {
                ctx.printer.line(&format!(
                    "  {}. `{}` (hash {}): {}",
                    i + 1,
                    strategy.qualified(),
                    plan.hash(),
                    verdict_text(verdict)
                ))?;
                for action in &plan.actions {
                    ctx.printer.line(&format!("     - {action}"))?;
                }
                if let Some(preview) = previews.get(strategy) {
                    ctx.printer.line(&format!("     {preview}"))?;
                }
            }
            Err(why) => {
                ctx.printer.line(&format!("  {}. `{}`: skipped, {why}", i + 1, strategy.qualified()))?;
                if let (PlanError::NotConfigured(_), Some(example)) = (why, toml_example(*strategy)) {
                    ctx.printer.line(&format!("     to enable it, add to {}:", config_file_hint(ctx)))?;
                    for line in example.lines() {
                        ctx.printer.line(&format!("       {line}"))?;
                    }
                }
            }
        }
    }
    ctx.printer.line("Dry run: nothing was done.")?;
    Ok(exit::SUCCESS)
}

fn verdict_text(verdict: &Verdict) -> String {
    match verdict {
        Verdict::Allowed => "allowed now".to_string(),
        Verdict::NeedsApproval => "needs approval (`recover` would queue it and print an action id)".to_string(),
        Verdict::Refused { reason, .. } => format!("refused: {reason}"),
    }
}

/// Journals `recovery.pending` (once per identical plan) and exits 5 with the action id.
fn request_approval(
    ctx: &Context,
    journal: &crate::journal::Journal,
    config: &crate::config::Config,
    st: &state::RecoveryState,
    plan: &Plan,
    reason: Option<&str>,
) -> Result<u8, CliFailure> {
    let hash = plan.hash();
    let (id, _) = recovery::queue_for_approval(journal, config, st, plan, reason)?;
    if ctx.printer.json() {
        ctx.printer
            .json_value(&serde_json::json!({"pending": true, "action_id": id, "plan": plan, "plan_hash": hash}))?;
    } else {
        show_queued(ctx, plan, &id)?;
    }
    Ok(exit::PENDING_APPROVAL)
}

/// A plan queued for approval, and the command that approves it (working when pasted).
fn show_queued(ctx: &Context, plan: &Plan, action_id: &str) -> Result<(), CliFailure> {
    ctx.printer.line(&format!("`{}` needs approval. Action id: {action_id}", plan.strategy.qualified()))?;
    for action in &plan.actions {
        ctx.printer.line(&format!("  - {action}"))?;
    }
    ctx.printer.line(&format!("Approve with: {}", ctx.follow_up(&format!("approve {action_id}"))))?;
    Ok(())
}

/// What a strategy would touch right now, where that can be counted without changing anything.
fn preview(
    runtime: &tokio::runtime::Runtime,
    config: &crate::config::Config,
    secrets: &Secrets,
    strategy: Strategy,
) -> Option<String> {
    match strategy {
        Strategy::FlushUnexpiring => Some(match runtime.block_on(execute::flush_preview(config, secrets)) {
            Ok(found) => format!(
                "now: {} matching keys have no TTL and would be deleted (at most {}); {} matching keys expire and stay",
                found.unexpiring, config.recovery.redis.flush_max_keys, found.expiring
            ),
            Err(e) => format!("now: cannot count the keys ({e})"),
        }),
        _ => None,
    }
}

fn show_plan(
    ctx: &Context,
    plan: &Plan,
    verdict: &Verdict,
    seen: Option<&str>,
    preview: Option<&str>,
) -> Result<u8, CliFailure> {
    if ctx.printer.json() {
        ctx.printer.json_value(&serde_json::json!({
            "dry_run": true, "plan": plan, "plan_hash": plan.hash(), "policy": verdict, "preview": preview,
        }))?;
        return Ok(exit::SUCCESS);
    }
    if let Some(seen) = seen {
        ctx.printer.line(&format!("Seen: {seen}"))?;
    }
    ctx.printer.line(&format!("Plan `{}` (hash {}):", plan.strategy.qualified(), plan.hash()))?;
    for action in &plan.actions {
        ctx.printer.line(&format!("  - {action}"))?;
    }
    if let Some(preview) = preview {
        ctx.printer.line(&format!("  {preview}"))?;
    }
    ctx.printer.line(&format!("Policy: {}. Dry run: nothing was done.", verdict_text(verdict)))?;
    Ok(exit::SUCCESS)
}

pub fn show_result(ctx: &Context, result: &recovery::AttemptResult) -> Result<u8, CliFailure> {
    if ctx.printer.json() {
        ctx.printer.json_value(result)?;
    } else {
        for action in &result.actions {
            ctx.printer.line(&format!("  - {action}"))?;
        }
        if let Some(error) = &result.error {
            ctx.printer.line(&format!("  ! {error}"))?;
        }
        let after = result.reason_after.as_deref().map_or(String::new(), |r| format!(": {r}"));
        ctx.printer.line(&format!(
            "Recovery `{}.{}` {} in {:.1} s; {} is {}{after}.",
            result.component,
            result.strategy,
            match result.outcome {
                "success" => "succeeded",
                "degraded" => "entered degraded mode",
                _ => "failed",
            },
            result.duration_ms / 1000.0,
            result.component,
            result.status_after
        ))?;
    }
    Ok(if result.success || result.outcome == "degraded" { exit::SUCCESS } else { exit::FAILURE })
}

/// A strategy that cannot be planned: its exit status by the reason; for settings nobody made, the
/// TOML to add; and what can run as configured now.
fn cannot_plan(ctx: &Context, config: &crate::config::Config, strategy: Strategy, why: &PlanError) -> CliError {
    let message = format!("cannot plan `{}`: {why}", strategy.qualified());
    let mut error = match why {
        PlanError::NotConfigured(_) => CliError::usage(message),
        PlanError::Unreachable(_) => CliError::new(ErrorKind::Unreachable, message),
        PlanError::Refused(_) => CliError::new(ErrorKind::Refused, message),
        PlanError::Failed(_) => CliError::failed(message),
    };
    if let (PlanError::NotConfigured(_), Some(example)) = (why, toml_example(strategy)) {
        let file = config_file_hint(ctx);
        error = error.hint(format!(
            "add to {file}:\n\n{}\n",
            example.lines().map(|l| format!("    {l}")).collect::<Vec<_>>().join("\n")
        ));
    }
    let ready: Vec<String> = recovery::escalation(strategy.component())
        .iter()
        .filter(|s| **s != strategy && execute::plan(config, **s).is_ok())
        .map(|s| ctx.follow_up(&format!("recover -c {} --strategy {} --dry-run", strategy.component(), s.name())))
        .collect();
    if !ready.is_empty() {
        error = error.hint(format!("what can run as configured now:\n    {}", ready.join("\n    ")));
    }
    error
}

/// The TOML that configures a strategy which needs settings.
fn toml_example(strategy: Strategy) -> Option<&'static str> {
    match strategy {
        Strategy::Restart => Some("[recovery.redis]\nrestart_command = \"systemctl restart redis-server\""),
        Strategy::ModelFailover => {
            Some("[recovery.openwebui]\nprimary_model = \"llama3:8b\"\nfallback_models = [\"phi3:mini\"]")
        }
        Strategy::DiskCleanup => Some(
            "[recovery.system]\ncleanup_paths = [{ path = \"/var/log/myapp\", older_than = \"7d\", glob = \"*.log\" }]\nsnapshot_keep_last = 7",
        ),
        Strategy::MemoryRelief => {
            Some("[recovery.system]\nmemory_relief_command = \"sync; echo 1 > /proc/sys/vm/drop_caches\"")
        }
        Strategy::ProcessRestart => {
            Some("[recovery.system]\nprocess_restart_command = \"systemctl restart open-webui\"")
        }
        _ => None,
    }
}

/// The config file to edit: the one given, else the default path.
fn config_file_hint(ctx: &Context) -> String {
    match &ctx.global.config {
        Some(path) => format!("`{}`", path.display()),
        None => "your config file (`ifctl config show` names it; by default `~/.config/ifctl/ifctl.toml`)".into(),
    }
}
