//! `ifctl targets`: the named stacks of the config, what each points at and where each value
//! came from.

use serde::Serialize;

use crate::cli::table::new_table;
use crate::cli::{Context, Failure};
use crate::config::{ProcessEnv, Source, shown_values};
use crate::exit;

pub const AFTER_HELP: &str = concat!(
    "EXAMPLES:\n",
    "  ifctl targets\n",
    "  ifctl --output json targets | jq -r '.targets[].name'\n",
    "  ifctl --target prod health check\n",
    "  IFCTL_TARGET=staging ifctl recover redis --dry-run\n",
    "\n",
    "A target is a `[targets.<name>]` table of the config file; it may set the sections redis,\n",
    "chromadb, openwebui, system, health, thresholds, snapshots and recovery, and inherits every\n",
    "key it does not set from the top level (state_dir, serve and journal are shared). Commands\n",
    "act on the target named by --target, else IFCTL_TARGET, else `default_target`. Snapshot\n",
    "places inherited from the top level get a sub-directory (or prefix) per target. Listed for\n",
    "each target: where Redis, Chroma, OpenWebUI and its snapshots are, and every key it sets.\n",
    "\n",
    "EXIT STATUS:\n",
    "  0    the targets were listed (possibly none)\n",
    "  2    the configuration is invalid (file, line, key and reason are printed)"
);

#[derive(Debug, clap::Args)]
pub struct TargetsArgs {}

#[derive(Debug, Serialize)]
struct Shown {
    name: String,
    default: bool,
    values: Vec<Row>,
}

#[derive(Debug, Serialize)]
struct Row {
    key: String,
    value: serde_json::Value,
    source: String,
}

/// Keys every listing shows, set or inherited.
const MAIN_KEYS: [&str; 3] = ["redis.url", "chromadb.url", "openwebui.url"];

pub fn run(ctx: &Context, _args: TargetsArgs) -> Result<u8, Failure> {
    let loaded = ctx.loaded()?;
    let fleet = ctx.fleet_quiet()?;
    let file = loaded.file().map(|f| f.display().to_string());
    let names = loaded.names();
    let mut shown = Vec::new();
    if !names.is_empty() {
        for resolved in &fleet {
            let mut rows = Vec::new();
            for value in shown_values(resolved, &ProcessEnv) {
                let own = matches!(resolved.source_of(&value.key), Source::Target(..));
                if MAIN_KEYS.contains(&value.key.as_str()) || own {
                    rows.push(Row { key: value.key, value: value.value, source: value.source });
                }
            }
            let snapshots = resolved.config.snapshot_repository();
            let source = ["snapshots.repository", "snapshots.dir"]
                .iter()
                .map(|k| resolved.source_of(k))
                .find(|s| *s != Source::Default)
                .map_or("default: <state_dir>/targets/<name>/snapshots".to_string(), |s| match s {
                    Source::Target(..) => s.to_string(),
                    other => format!("{other}, + /{}", resolved.config.target_name()),
                });
            rows.push(Row { key: "snapshots (where)".into(), value: serde_json::json!(snapshots), source });
            let name = resolved.config.target_name().to_string();
            shown.push(Shown { default: loaded.default_target() == Some(name.as_str()), name, values: rows });
        }
    }
    if ctx.printer.json() {
        ctx.printer.json_value(&serde_json::json!({
            "file": file,
            "default_target": loaded.default_target(),
            "targets": shown,
        }))?;
        return Ok(exit::SUCCESS);
    }
    if names.is_empty() {
        ctx.printer.line(&format!(
            "No targets: {} defines no `[targets.<name>]` tables; every command acts on its one stack.",
            file.map_or("the configuration (built-in defaults)".to_string(), |f| format!("`{f}`"))
        ))?;
        return Ok(exit::SUCCESS);
    }
    let default = match loaded.default_target() {
        Some(name) => format!("default target `{name}`"),
        None => "no default target (pass --target or set IFCTL_TARGET)".to_string(),
    };
    ctx.printer.line(&format!("{} targets in `{}`; {default}.", shown.len(), file.unwrap_or_default()))?;
    let mut table = new_table(&["TARGET", "KEY", "VALUE", "SOURCE"], ctx.printer.stdout_is_tty());
    for target in &shown {
        let label = if target.default { format!("{} (default)", target.name) } else { target.name.clone() };
        for (i, row) in target.values.iter().enumerate() {
            let value = match &row.value {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Null => "(unset)".into(),
                other => other.to_string(),
            };
            // Masked before the table measures it, so the columns line up.
            let value = crate::config::redact_userinfo(&value).into_owned();
            let name = if i == 0 { label.clone() } else { String::new() };
            table.add_row(vec![name, row.key.clone(), value, row.source.clone()]);
        }
    }
    ctx.printer.line(&table.to_string())?;
    Ok(exit::SUCCESS)
}
