//! The one place that writes to the terminal. Results go to stdout, chatter to stderr; `-q`
//! silences chatter; `--output json` makes stdout a JSON document (errors included).
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::{IsTerminal, Write};

use colored::Colorize;
use serde::Serialize;

use super::error::CliError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputMode {
    Human,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone)]
pub struct Printer {
    pub output: OutputMode,
    pub quiet: bool,
    pub verbose: u8,
    color: bool,
    stdout_tty: bool,
    stderr_tty: bool,
}

/// Writing to a closed pipe (`ifctl history | head`) ends the command quietly.
#[derive(Debug)]
pub struct BrokenPipe;

impl Printer {
    pub fn new(output: OutputMode, color: ColorChoice, quiet: bool, verbose: u8) -> Printer {
        let stdout_tty = std::io::stdout().is_terminal();
        let stderr_tty = std::io::stderr().is_terminal();
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let color = match color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => stdout_tty && !no_color && output == OutputMode::Human,
        };
        colored::control::set_override(color);
        Printer { output, quiet, verbose, color, stdout_tty, stderr_tty }
    }

    pub fn json(&self) -> bool {
        self.output == OutputMode::Json
    }

    pub fn color(&self) -> bool {
        self.color
    }

    /// Stdout is a terminal (live redraws make sense).
    pub fn stdout_is_tty(&self) -> bool {
        self.stdout_tty
    }

    /// Progress bars and spinners: only on a terminal, never with `-q` or JSON.
    pub fn progress_allowed(&self) -> bool {
        self.stderr_tty && !self.quiet && !self.json()
    }

    /// Writes a result to stdout as-is.
    pub fn out(&self, text: &str) -> Result<(), BrokenPipe> {
        let text = crate::config::redact_userinfo(text);
        let mut stdout = std::io::stdout().lock();
        match stdout.write_all(text.as_bytes()).and_then(|_| stdout.flush()) {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(BrokenPipe),
            _ => Ok(()),
        }
    }

    /// Writes a result line to stdout.
    pub fn line(&self, text: &str) -> Result<(), BrokenPipe> {
        let mut owned = String::with_capacity(text.len() + 1);
        owned.push_str(text);
        owned.push('\n');
        self.out(&owned)
    }

    /// Writes a value as pretty JSON to stdout.
    pub fn json_value(&self, value: &impl Serialize) -> Result<(), BrokenPipe> {
        let text = serde_json::to_string_pretty(&masked(value)).expect("output types serialize");
        self.line(&text)
    }

    /// Writes a value as one compact JSON line (for streams: `watch`, `history --follow`).
    pub fn json_line(&self, value: &impl Serialize) -> Result<(), BrokenPipe> {
        let text = serde_json::to_string(&masked(value)).expect("output types serialize");
        self.line(&text)
    }

    /// A status message for people, on stderr; silenced by `-q`.
    pub fn status(&self, message: &str) {
        if !self.quiet {
            let _ = writeln!(std::io::stderr(), "{}", crate::config::redact_userinfo(message));
        }
    }

    /// Extra detail shown with `-v`.
    pub fn debug(&self, message: &str) {
        if self.verbose > 0 && !self.quiet {
            let _ = writeln!(std::io::stderr(), "{} {}", "debug:".dimmed(), crate::config::redact_userinfo(message));
        }
    }

    /// A warning on stderr; silenced by `-q`.
    pub fn warn(&self, message: &str) {
        if !self.quiet {
            let label = if self.stderr_color() { "warning:".yellow().bold().to_string() } else { "warning:".into() };
            let _ = writeln!(std::io::stderr(), "{label} {}", crate::config::redact_userinfo(message));
        }
    }

    fn stderr_color(&self) -> bool {
        self.color && self.stderr_tty
    }

    /// Reports a failed command: JSON on stdout with `--output json`, else text on stderr.
    pub fn error(&self, error: &CliError) {
        if self.json() {
            let _ = self.json_value(&error.to_json());
            return;
        }
        let mut stderr = std::io::stderr().lock();
        let label = if self.stderr_color() { "error:".red().bold().to_string() } else { "error:".into() };
        let _ = writeln!(stderr, "{label} {}", crate::config::redact_userinfo(&error.message));
        for hint in &error.hints {
            let _ = writeln!(stderr, "  hint: {}", crate::config::redact_userinfo(hint));
        }
    }

    /// Whether stdin is a terminal someone can answer a question on.
    pub fn can_prompt(&self) -> bool {
        std::io::stdin().is_terminal()
    }

    /// Asks a yes/no question on stderr and reads the answer from stdin; anything but `y`/`yes`
    /// is no.
    pub fn confirm(&self, question: &str) -> bool {
        let _ = write!(std::io::stderr(), "{question} [y/N] ");
        let _ = std::io::stderr().flush();
        let mut answer = String::new();
        if std::io::stdin().read_line(&mut answer).is_err() {
            return false;
        }
        matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
    }

    /// Clears a terminal screen before a live redraw.
    pub fn clear_screen(&self) -> Result<(), BrokenPipe> {
        self.out("\x1b[H\x1b[2J")
    }
}

/// A value with secrets masked in its strings (before JSON escaping could hide them from a text
/// search: a password with a quote is `\"` in JSON text).
fn masked(value: &impl Serialize) -> serde_json::Value {
    let mut value = serde_json::to_value(value).expect("output types serialize");
    crate::config::redact_json(&mut value);
    value
}
