//! `ifctl journal rotate`: close the live journal as a numbered segment; the chain goes on.

use crate::cli::{Context, Failure};
use crate::exit;

pub const AFTER_HELP: &str = concat!(
    "EXAMPLES:\n",
    "  ifctl journal rotate\n",
    "  ifctl journal rotate --reason \"monthly archive\"\n",
    "\n",
    "The live file becomes `journal.NNNNNN.jsonl` (gzipped when journal.compress_segments is on)\n",
    "and a new live file starts with a `journal.rotated` event that links to the old head, so\n",
    "`journal verify`, `history` and the recovery policy read across segments. ifctl also rotates\n",
    "by itself at journal.rotate_mib. Do not use logrotate on the journal: renaming or truncating\n",
    "it from outside breaks the chain. Old segments may be shipped elsewhere and removed.\n",
    "\n",
    "EXIT STATUS:\n",
    "  0    rotated (or the journal was empty: nothing to do)\n",
    "  1    the journal could not be rotated\n",
    "  2    usage or configuration error"
);

#[derive(Debug, clap::Args)]
pub struct RotateArgs {
    /// Why, recorded in the `journal.rotated` event
    #[arg(long, default_value = "operator", value_name = "TEXT")]
    pub reason: String,
}

pub fn run(ctx: &Context, args: RotateArgs) -> Result<u8, Failure> {
    let resolved = ctx.config_any()?;
    let journal = ctx.journal(&resolved);
    let rotation = journal.rotate(&args.reason)?;
    if ctx.printer.json() {
        ctx.printer.json_value(&rotation)?;
        return Ok(exit::SUCCESS);
    }
    match rotation {
        None => ctx.printer.line(&format!("Journal `{}` is empty; nothing to rotate.", journal.path().display()))?,
        Some(r) => ctx.printer.line(&format!(
            "Rotated events {}–{} ({} bytes) to `{}`; the live journal continues at seq {}.",
            r.first_seq,
            r.last_seq,
            r.bytes,
            r.segment.display(),
            r.link.seq
        ))?,
    }
    Ok(exit::SUCCESS)
}
