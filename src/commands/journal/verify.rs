//! `ifctl journal verify`: the whole chain across rotated segments, checked against anchors kept
//! outside the journal file.

use std::path::PathBuf;

use crate::cli::{CliError, Context, ErrorKind, Failure};
use crate::exit;
use crate::journal::{self, Anchor, AnchorResult, Head, VerifyReport};

pub const AFTER_HELP: &str = concat!(
    "EXAMPLES:\n",
    "  ifctl journal verify\n",
    "  ifctl journal verify --anchor 1200:3f9a…       # a head written down earlier\n",
    "  journalctl -t ifctl-journal -o cat | ifctl journal verify --anchor-log -\n",
    "  ifctl journal verify --anchor-log /var/log/syslog\n",
    "  ifctl --output json journal verify | jq '.first_bad_line, .anchors'\n",
    "\n",
    "Every line of every rotated segment and of the live file must parse, hash to its `hash`\n",
    "(RFC 8785 for format v2, see docs/journal.md), link to the event before through `prev`, and\n",
    "carry the next `seq`. A torn last line (a crash mid-write) is reported, not fatal.\n",
    "\n",
    "Anchors are heads (seq + hash) kept where the journal's writer cannot quietly change them:\n",
    "every snapshot's metadata.json in snapshots.dir (checked automatically), the system log\n",
    "(`--anchor-log`), /metrics of `ifctl serve`, or a head given with `--anchor`. An anchor that\n",
    "does not match means the history was rewritten; one beyond the end means events were cut off.\n",
    "\n",
    "EXIT STATUS:\n",
    "  0    the chain is intact and matches every anchor (or there is no journal yet)\n",
    "  1    the journal could not be read\n",
    "  2    usage or configuration error (e.g. a malformed --anchor)\n",
    "  4    the chain is broken, cut off or rewritten: the first bad line or anchor is printed"
);

#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// A head to check the chain against, as `SEQ:HASH` (repeatable)
    #[arg(long = "anchor", value_name = "SEQ:HASH", value_parser = parse_head)]
    pub anchors: Vec<Head>,
    /// A log holding anchor lines (a syslog file, journalctl output; `-` for stdin) (repeatable)
    #[arg(long = "anchor-log", value_name = "FILE")]
    pub anchor_logs: Vec<PathBuf>,
    /// Do not read the anchors recorded in snapshots
    #[arg(long)]
    pub no_snapshot_anchors: bool,
}

fn parse_head(text: &str) -> Result<Head, String> {
    text.parse()
}

pub fn run(ctx: &Context, args: VerifyArgs) -> Result<u8, Failure> {
    let resolved = ctx.config_any()?;
    let config = &resolved.config;
    let path = config.journal_path();
    let mut anchors: Vec<Anchor> =
        args.anchors.into_iter().map(|head| Anchor { source: "--anchor".into(), head }).collect();
    for log in &args.anchor_logs {
        let text = if log.as_os_str() == "-" {
            std::io::read_to_string(std::io::stdin())
        } else {
            std::fs::read_to_string(log)
        }
        .map_err(|e| CliError::usage(format!("cannot read anchor log `{}`: {e}", log.display())))?;
        let found = journal::anchor::parse_log(&text, &path);
        ctx.printer.debug(&format!("{} anchors in `{}`", found.len(), log.display()));
        anchors.extend(found.into_iter().map(|head| Anchor { source: format!("log {}", log.display()), head }));
    }
    if !args.no_snapshot_anchors {
        let dest = config.snapshot_dir();
        for listed in crate::snapshot::list::list(&dest).unwrap_or_default() {
            if let Some(recorded) = listed.journal_head.filter(|r| r.belongs_to(&path)) {
                anchors.push(Anchor { source: format!("snapshot {}", listed.name), head: recorded.head() });
            }
        }
    }
    let report = journal::verify(&path, &anchors)
        .map_err(|e| CliError::failed(format!("cannot read journal `{}`: {e}", path.display())))?;
    warn_about_notes(ctx, &report);
    let anchor_failed = report.anchors.iter().find(|a| a.result.failed());
    let code = if report.ok && anchor_failed.is_none() { exit::SUCCESS } else { exit::INTEGRITY };
    if ctx.printer.json() {
        ctx.printer.json_value(&report)?;
        return Ok(code);
    }
    if !report.ok {
        let file = report.first_bad_file.clone().unwrap_or_else(|| path.display().to_string());
        let line = report.first_bad_line.unwrap_or(0);
        return Err(CliError::new(
            ErrorKind::Integrity,
            format!(
                "journal chain is broken at `{file}` line {line}: {} ({} events before it are intact)",
                report.reason.as_deref().unwrap_or("unknown reason"),
                report.events
            ),
        )
        .hint(format!("inspect it with `sed -n '{line}p' {file}`; keep a copy before changing anything"))
        .into());
    }
    if let Some(anchor) = anchor_failed {
        let what = match anchor.result {
            AnchorResult::BeyondEnd => format!(
                "the journal ends at seq {} but {} says event {} existed: events were cut off",
                report.last_seq.unwrap_or(0),
                anchor.source,
                anchor.seq
            ),
            _ => format!(
                "event {} does not have the hash {} recorded by {}: the history was rewritten",
                anchor.seq,
                &anchor.hash[..16],
                anchor.source
            ),
        };
        return Err(CliError::new(ErrorKind::Integrity, format!("journal `{}`: {what}", path.display()))
            .hint("keep a copy of the journal and its segments; compare with the anchors' sources")
            .into());
    }
    let checked = report.anchors.iter().filter(|a| a.result == AnchorResult::Matches).count();
    let head = match (report.last_seq, report.last_hash.as_deref()) {
        (Some(seq), Some(hash)) => format!(", head {seq}:{hash}"),
        _ => String::new(),
    };
    let segments = match report.segments.len() {
        0 => String::new(),
        n => format!(" in {n} rotated segment{} and the live file", if n == 1 { "" } else { "s" }),
    };
    ctx.printer.line(&format!(
        "Journal `{}` is intact: {} events{segments}{head}; {checked} of {} anchors matched.",
        path.display(),
        report.events,
        report.anchors.len()
    ))?;
    Ok(code)
}

fn warn_about_notes(ctx: &Context, report: &VerifyReport) {
    if let Some(torn) = &report.torn {
        ctx.printer.warn(&format!(
            "line {} of `{}` is torn ({} bytes, a crash mid-write): it is not part of the chain, and the next write moves it to `{}`",
            torn.line,
            report.path,
            torn.bytes,
            journal::torn_path(std::path::Path::new(&report.path)).display()
        ));
    }
    if let Some(aside) = &report.set_aside {
        ctx.printer.warn(&format!(
            "{} torn line{} ({} bytes) set aside earlier {} in `{}`",
            aside.fragments,
            if aside.fragments == 1 { "" } else { "s" },
            aside.bytes,
            if aside.fragments == 1 { "is" } else { "are" },
            aside.path
        ));
    }
    if let Some(first) = report.first_seq.filter(|&s| s > 1) {
        ctx.printer.warn(&format!(
            "the chain starts at seq {first}, at a rotation: older segments are not here (shipped or removed), so events before it were not checked"
        ));
    }
    for anchor in report.anchors.iter().filter(|a| a.result == AnchorResult::NotChecked) {
        ctx.printer.debug(&format!(
            "anchor {}:{} from {} was not checked",
            anchor.seq,
            &anchor.hash[..12],
            anchor.source
        ));
    }
}
