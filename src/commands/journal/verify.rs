//! `ifctl journal verify`: the whole chain, with the first bad line when it is broken.

use crate::cli::{CliError, Context, ErrorKind, Failure};
use crate::exit;
use crate::journal;

pub const AFTER_HELP: &str = concat!(
    "EXAMPLES:\n",
    "  ifctl journal verify\n",
    "  ifctl --output json journal verify | jq .first_bad_line\n",
    "\n",
    "Every line must parse, hash to its `hash`, link to the previous line's hash through `prev`,\n",
    "and carry the next `seq`. A torn last line (a crash mid-write) is reported, not fatal.\n",
    "\n",
    "EXIT STATUS:\n",
    "  0    the chain is intact (or there is no journal yet)\n",
    "  1    the journal could not be read\n",
    "  2    usage or configuration error\n",
    "  4    the chain is broken: the first bad line is printed"
);

#[derive(Debug, clap::Args)]
pub struct VerifyArgs {}

pub fn run(ctx: &Context, _args: VerifyArgs) -> Result<u8, Failure> {
    let resolved = ctx.config()?;
    let path = resolved.config.journal_path();
    let report = journal::verify(&path)
        .map_err(|e| CliError::failed(format!("cannot read journal `{}`: {e}", path.display())))?;
    if report.torn_tail {
        ctx.printer.warn(
            "the journal ends in a torn line (a crash mid-write); it is skipped and the next write sets it aside",
        );
    }
    if ctx.printer.json() {
        ctx.printer.json_value(&report)?;
        return Ok(if report.ok { exit::SUCCESS } else { exit::INTEGRITY });
    }
    if report.ok {
        let last = report.last_hash.as_deref().map_or(String::new(), |h| format!(", last hash {}", &h[..12]));
        ctx.printer.line(&format!("Journal `{}` is intact: {} events{last}.", path.display(), report.events))?;
        return Ok(exit::SUCCESS);
    }
    let line = report.first_bad_line.unwrap_or(0);
    Err(CliError::new(
        ErrorKind::Integrity,
        format!(
            "journal `{}` chain is broken at line {line}: {} ({} events before it are intact)",
            path.display(),
            report.reason.as_deref().unwrap_or("unknown reason"),
            report.events
        ),
    )
    .hint(format!("inspect it with `sed -n '{line}p' {}`; keep a copy before changing anything", path.display()))
    .into())
}
