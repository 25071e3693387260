//! `ifctl history`: journal events, newest last, read from the end of the journal.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::cli::table::new_table;
use crate::cli::{CliError, Context, Failure};
use crate::config::Component;
use crate::exit;
use crate::journal::{self, Event, Filter};

pub const AFTER_HELP: &str = concat!(
    "EXAMPLES:\n",
    "  ifctl history                               the last 50 events\n",
    "  ifctl history --since 1h --kind health      status changes in the last hour\n",
    "  ifctl history --component redis --limit 0   everything about Redis\n",
    "  ifctl history --target prod --kind recovery what recovery did on target `prod`\n",
    "  ifctl history --follow                      keep printing new events (Ctrl-C to stop)\n",
    "  ifctl --output json history | jq '.[].kind'\n",
    "\n",
    "With --output json the events are printed as a JSON array (each event exactly as journaled);\n",
    "with --follow, as one JSON object per line. With `[targets.*]` in the config, a TARGET column\n",
    "shows which stack each event is about; `--target NAME` (or IFCTL_TARGET) shows only that one's.\n",
    "\n",
    "EXIT STATUS:\n",
    "  0    events printed (possibly none)\n",
    "  1    the journal could not be read\n",
    "  2    usage or configuration error\n",
    "  130  interrupted (--follow, Ctrl-C)"
);

#[derive(Debug, clap::Args)]
pub struct HistoryArgs {
    /// Only events about this component
    #[arg(long, short = 'c', value_enum, value_name = "C")]
    pub component: Option<Component>,
    /// Only events of this kind; `recovery` matches `recovery.*` (repeatable)
    #[arg(long = "kind", short = 'k', value_name = "K")]
    pub kinds: Vec<String>,
    /// Only events since a duration ago (`90m`, `2h`) or a time (`2026-11-24T08:00:00Z`)
    #[arg(long, value_name = "DUR|TIME", value_parser = parse_since)]
    pub since: Option<DateTime<Utc>>,
    /// Show at most the N newest matching events; 0 for all
    #[arg(long, short = 'n', default_value_t = 50, value_name = "N")]
    pub limit: usize,
    /// Keep printing new events as they are journaled
    #[arg(long, short = 'f')]
    pub follow: bool,
}

fn parse_since(text: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(ago) = humantime::parse_duration(text) {
        let ago = chrono::Duration::from_std(ago).map_err(|e| e.to_string())?;
        return Ok(Utc::now() - ago);
    }
    if let Ok(ts) = DateTime::parse_from_rfc3339(text) {
        return Ok(ts.with_timezone(&Utc));
    }
    Err(format!("`{text}` is neither a duration (`90m`, `2h`) nor an RFC 3339 time (`2026-11-24T08:00:00Z`)"))
}

pub fn run(ctx: &Context, args: HistoryArgs) -> Result<u8, Failure> {
    let resolved = ctx.config_any()?;
    let path = resolved.config.journal_path();
    // A target named on this command line (or by IFCTL_TARGET) filters; `default_target` does
    // not: the record of every target is the point of `history`.
    let target = if resolved.target_named() { resolved.config.target.clone() } else { None };
    let filter = Filter {
        kinds: args.kinds.clone(),
        component: args.component.map(|c| c.name().to_string()),
        target,
        since: args.since,
    };
    let with_target = !resolved.config.targets.is_empty();
    // Taken before reading so nothing appended meanwhile is missed; `follow` skips repeats by seq.
    let follow_from = journal::end_offset(&path);
    let (events, notes) = journal::recent(&path, &filter, args.limit)
        .map_err(|e| CliError::failed(format!("cannot read journal `{}`: {e}", path.display())))?;
    if notes.torn_tail {
        ctx.printer.warn("the journal ends in a torn line (a crash mid-write); it was skipped");
    }
    if notes.unreadable_lines > 0 {
        ctx.printer.warn(&format!(
            "{} journal lines are not valid events and were skipped; run `ifctl journal verify`",
            notes.unreadable_lines
        ));
    }
    if args.follow {
        let with_target = with_target || events.iter().any(|e| e.target.is_some());
        return follow(ctx, &path, &filter, events, follow_from, with_target);
    }
    if ctx.printer.json() {
        ctx.printer.json_value(&events)?;
    } else if events.is_empty() {
        ctx.printer.status(&format!("No matching events in `{}`.", path.display()));
    } else {
        let with_target = with_target || events.iter().any(|e| e.target.is_some());
        let mut headers = vec!["TIME", "KIND", "COMPONENT", "OUTCOME", "SUMMARY"];
        if with_target {
            headers.insert(1, "TARGET");
        }
        let mut table = new_table(&headers, ctx.printer.stdout_is_tty());
        for event in &events {
            table.add_row(row(event, with_target));
        }
        ctx.printer.line(&table.to_string())?;
    }
    Ok(exit::SUCCESS)
}

fn row(event: &Event, with_target: bool) -> Vec<String> {
    let mut row = vec![
        crate::cli::time::human(&event.ts),
        event.kind.clone(),
        event.component.clone().unwrap_or_else(|| "-".into()),
        event.outcome.clone(),
        summary(event),
    ];
    if with_target {
        row.insert(1, event.target.clone().unwrap_or_else(|| "-".into()));
    }
    row
}

fn line(event: &Event, with_target: bool) -> String {
    row(event, with_target).join("  ")
}

/// The gist of an event's details in a few words.
fn summary(event: &Event) -> String {
    let d = &event.details;
    let text = |key: &str| d.get(key).and_then(|v| v.as_str()).map(String::from);
    match event.kind.as_str() {
        "health.transition" => {
            let from = text("from").unwrap_or_else(|| "(first seen)".into());
            let to = text("to").unwrap_or_default();
            let reason = text("reason").map_or(String::new(), |r| format!(": {r}"));
            format!("{from} -> {to}{reason}")
        }
        "operator.note" => text("text").unwrap_or_default(),
        "recovery.attempt" => {
            let strategy = text("strategy").unwrap_or_default();
            let ms = d["duration_ms"].as_f64().unwrap_or(0.0);
            let actions: Vec<&str> =
                d["actions"].as_array().map_or(Vec::new(), |a| a.iter().filter_map(|x| x.as_str()).collect());
            let error = text("error").map_or(String::new(), |e| format!("; error: {e}"));
            let after = text("status_after").map_or(String::new(), |s| format!("; then {s}"));
            let done = if actions.is_empty() { String::new() } else { format!(": {}", actions.join("; ")) };
            format!("{strategy} in {:.1} s{done}{error}{after}", ms / 1000.0)
        }
        "recovery.started" => format!(
            "{} begins{}",
            text("strategy").unwrap_or_default(),
            text("action_id").map_or(String::new(), |id| format!(" (approved {id})"))
        ),
        "recovery.suspended" => {
            format!("{} not tried until {}", text("strategy").unwrap_or_default(), text("until").unwrap_or_default())
        }
        "recovery.pending" => format!(
            "{} awaits approval: ifctl approve {}",
            text("strategy").unwrap_or_default(),
            text("action_id").unwrap_or_default()
        ),
        "approval.granted" | "approval.denied" => format!(
            "{} {}{}",
            text("strategy").unwrap_or_default(),
            text("action_id").unwrap_or_default(),
            text("reason").map_or(String::new(), |r| format!(": {r}"))
        ),
        "recovery.disabled" => {
            format!("until {}: {}", text("until").unwrap_or_default(), text("reason").unwrap_or_default())
        }
        "snapshot.created" => format!(
            "`{}`: {} collections, {} rows, {}",
            text("name").unwrap_or_default(),
            d["collections"].as_array().map_or(0, Vec::len),
            d["rows"].as_u64().unwrap_or(0),
            crate::commands::snapshot::size(d["bytes"].as_u64().unwrap_or(0))
        ),
        "snapshot.restore_started" => format!(
            "from `{}`: {} collections",
            text("snapshot").unwrap_or_default(),
            d["plan"].as_array().map_or(0, Vec::len)
        ),
        "snapshot.swap" => format!("`{}`: staging swapped in", text("collection").unwrap_or_default()),
        "snapshot.collection_restored" => format!(
            "`{}` from `{}`: {} -> {} records",
            text("collection").unwrap_or_default(),
            text("snapshot").unwrap_or_default(),
            d["before"].as_u64().map_or("absent".into(), |n| n.to_string()),
            d["after"].as_u64().unwrap_or(0)
        ),
        "snapshot.restored" => match text("error") {
            Some(error) => format!("from `{}` failed: {error}", text("snapshot").unwrap_or_default()),
            None => format!(
                "from `{}`: {} collections",
                text("snapshot").unwrap_or_default(),
                d["collections"].as_array().map_or(0, Vec::len)
            ),
        },
        "snapshot.repaired" => {
            format!("`{}`: {}", text("leftover").unwrap_or_default(), text("action").unwrap_or_default())
        }
        "snapshot.pruned" => format!(
            "deleted {}",
            d["deleted"].as_array().map_or(String::new(), |names| names
                .iter()
                .filter_map(|n| n.as_str())
                .collect::<Vec<_>>()
                .join(", "))
        ),
        _ => {
            let compact = d.to_string();
            if compact == "{}" { String::new() } else { compact.chars().take(120).collect() }
        }
    }
}

fn follow(
    ctx: &Context,
    path: &std::path::Path,
    filter: &Filter,
    initial: Vec<Event>,
    mut offset: u64,
    with_target: bool,
) -> Result<u8, Failure> {
    let emit = |event: &Event| -> Result<(), Failure> {
        if ctx.printer.json() {
            ctx.printer.json_line(event)?;
        } else {
            ctx.printer.line(&line(event, with_target))?;
        }
        Ok(())
    };
    let mut shown = 0u64;
    for event in &initial {
        emit(event)?;
        shown = shown.max(event.seq);
    }
    crate::cli::runtime().block_on(async {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(250)) => {}
                _ = tokio::signal::ctrl_c() => return Ok(exit::INTERRUPTED),
            }
            let (events, next) = journal::read_from(path, offset, filter)
                .map_err(|e| CliError::failed(format!("cannot read journal `{}`: {e}", path.display())))?;
            offset = next;
            for event in &events {
                if event.seq > shown {
                    emit(event)?;
                    shown = event.seq;
                }
            }
        }
    })
}
