//! `ifctl approve`: run, list or deny recoveries queued for approval.

use crate::cli::progress::Bars;
use crate::cli::table::new_table;
use crate::cli::{CliError, Context, ErrorKind, Failure};
use crate::config::ProcessEnv;
use crate::exit;
use crate::health::{Probes, Secrets, Status};
use crate::journal::{NewEvent, format_ts};
use crate::recovery::policy::{self, Verdict};
use crate::recovery::{self, PlanError, execute, state};

pub const AFTER_HELP: &str = concat!(
    "EXAMPLES:\n",
    "  ifctl approve --list\n",
    "  ifctl approve 0193a8f2-…  --reason \"checked with the team\"\n",
    "  ifctl approve --deny 0193a8f2-… --reason \"will restart by hand\"\n",
    "\n",
    "An approval runs the plan only if it is still pending (not approved, denied or run already),\n",
    "not expired (`approval_ttl_seconds`), the plan planned now has the same hash (same command,\n",
    "patterns, snapshot…), the component is still unhealthy (but for model_failover, which the\n",
    "probe cannot judge), and the policy allows an attempt.\n",
    "Otherwise it refuses and says which. Approving twice runs it once.\n",
    "With targets, an action id knows its target (no --target needed); `--list` without a target\n",
    "lists every target's pending actions.\n",
    "\n",
    "EXIT STATUS:\n",
    "  0    approved and recovered; denied; or listed\n",
    "  1    approved, but the attempt failed\n",
    "  2    usage or configuration error (no such action id; the strategy is no longer configured)\n",
    "  3    the server the plan must look at is unreachable\n",
    "  6    refused: already closed, expired, plan changed, component healthy, or policy"
);

#[derive(Debug, clap::Args)]
#[command(group = clap::ArgGroup::new("what").required(true).args(["action_id", "list", "deny"]))]
pub struct ApproveArgs {
    /// The action id `recover` printed
    #[arg(value_name = "ACTION_ID")]
    pub action_id: Option<String>,
    /// List pending actions
    #[arg(long)]
    pub list: bool,
    /// Deny (close) this pending action
    #[arg(long, value_name = "ACTION_ID")]
    pub deny: Option<String>,
    /// Why (journaled)
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
}

/// The config an approval acts under: the target its action id was queued for (found in the
/// journal), which must agree with a target named on the command line.
fn for_action(ctx: &Context, id: &str) -> Result<crate::config::Resolved, CliError> {
    let any = ctx.config_any()?;
    if any.target_names().is_empty() {
        return Ok(any);
    }
    let since = crate::journal::now() - chrono::Duration::days(8);
    let queued = crate::journal::newest_mentioning(&any.config.journal_path(), id, since, |e| {
        e.kind == state::PENDING && e.details.get("action_id").and_then(|v| v.as_str()) == Some(id)
    });
    let Some(queued) = queued else {
        // Unknown here: say so, rather than ask for a target it would not help to give.
        return Err(CliError::usage(format!("no recovery is waiting for approval under `{id}`"))
            .hint(format!("`{}` shows the pending ones of every target", ctx.follow_up("approve --list"))));
    };
    match queued.target {
        // Queued before the config had targets: which stack it was for is a person's call.
        None if !any.target_named() => {
            Err(CliError::usage(format!("`{id}` was queued before the config had targets, so it names no target"))
                .hint("name the stack it is for: `ifctl --target NAME approve …` (its plan must still match there)"))
        }
        None => Ok(any),
        Some(target) => match &any.config.target {
            Some(chosen) if *chosen != target && any.target_named() => {
                Err(CliError::usage(format!("`{id}` was queued for target `{target}`, not `{chosen}`"))
                    .hint(format!("run it without --target and IFCTL_TARGET, or with --target {target}")))
            }
            _ => {
                ctx.printer.status(&format!("Target `{target}` (the one `{id}` was queued for)."));
                ctx.config_named(&target)
            }
        },
    }
}

/// `--list`: the pending actions of `targets` (every target of the config when none is chosen),
/// with a TARGET column and `target` fields when `labelled`.
fn list(ctx: &Context, targets: Vec<crate::config::Resolved>, labelled: bool) -> Result<u8, Failure> {
    let mut rows: Vec<(String, state::Pending)> = Vec::new();
    for resolved in targets {
        let config = &resolved.config;
        let st = state::derive_for(config, crate::journal::now())
            .map_err(|e| CliError::failed(format!("cannot read the journal: {e}")))?;
        for p in st.pending() {
            // One queued before the config had targets shows under each target: list it once.
            if !rows.iter().any(|(_, seen)| seen.action_id == p.action_id) {
                rows.push((config.target_name().to_string(), p.clone()));
            }
        }
    }
    if ctx.printer.json() {
        let docs: Vec<serde_json::Value> = rows
            .iter()
            .map(|(target, p)| {
                let mut v = serde_json::to_value(p).expect("pending serializes");
                if labelled {
                    v["target"] = serde_json::json!(target);
                }
                v
            })
            .collect();
        ctx.printer.json_value(&docs)?;
    } else if rows.is_empty() {
        ctx.printer.status("No actions are waiting for approval.");
    } else {
        let mut headers = vec!["ACTION ID", "STRATEGY", "REQUESTED", "EXPIRES", "PLAN"];
        if labelled {
            headers.insert(0, "TARGET");
        }
        let mut table = new_table(&headers, ctx.printer.stdout_is_tty());
        for (target, p) in rows {
            let mut row = vec![
                p.action_id.clone(),
                p.plan.strategy.qualified(),
                crate::cli::time::human(&p.ts),
                crate::cli::time::human(&p.expires_at),
                p.plan.actions.join("; "),
            ];
            if labelled {
                row.insert(0, target);
            }
            table.add_row(row);
        }
        ctx.printer.line(&table.to_string())?;
    }
    Ok(exit::SUCCESS)
}

pub fn run(ctx: &Context, args: ApproveArgs) -> Result<u8, Failure> {
    let resolved = match (&args.action_id, &args.deny) {
        (Some(id), _) | (None, Some(id)) => for_action(ctx, id)?,
        (None, None) => {
            let any = ctx.config_any()?;
            // `default_target` does not narrow the list: an approval waits on any target.
            if !any.target_named() && !any.target_names().is_empty() {
                return list(ctx, ctx.fleet()?, true);
            }
            if args.list {
                let labelled = any.config.target.is_some();
                return list(ctx, vec![any], labelled);
            }
            any
        }
    };
    let config = &resolved.config;
    let journal = ctx.journal(&resolved);
    let st = state::derive_for(config, crate::journal::now())
        .map_err(|e| CliError::failed(format!("cannot read the journal: {e}")))?;
    let (id, deny) = match (&args.deny, &args.action_id) {
        (Some(id), _) => (id.clone(), true),
        (None, Some(id)) => (id.clone(), false),
        (None, None) => unreachable!("clap requires one"),
    };
    let unknown = || {
        CliError::usage(format!("no recovery is waiting for approval under `{id}`"))
            .hint(format!("`{}` shows the pending ones", ctx.follow_up("approve --list")))
    };
    let component = st.requests.get(&id).ok_or_else(unknown)?.plan.component;
    // Decisions and actions for one component are exclusive across processes: a concurrent
    // approve (or serve, or recover) holding it makes this one exit 6 naming it. The state is
    // read again under the lock, so an approval granted meanwhile is seen.
    let action = format!("ifctl approve {id}");
    let _lock = crate::snapshot::lock::acquire_recovery(&config.journal_path(), &config.scoped(component), &action)?;
    let st = state::derive_for(config, crate::journal::now())
        .map_err(|e| CliError::failed(format!("cannot read the journal: {e}")))?;
    let request = st.requests.get(&id).ok_or_else(unknown)?;
    let refuse = |why: String| -> Failure { CliError::new(ErrorKind::Refused, why).into() };
    if let Some(closed) = st.closed.get(&id) {
        return Err(refuse(format!(
            "`{id}` was already {} at {} by {}",
            closed.kind,
            format_ts(&closed.ts),
            closed.by
        )));
    }
    if request.expires_at <= st.now {
        return Err(refuse(format!("`{id}` expired at {}; run `ifctl recover` again", format_ts(&request.expires_at))));
    }
    let plan = &request.plan;
    if deny {
        journal.append(
            NewEvent::new(state::DENIED, "denied")
                .component(plan.component.name())
                .details(serde_json::json!({"action_id": id, "strategy": plan.strategy, "reason": args.reason})),
        )?;
        ctx.printer.line(&format!("Denied `{id}` ({}).", plan.strategy.qualified()))?;
        return Ok(exit::SUCCESS);
    }
    let now_plan = execute::plan(config, plan.strategy).map_err(|e| {
        let message = format!("cannot plan it now: {e}");
        match e {
            PlanError::NotConfigured(_) => CliError::usage(message)
                .hint("the config changed since it was requested; see `ifctl recover --help`")
                .into(),
            PlanError::Unreachable(_) => CliError::new(ErrorKind::Unreachable, message).into(),
            PlanError::Refused(_) | PlanError::Failed(_) => refuse(message),
        }
    })?;
    if now_plan.hash() != request.plan_hash {
        return Err(refuse(format!(
            "the plan changed since it was requested (hash {} then, {} now): {}; run `ifctl recover` again",
            request.plan_hash,
            now_plan.hash(),
            now_plan.actions.join("; ")
        )));
    }
    let secrets = Secrets::from_env(config, &ProcessEnv);
    let runtime = crate::cli::runtime();
    let probe = runtime.block_on(Probes::new(config, secrets.clone(), config.health.timeout).probe(plan.component));
    // The probe never tests a model: a model failover is asked for by a person, not by a status.
    if probe.status == Status::Healthy && plan.strategy != crate::recovery::Strategy::ModelFailover {
        return Err(refuse(format!("{} is healthy now; nothing to approve", plan.component)));
    }
    if let Verdict::Refused { reason, .. } = policy::check(config, &st, plan.strategy, true) {
        return Err(refuse(reason));
    }
    journal.append(NewEvent::new(state::GRANTED, "granted").component(plan.component.name()).details(
        serde_json::json!({
            "action_id": id, "strategy": plan.strategy, "plan_hash": request.plan_hash, "reason": args.reason,
        }),
    ))?;
    let bars = Bars::new(ctx.printer.progress_allowed());
    let result = runtime.block_on(recovery::attempt(
        config,
        &secrets,
        &now_plan,
        Some(&id),
        args.reason.as_deref(),
        &journal,
        &bars,
    ))?;
    super::recover::show_result(ctx, &result)
}
