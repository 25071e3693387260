//! `ifctl completions SHELL`: a completion script generated from the clap model.

use clap_complete::Shell;

use crate::cli::{Context, Failure};
use crate::exit;

#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell to generate for
    #[arg(value_enum)]
    pub shell: Shell,
}

/// The completion script for a shell, as committed under `completions/`.
pub fn script(shell: Shell) -> String {
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut crate::cli::command(), "ifctl", &mut buf);
    String::from_utf8(buf).expect("completion scripts are UTF-8")
}

pub fn run(ctx: &Context, args: CompletionsArgs) -> Result<u8, Failure> {
    ctx.printer.out(&script(args.shell))?;
    Ok(exit::SUCCESS)
}
