//! The command-line front end: global flags, the command tree, and the one place where a run
//! becomes an exit code. Commands live in `crate::commands`, one file per leaf.

pub mod error;
pub mod log;
pub mod printer;
pub mod progress;
pub mod table;
pub mod time;

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{CommandFactory, Parser};

use crate::commands::Command;
use crate::config::{self, Overrides, ProcessEnv, Resolved};
use crate::exit;
use crate::journal::{Identity, Journal};
pub use error::{CliError, ErrorKind};
pub use printer::{BrokenPipe, ColorChoice, OutputMode, Printer};

/// Keeps a small AI-serving stack alive: Redis, ChromaDB, OpenWebUI and the host.
#[derive(Debug, Parser)]
#[command(name = "ifctl", version, about, propagate_version = true)]
#[command(after_long_help = const_format_help())]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

const fn const_format_help() -> &'static str {
    // The general exit codes follow the examples; `health` documents its own.
    concat!(
        "EXAMPLES:\n",
        "  ifctl health check                         probe Redis, Chroma, OpenWebUI and the host\n",
        "  ifctl health check --format nagios         one line for Nagios/Icinga\n",
        "  ifctl history --since 1h --kind health     what changed in the last hour\n",
        "  ifctl config show                          every setting and where it came from\n",
        "\n",
        "ENVIRONMENT:\n",
        "  IFCTL_CONFIG, IFCTL_STATE_DIR, IFCTL_REDIS_URL, IFCTL_CHROMADB_URL, IFCTL_OPENWEBUI_URL,\n",
        "  IFCTL_CHROMADB_TENANT, IFCTL_CHROMADB_DATABASE, IFCTL_CHROMADB_COLLECTIONS, IFCTL_DISK_PATHS,\n",
        "  IFCTL_SNAPSHOT_DIR; secrets: IFCTL_REDIS_PASSWORD, IFCTL_OPENWEBUI_TOKEN, IFCTL_OPENWEBUI_EMAIL,\n",
        "  IFCTL_OPENWEBUI_PASSWORD (names configurable). NO_COLOR disables colour.\n",
        "\n",
        "EXIT STATUS:\n",
        "  0    success\n",
        "  1    the operation failed\n",
        "  2    usage or configuration error\n",
        "  3    a backend was unreachable\n",
        "  4    integrity failure (checksum mismatch, validation failed, journal chain broken, data loss)\n",
        "  5    action queued for approval (its id is printed)\n",
        "  6    refused by policy (cooldown, auto-recovery disabled, lock held by another process)\n",
        "  130  interrupted\n",
        "  health check uses the Nagios convention instead: 0 healthy, 1 degraded, 2 unhealthy, 3 unknown."
    )
}

#[derive(Debug, Clone, clap::Args)]
pub struct GlobalArgs {
    /// Config file [default: $IFCTL_CONFIG, else $XDG_CONFIG_HOME/ifctl/ifctl.toml]
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Directory for the journal, snapshots and checkpoints [default: $IFCTL_STATE_DIR, else $XDG_STATE_HOME/ifctl]
    #[arg(long, global = true, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// The stack to act on, one of the config's `[targets.<name>]` [default: $IFCTL_TARGET, else
    /// `default_target`]; `ifctl targets` lists them
    #[arg(long, global = true, value_name = "NAME")]
    pub target: Option<String>,
    /// Output for people or a stable JSON schema on stdout (errors too)
    #[arg(long, global = true, value_enum, default_value = "human", value_name = "MODE")]
    pub output: OutputMode,
    /// When to use colour (never with NO_COLOR set, or with JSON)
    #[arg(long, global = true, value_enum, default_value = "auto", value_name = "WHEN")]
    pub color: ColorChoice,
    /// Print only results and errors
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Print more detail on stderr
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Show times in UTC instead of the local zone (TZ) in human output (JSON, Prometheus and
    /// the journal are always UTC)
    #[arg(long, global = true)]
    pub utc: bool,
}

/// What every command receives: the printer and the way to the config and the journal.
pub struct Context {
    pub printer: Printer,
    pub global: GlobalArgs,
}

impl Context {
    /// A follow-up command to print for the operator, with the `--config` and `--state-dir` this
    /// run was given, so it works when pasted as is.
    pub fn follow_up(&self, rest: &str) -> String {
        let mut command = String::from("ifctl");
        for (flag, value) in [("--config", &self.global.config), ("--state-dir", &self.global.state_dir)] {
            if let Some(value) = value {
                command.push_str(&format!(" {flag} {}", shell_quote(&value.to_string_lossy())));
            }
        }
        if let Some(target) = &self.global.target {
            command.push_str(&format!(" --target {}", shell_quote(target)));
        }
        format!("{command} {rest}")
    }
}

/// `text` as one POSIX shell word.
pub fn shell_quote(text: &str) -> String {
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_alphanumeric() || b"_./-=:@%+,".contains(&b)) {
        return text.to_string();
    }
    format!("'{}'", text.replace('\'', "'\\''"))
}

impl Context {
    fn overrides(&self) -> Overrides {
        Overrides {
            config_file: self.global.config.clone(),
            state_dir: self.global.state_dir.clone(),
            target: self.global.target.clone(),
        }
    }

    /// Reads the config file. With targets, every target is resolved and checked, whichever is
    /// used: a mistake in one is a mistake in the file, and two targets sharing a snapshot place
    /// would let one's prune delete the other's snapshots.
    /// Returns that check's result too, so commands on every target do not resolve them twice.
    fn checked(&self) -> Result<(config::Loaded, Option<config::Every>), CliError> {
        let loaded = config::load(&ProcessEnv, &self.overrides())?;
        if let Some(file) = loaded.file() {
            self.printer.debug(&format!("config file `{}`", file.display()));
        }
        let every = if loaded.names().is_empty() { None } else { Some(loaded.every(&ProcessEnv)?) };
        Ok((loaded, every))
    }

    fn load(&self) -> Result<config::Loaded, CliError> {
        Ok(self.checked()?.0)
    }

    /// Every target at once (the one stack of a config without targets).
    fn every(&self) -> Result<config::Every, CliError> {
        match self.checked()? {
            (_, Some(every)) => Ok(every),
            (loaded, None) => Ok(loaded.every(&ProcessEnv)?),
        }
    }

    /// The configuration of the stack to act on: defaults < file < target < environment < flags.
    /// A config with targets needs one chosen (`--target`, `IFCTL_TARGET`, `default_target`).
    pub fn config(&self) -> Result<Resolved, CliError> {
        let loaded = self.load()?;
        let chosen = loaded.chosen(&ProcessEnv, &self.overrides())?;
        if chosen.is_none() && !loaded.names().is_empty() {
            let file = loaded.file().map(|f| f.display().to_string()).unwrap_or_default();
            return Err(CliError::usage(format!(
                "the config file `{file}` defines targets ({}) and none is chosen",
                loaded.names().join(", ")
            ))
            .hint(format!(
                "pass --target NAME, set IFCTL_TARGET, or set `default_target` in `{file}`; `ifctl targets` lists them{}",
                if self.fleet_hint() { "; `--all-targets` checks every one" } else { "" }
            )));
        }
        let resolved = loaded.stack(&ProcessEnv, chosen, true)?;
        if let Some(target) = &resolved.config.target {
            self.printer.debug(&format!("target `{target}`"));
        }
        for warning in &resolved.warnings {
            self.printer.warn(warning);
        }
        Ok(resolved)
    }

    /// [`Context::config`] for commands that change a stack (snapshot, restore, prune, migrate,
    /// recover): with targets, they say on stderr which target they act on and why.
    pub fn acting_config(&self) -> Result<Resolved, CliError> {
        let resolved = self.config()?;
        if let (Some(target), Some(by)) = (&resolved.config.target, &resolved.chosen_by) {
            let by = match by {
                config::Source::File(_) | config::Source::Target(..) => "`default_target`".to_string(),
                other => other.to_string(),
            };
            self.printer.status(&format!("Target `{target}` (chosen by {by})."));
        }
        Ok(resolved)
    }

    /// Whether the running command offers `--all-targets` (for the hint above).
    fn fleet_hint(&self) -> bool {
        std::env::args().any(|a| a == "health") && std::env::args().any(|a| a == "check")
    }

    /// The configuration of the chosen target, or of the top level when none is chosen — for
    /// commands that read across targets (history, journal, config show).
    pub fn config_any(&self) -> Result<Resolved, CliError> {
        let loaded = self.load()?;
        let chosen = loaded.chosen(&ProcessEnv, &self.overrides())?;
        let resolved = loaded.stack(&ProcessEnv, chosen, true)?;
        for warning in &resolved.warnings {
            self.printer.warn(warning);
        }
        Ok(resolved)
    }

    /// Every target's configuration (one for a config without targets), each validated. The
    /// per-stack `IFCTL_*` variables would point every target at one server: ignored, with a
    /// warning.
    pub fn fleet(&self) -> Result<Vec<Resolved>, CliError> {
        let every = self.every()?;
        for warning in every.warnings.iter().chain(&every.secrets) {
            self.printer.warn(warning);
        }
        if let Some(target) = crate::config::Environment::var(&ProcessEnv, config::env::TARGET) {
            self.printer.warn(&format!("IFCTL_TARGET={target} is ignored: every target is used"));
        }
        Ok(every.all)
    }

    /// [`Context::fleet`] for `serve`, which runs unattended: an inherited secret it would not use
    /// is a configuration error (each target would be probed without it and journaled as failing
    /// for as long as serve runs), not a warning scrolled past.
    pub fn fleet_for_serve(&self) -> Result<Vec<Resolved>, CliError> {
        let every = self.every()?;
        if let Some(first) = every.secrets.first() {
            return Err(CliError::new(ErrorKind::Config, first.clone()).hint(
                "give each target its own secret variable or file in its `[targets.<name>.…]` table, or unset the inherited one; `ifctl --target NAME config show` shows what each target uses",
            ));
        }
        for warning in &every.warnings {
            self.printer.warn(warning);
        }
        Ok(every.all)
    }

    /// Every target without warnings, for listing them (`ifctl targets` checks nothing).
    pub fn fleet_quiet(&self) -> Result<Vec<Resolved>, CliError> {
        Ok(self.every()?.all)
    }

    /// The configuration of target `name` (flags and environment applied, as for one target).
    pub fn config_named(&self, name: &str) -> Result<Resolved, CliError> {
        let loaded = self.load()?;
        let overrides = Overrides { target: Some(name.to_string()), ..self.overrides() };
        let chosen = loaded.chosen(&ProcessEnv, &overrides)?;
        Ok(loaded.stack(&ProcessEnv, chosen, true)?)
    }

    /// The targets as loaded, for `ifctl targets`.
    pub fn loaded(&self) -> Result<config::Loaded, CliError> {
        self.load()
    }

    pub fn journal(&self, resolved: &Resolved) -> Journal {
        Journal::new(resolved.config.journal_path(), Identity::current())
            .with_options(resolved.config.journal.options())
            .with_target(resolved.config.target.clone())
    }
}

/// Parses the arguments, runs the command and returns the process exit code.
pub fn run(args: Vec<OsString>) -> u8 {
    // One TLS crypto provider for the process: rustls cannot pick one by itself when two are
    // compiled in (ring for the HTTP clients, aws-lc-rs for object storage), and the Redis
    // client's TLS relies on the process default.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(err) => return parse_failure(&args, &err),
    };
    time::set_utc(cli.global.utc);
    let printer = Printer::new(cli.global.output, cli.global.color, cli.global.quiet, cli.global.verbose);
    let ctx = Context { printer, global: cli.global.clone() };
    match crate::commands::run(&ctx, cli.command) {
        Ok(code) => code,
        Err(Failure::Error(error)) => {
            ctx.printer.error(&error);
            error.exit_code
        }
        Err(Failure::BrokenPipe) => exit::SUCCESS,
    }
}

/// Prints a clap error (or help) and picks the exit code: 3 under `health` (Nagios UNKNOWN),
/// 2 elsewhere, 0 for `--help` and `--version`. With `--output json` the error is JSON.
fn parse_failure(args: &[OsString], err: &clap::Error) -> u8 {
    use clap::error::ErrorKind as Kind;
    let code = match err.kind() {
        Kind::DisplayHelp | Kind::DisplayVersion => return print_clap(err, exit::SUCCESS),
        _ if subcommand(args) == Some("health") => exit::health::UNKNOWN,
        _ => exit::USAGE,
    };
    let json =
        args.windows(2).any(|w| w[0] == "--output" && w[1] == "json") || args.iter().any(|a| a == "--output=json");
    if !json {
        return print_clap(err, code);
    }
    let text = err.to_string();
    let message = text.lines().next().unwrap_or_default().trim_start_matches("error: ").to_string();
    let error = CliError::usage(message).hint("see `ifctl --help`").exit_code(code);
    Printer::new(OutputMode::Json, ColorChoice::Never, false, 0).error(&error);
    code
}

fn print_clap(err: &clap::Error, code: u8) -> u8 {
    let _ = err.print();
    code
}

/// The first word that is neither a flag nor a global flag's value.
fn subcommand(args: &[OsString]) -> Option<&str> {
    let mut words = args.iter().skip(1).filter_map(|a| a.to_str());
    while let Some(word) = words.next() {
        match word {
            "--config" | "--state-dir" | "--output" | "--color" | "--target" => {
                words.next();
            }
            w if w.starts_with('-') => {}
            w => return Some(w),
        }
    }
    None
}

/// How a command can end other than with its own exit code.
pub enum Failure {
    Error(CliError),
    BrokenPipe,
}

impl From<CliError> for Failure {
    fn from(error: CliError) -> Failure {
        Failure::Error(error)
    }
}

impl From<BrokenPipe> for Failure {
    fn from(_: BrokenPipe) -> Failure {
        Failure::BrokenPipe
    }
}

impl From<crate::config::ConfigError> for Failure {
    fn from(error: crate::config::ConfigError) -> Failure {
        Failure::Error(error.into())
    }
}

impl From<crate::journal::JournalError> for Failure {
    fn from(error: crate::journal::JournalError) -> Failure {
        Failure::Error(error.into())
    }
}

/// The clap model, for completions and man pages.
pub fn command() -> clap::Command {
    Cli::command()
}

/// A single-threaded runtime: probes are I/O-bound and a second thread costs memory and start-up.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime starts")
}

#[cfg(test)]
mod follow_up_tests {
    use super::shell_quote;

    #[test]
    fn shell_words_survive_a_paste() {
        assert_eq!(shell_quote("/etc/ifctl/ifctl.toml"), "/etc/ifctl/ifctl.toml");
        assert_eq!(shell_quote("my config.toml"), "'my config.toml'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("$HOME"), "'$HOME'");
    }
}

#[cfg(test)]
mod help_tests {
    use clap::CommandFactory;

    /// Every command and subcommand's `--help` has examples and an EXIT STATUS section, as the
    /// README promises.
    #[test]
    fn every_command_has_examples_and_exit_status() {
        fn walk(command: &clap::Command, path: &str, missing: &mut Vec<String>) {
            let help = command.get_after_long_help().map(|h| h.to_string()).unwrap_or_default();
            for section in ["EXAMPLES:", "EXIT STATUS"] {
                if !help.contains(section) {
                    missing.push(format!("`{path}` has no {section}"));
                }
            }
            for sub in command.get_subcommands().filter(|s| s.get_name() != "help") {
                walk(sub, &format!("{path} {}", sub.get_name()), missing);
            }
        }
        let mut missing = Vec::new();
        walk(&super::Cli::command(), "ifctl", &mut missing);
        assert!(missing.is_empty(), "{missing:#?}");
    }
}
