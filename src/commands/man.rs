//! `ifctl man DIR`: one roff page per command, generated from the clap model.

use std::path::{Path, PathBuf};

use crate::cli::{CliError, Context, Failure};
use crate::exit;

#[derive(Debug, clap::Args)]
pub struct ManArgs {
    /// Directory to write `ifctl.1`, `ifctl-health-check.1`, … into (created if missing)
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
}

/// Every page as (file name, contents), as committed under `man/`.
pub fn pages() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    collect(crate::cli::command(), "ifctl", "ifctl", &mut out);
    out
}

/// `name` is the page's (`ifctl-health-check`), `typed` what one types (`ifctl health check`),
/// which the synopsis shows.
fn collect(cmd: clap::Command, name: &str, typed: &str, out: &mut Vec<(String, Vec<u8>)>) {
    let cmd = cmd.name(name.to_string()).bin_name(typed.to_string());
    let mut buf = Vec::new();
    clap_mangen::Man::new(cmd.clone()).render(&mut buf).expect("rendering to memory cannot fail");
    out.push((format!("{name}.1"), buf));
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        collect(sub.clone(), &format!("{name}-{}", sub.get_name()), &format!("{typed} {}", sub.get_name()), out);
    }
}

pub fn write_pages(dir: &Path) -> std::io::Result<usize> {
    std::fs::create_dir_all(dir)?;
    let pages = pages();
    for (file, contents) in &pages {
        std::fs::write(dir.join(file), contents)?;
    }
    Ok(pages.len())
}

pub fn run(ctx: &Context, args: ManArgs) -> Result<u8, Failure> {
    let count = write_pages(&args.dir)
        .map_err(|e| CliError::failed(format!("cannot write man pages to `{}`: {e}", args.dir.display())))?;
    ctx.printer.status(&format!("Wrote {count} man pages to `{}`.", args.dir.display()));
    Ok(exit::SUCCESS)
}
