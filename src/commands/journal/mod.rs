//! `ifctl journal verify | note | rotate`.

pub mod note;
pub mod rotate;
pub mod verify;

use crate::cli::{Context, Failure};

#[derive(Debug, clap::Subcommand)]
pub enum JournalCommand {
    /// Walk the hash chain and report the first line that breaks it
    #[command(after_long_help = verify::AFTER_HELP)]
    Verify(verify::VerifyArgs),
    /// Record an operator's note (a manual action, a decision) in the journal
    #[command(after_long_help = note::AFTER_HELP)]
    Note(note::NoteArgs),
    /// Close the live journal as a numbered segment and go on in a new file (chain kept)
    #[command(after_long_help = rotate::AFTER_HELP)]
    Rotate(rotate::RotateArgs),
}

pub fn run(ctx: &Context, command: JournalCommand) -> Result<u8, Failure> {
    match command {
        JournalCommand::Verify(args) => verify::run(ctx, args),
        JournalCommand::Note(args) => note::run(ctx, args),
        JournalCommand::Rotate(args) => rotate::run(ctx, args),
    }
}
