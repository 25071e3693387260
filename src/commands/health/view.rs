//! How a health report looks to people: a table, the reasons and hints, and a one-line roll-up.

use colored::Colorize;
use comfy_table::{Attribute, Cell, Color};

use crate::cli::table::new_table;
use crate::config::Component;
use crate::health::{ComponentReport, HealthReport, Status, Unit, fmt_value};

pub fn paint(status: Status) -> String {
    let text = status.as_str();
    match status {
        Status::Healthy => text.green().to_string(),
        Status::Degraded => text.yellow().to_string(),
        Status::Unhealthy => text.red().bold().to_string(),
        Status::Unknown => text.magenta().to_string(),
    }
}

fn status_cell(status: Status, color: bool) -> Cell {
    let cell = Cell::new(status.as_str());
    if !color {
        return cell;
    }
    // comfy-table measures widths itself, so colour goes through it, not as escape codes.
    match status {
        Status::Healthy => cell.fg(Color::Green),
        Status::Degraded => cell.fg(Color::Yellow),
        Status::Unhealthy => cell.fg(Color::Red).add_attribute(Attribute::Bold),
        Status::Unknown => cell.fg(Color::Magenta),
    }
}

/// The table plus reasons and hints, ready to print.
pub fn table(report: &HealthReport, tty: bool, color: bool) -> String {
    let mut out = rows(&[(None, report)], tty, color);
    out.push_str(&rollup(report));
    out.push('\n');
    out
}

/// One table for several targets, with a TARGET column, and the roll-up of all of them.
pub fn fleet_table(
    reports: &[(String, HealthReport)],
    status: Status,
    duration_ms: f64,
    tty: bool,
    color: bool,
) -> String {
    let named: Vec<(Option<&str>, &HealthReport)> = reports.iter().map(|(n, r)| (Some(n.as_str()), r)).collect();
    let mut out = rows(&named, tty, color);
    let culprits: Vec<String> = reports
        .iter()
        .flat_map(|(name, r)| {
            r.components
                .iter()
                .filter(|c| c.critical && c.status != Status::Healthy)
                .map(move |c| format!("{name} {} {}", c.component, c.status))
        })
        .collect();
    let because = if culprits.is_empty() { String::new() } else { format!(" ({})", culprits.join(", ")) };
    out.push_str(&format!(
        "Overall: {}{because}, {} targets checked in {duration_ms:.1} ms.\n",
        paint(status),
        reports.len()
    ));
    out
}

fn rows(reports: &[(Option<&str>, &HealthReport)], tty: bool, color: bool) -> String {
    let all = || reports.iter().flat_map(|(t, r)| r.components.iter().map(move |c| (*t, c)));
    let with_targets = reports.iter().any(|(t, _)| t.is_some());
    let with_breakers = all().any(|(_, c)| c.breaker.is_some());
    let mut headers = if with_targets { vec!["TARGET"] } else { Vec::new() };
    headers.extend(["COMPONENT", "STATUS", "LATENCY"]);
    if with_breakers {
        headers.push("BREAKER");
    }
    headers.push("DETAILS");
    let mut table = new_table(&headers, tty);
    if color {
        table.enforce_styling();
    }
    for (target, c) in all() {
        let name = if c.critical { c.component.to_string() } else { format!("{} (non-critical)", c.component) };
        let mut row = if with_targets { vec![Cell::new(target.unwrap_or("-"))] } else { Vec::new() };
        row.extend([Cell::new(name), status_cell(c.status, color), Cell::new(format!("{:.1} ms", c.latency_ms))]);
        if with_breakers {
            row.push(Cell::new(c.breaker.map_or(String::from("-"), |b| match b.retry_in_s {
                Some(s) => format!("{} (retry in {s:.0}s)", b.state.as_str()),
                None => b.state.as_str().to_string(),
            })));
        }
        let mut details = match &c.reason {
            Some(reason) => reason.clone(),
            None => summary(c),
        };
        // Recovery notes are long; they go below the table so it keeps its width.
        if c.recovery.as_ref().is_some_and(|r| !recovery_notes(r).is_empty()) {
            details.push_str(" (see below)");
        }
        row.push(Cell::new(details));
        table.add_row(row);
    }
    // No padding after the last column: a row is as wide as what it says.
    let mut out: String = table.to_string().lines().map(|l| format!("{}\n", l.trim_end())).collect();
    let scope = |target: Option<&str>, c: &ComponentReport| match target {
        Some(t) => format!("{t} {}", c.component),
        None => c.component.to_string(),
    };
    for (target, c) in all() {
        for note in c.recovery.as_ref().map(recovery_notes).unwrap_or_default() {
            out.push_str(&format!("  recovery ({}): {note}\n", scope(target, c)));
        }
    }
    for (target, c) in all().filter(|(_, c)| c.hint.is_some()) {
        out.push_str(&format!("  hint ({}): {}\n", scope(target, c), c.hint.as_deref().unwrap_or("")));
    }
    out
}

/// `Overall: unhealthy (redis unhealthy) in 12.3 ms.`
pub fn rollup(report: &HealthReport) -> String {
    let culprits: Vec<String> = report
        .components
        .iter()
        .filter(|c| c.critical && c.status != Status::Healthy)
        .map(|c| format!("{} {}", c.component, c.status))
        .collect();
    let because = if culprits.is_empty() { String::new() } else { format!(" ({})", culprits.join(", ")) };
    format!("Overall: {}{because}, checked in {:.1} ms.", paint(report.status), report.duration_ms)
}

/// `recovery-suspended until …`, `auto-recovery disabled …`, `degraded mode …`.
fn recovery_notes(r: &crate::recovery::RecoveryView) -> Vec<String> {
    let mut notes = Vec::new();
    if let Some(until) = r.suspended_until {
        notes.push(format!("recovery-suspended until {}", crate::cli::time::human(&until)));
    } else if let Some(until) = r.cooldown_until {
        notes.push(format!("round {} of recovery failed; next round at {}", r.round, crate::cli::time::human(&until)));
    }
    if r.automatic_off {
        notes.push("automatic recovery off (`recovery.max_attempts_per_hour = 0`)".into());
    }
    if let Some(d) = &r.disabled {
        notes.push(format!("auto-recovery disabled until {}: {}", crate::cli::time::human(&d.until), d.reason));
    }
    if !r.pending.is_empty() {
        notes.push(format!("{} recovery awaiting approval (`ifctl approve --list`)", r.pending.len()));
    }
    if let Some(m) = &r.degraded_mode {
        notes.push(format!("degraded mode: lost {}; still works: {}", m.lost.join(", "), m.available.join(", ")));
    }
    notes
}

/// A short description of a healthy component from its details.
fn summary(c: &ComponentReport) -> String {
    let d = &c.details;
    let measure = |name: &str| c.measures.iter().find(|m| m.name == name);
    match c.component {
        Component::Redis => {
            let mut parts = Vec::new();
            if let Some(v) = d.get("version").and_then(|v| v.as_str()) {
                parts.push(format!("v{v}"));
            }
            if let Some(m) = measure("redis_ping_latency") {
                parts.push(format!("PING {}", fmt_value(m.value, m.unit)));
            }
            if let Some(used) = d.get("used_memory_bytes").and_then(|v| v.as_f64()) {
                let pct = d
                    .get("memory_pct")
                    .and_then(|v| v.as_f64())
                    .map_or(String::new(), |p| format!(" ({p}% of maxmemory)"));
                parts.push(format!("{} used{pct}", fmt_value(used, Unit::Bytes)));
            }
            if let Some(n) = d.get("connected_clients").and_then(|v| v.as_u64()) {
                parts.push(format!("{n} clients"));
            }
            parts.join(", ")
        }
        Component::Chromadb => {
            let collections = d.get("collections").and_then(|v| v.as_array()).cloned().unwrap_or_default();
            let present = collections.iter().filter(|c| c.get("present") == Some(&serde_json::json!(true))).count();
            let records: u64 = collections.iter().filter_map(|c| c.get("count").and_then(|n| n.as_u64())).sum();
            let mut text = format!("{present}/{} collections, {records} records", collections.len());
            if let Some(m) = measure("chromadb_query_latency") {
                text.push_str(&format!(", query {}", fmt_value(m.value, m.unit)));
            }
            text
        }
        Component::Openwebui => match d.get("models") {
            Some(serde_json::Value::Array(models)) => format!("ready, {} models", models.len()),
            Some(serde_json::Value::String(_)) => "ready; models not checked (no token or credentials)".into(),
            _ => "ready".into(),
        },
        Component::System => {
            let mut parts: Vec<String> = c
                .measures
                .iter()
                .filter(|m| m.name == "system_disk_used_percent")
                .map(|m| {
                    format!("disk {} {}", m.labels.first().map_or("", |l| l.1.as_str()), fmt_value(m.value, m.unit))
                })
                .collect();
            if let Some(m) = measure("system_memory_used_percent") {
                parts.push(format!("memory {}", fmt_value(m.value, m.unit)));
            }
            parts.join(", ")
        }
    }
}
