//! `ifctl journal note`: an operator's own entry in the audit trail.

use crate::cli::{CliError, Context, Failure};
use crate::config::Component;
use crate::exit;
use crate::journal::NewEvent;

pub const AFTER_HELP: &str = concat!(
    "EXAMPLES:\n",
    "  ifctl journal note \"restarted redis by hand after OOM\" --component redis\n",
    "  ifctl journal note \"maintenance window starts\"\n",
    "\n",
    "The note is journaled as kind `operator.note` with your user, host and the time.\n",
    "\n",
    "EXIT STATUS:\n",
    "  0    the note was journaled\n",
    "  1    the journal could not be written\n",
    "  2    usage or configuration error"
);

#[derive(Debug, clap::Args)]
pub struct NoteArgs {
    /// What happened, in a sentence
    #[arg(value_name = "TEXT")]
    pub text: String,
    /// The component the note is about
    #[arg(long, short = 'c', value_enum, value_name = "C")]
    pub component: Option<Component>,
}

pub fn run(ctx: &Context, args: NoteArgs) -> Result<u8, Failure> {
    if args.text.trim().is_empty() {
        return Err(CliError::usage("the note is empty").into());
    }
    let resolved = ctx.config_any()?;
    let journal = ctx.journal(&resolved);
    let mut event = NewEvent::new("operator.note", "noted").details(serde_json::json!({"text": args.text}));
    if let Some(component) = args.component {
        event = event.component(component.name());
    }
    let event = journal.append(event)?;
    if ctx.printer.json() {
        ctx.printer.json_value(&event)?;
    } else {
        ctx.printer.line(&format!("Noted as event {} in `{}`.", event.seq, journal.path().display()))?;
    }
    Ok(exit::SUCCESS)
}
