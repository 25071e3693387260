//! `ifctl config show`: the resolved configuration, value by value, with sources.

use crate::cli::table::new_table;
use crate::cli::{Context, Failure};
use crate::config::{ProcessEnv, shown_values};
use crate::exit;

pub const AFTER_HELP: &str = concat!(
    "EXAMPLES:\n",
    "  ifctl config show\n",
    "  IFCTL_REDIS_URL=redis://10.0.0.5:6379 ifctl config show\n",
    "  ifctl --output json config show | jq '.values[] | select(.source != \"default\")'\n",
    "\n",
    "Precedence: built-in defaults < config file < the chosen target's `[targets.<name>]` <\n",
    "IFCTL_* environment < flags. Secrets are read from the environment variables (or files) the\n",
    "config names and are shown masked. With targets, --target NAME shows that target's values\n",
    "(`ifctl targets` lists them); without one chosen, the top level they inherit.\n",
    "\n",
    "EXIT STATUS:\n",
    "  0    the configuration is valid\n",
    "  2    the configuration is invalid: the file, key and reason are printed"
);

#[derive(Debug, clap::Args)]
pub struct ShowArgs {}

pub fn run(ctx: &Context, _args: ShowArgs) -> Result<u8, Failure> {
    let resolved = ctx.config_any()?;
    let values = shown_values(&resolved, &ProcessEnv);
    if ctx.printer.json() {
        ctx.printer.json_value(&serde_json::json!({
            "file": resolved.file,
            "target": resolved.config.target,
            "targets": resolved.target_names(),
            "values": values,
        }))?;
        return Ok(exit::SUCCESS);
    }
    let file = match &resolved.file {
        Some(path) => format!("Config file: `{}`.", path.display()),
        None => "Config file: none (built-in defaults).".to_string(),
    };
    let mut table = new_table(&["KEY", "VALUE", "SOURCE"], ctx.printer.stdout_is_tty());
    for v in &values {
        let value = match &v.value {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Null => "(unset)".into(),
            other => other.to_string(),
        };
        table.add_row(vec![v.key.clone(), value, v.source.clone()]);
    }
    ctx.printer.line(&file)?;
    match (&resolved.config.target, &resolved.chosen_by) {
        (Some(name), Some(by)) => ctx.printer.line(&format!("Target: `{name}` (chosen by {by}).")),
        _ if !resolved.target_names().is_empty() => ctx.printer.line(&format!(
            "Targets: {}; none chosen, so these are the top-level values they inherit (pass --target NAME).",
            resolved.target_names().join(", ")
        )),
        _ => Ok(()),
    }?;
    ctx.printer.line(&table.to_string())?;
    Ok(exit::SUCCESS)
}
