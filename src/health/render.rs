//! Text formats of a health report that machines read: Prometheus exposition and a Nagios
//! plugin line. (Tables for people live in the CLI.) `serve`'s `/metrics` reuses these.

use std::fmt::Write;

use super::{ComponentReport, HealthReport, Measure, Status, Unit};

/// Prometheus text exposition format; passes `promtool check metrics`.
pub fn prometheus(report: &HealthReport) -> String {
    let mut out = String::with_capacity(4096);
    family(
        &mut out,
        "ifctl_health_status",
        "Worst status of the critical components: 0 healthy, 1 degraded, 2 unhealthy, 3 unknown.",
        "gauge",
    );
    let _ = writeln!(out, "ifctl_health_status {}", report.status.code());
    family(
        &mut out,
        "ifctl_component_status",
        "Component status: 0 healthy, 1 degraded, 2 unhealthy, 3 unknown.",
        "gauge",
    );
    for c in &report.components {
        let _ = writeln!(
            out,
            "ifctl_component_status{{component=\"{}\",critical=\"{}\"}} {}",
            c.component,
            c.critical,
            c.status.code()
        );
    }
    family(
        &mut out,
        "ifctl_component_up",
        "1 when the component answered its probe (healthy or degraded), else 0.",
        "gauge",
    );
    for c in &report.components {
        let up = matches!(c.status, Status::Healthy | Status::Degraded) as u8;
        let _ = writeln!(out, "ifctl_component_up{{component=\"{}\"}} {up}", c.component);
    }
    family(&mut out, "ifctl_check_duration_seconds", "Wall time of the component's probe.", "gauge");
    for c in &report.components {
        let _ =
            writeln!(out, "ifctl_check_duration_seconds{{component=\"{}\"}} {}", c.component, c.latency_ms / 1000.0);
    }
    if report.components.iter().any(|c| c.breaker.is_some()) {
        family(
            &mut out,
            "ifctl_circuit_breaker_state",
            "Circuit breaker per component: 0 closed, 1 half-open, 2 open.",
            "gauge",
        );
        for c in &report.components {
            if let Some(b) = &c.breaker {
                let _ =
                    writeln!(out, "ifctl_circuit_breaker_state{{component=\"{}\"}} {}", c.component, b.state.code());
            }
        }
    }
    // Always present (0 when nothing applies), so dashboards and alerts always have a series.
    {
        let flag = |f: &dyn Fn(&crate::recovery::RecoveryView) -> bool, c: &ComponentReport| {
            c.recovery.as_ref().is_some_and(f) as u8
        };
        family(
            &mut out,
            "ifctl_recovery_cooldown_active",
            "1 while recovery is backing off between rounds or suspended.",
            "gauge",
        );
        for c in &report.components {
            let v = flag(&|r| r.cooldown_until.is_some() || r.suspended_until.is_some(), c);
            let _ = writeln!(out, "ifctl_recovery_cooldown_active{{component=\"{}\"}} {v}", c.component);
        }
        family(
            &mut out,
            "ifctl_recovery_suspended",
            "1 while the attempt budget is spent (recovery-suspended).",
            "gauge",
        );
        for c in &report.components {
            let _ = writeln!(
                out,
                "ifctl_recovery_suspended{{component=\"{}\"}} {}",
                c.component,
                flag(&|r| r.suspended_until.is_some(), c)
            );
        }
        family(
            &mut out,
            "ifctl_recovery_next_attempt_timestamp_seconds",
            "When the next automatic recovery attempt is allowed (budget, back-off, disable window); 0: now.",
            "gauge",
        );
        for c in &report.components {
            let next = c.recovery.as_ref().and_then(|r| r.next_attempt_at).map_or(0, |t| t.timestamp());
            let _ =
                writeln!(out, "ifctl_recovery_next_attempt_timestamp_seconds{{component=\"{}\"}} {next}", c.component);
        }
        family(&mut out, "ifctl_recovery_round", "Rounds of the escalation ladder in the current incident.", "gauge");
        for c in &report.components {
            let round = c.recovery.as_ref().map_or(0, |r| r.round);
            let _ = writeln!(out, "ifctl_recovery_round{{component=\"{}\"}} {round}", c.component);
        }
        family(&mut out, "ifctl_degraded_mode_active", "1 while the component is in its degraded mode.", "gauge");
        for c in &report.components {
            let _ = writeln!(
                out,
                "ifctl_degraded_mode_active{{component=\"{}\"}} {}",
                c.component,
                flag(&|r| r.degraded_mode.is_some(), c)
            );
        }
    }
    // Measures of one name must be contiguous, with one HELP/TYPE header.
    let mut measures: Vec<&Measure> = report.components.iter().flat_map(|c| &c.measures).collect();
    measures.sort_by_key(|m| m.name);
    let mut last = "";
    for m in measures {
        let name = metric_name(m);
        if m.name != last {
            family(&mut out, &name, m.help, "gauge");
            last = m.name;
        }
        let value = match m.unit {
            Unit::Milliseconds => m.value / 1000.0,
            Unit::Percent => m.value / 100.0,
            Unit::Bytes | Unit::Count => m.value,
        };
        let _ = writeln!(out, "{name}{} {value}", labels(&m.labels));
    }
    out
}

fn family(out: &mut String, name: &str, help: &str, kind: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// `redis_ping_latency` (ms) → `ifctl_redis_ping_latency_seconds`; `…_percent` → `…_ratio`.
pub fn metric_name(m: &Measure) -> String {
    match m.unit {
        Unit::Milliseconds => format!("ifctl_{}_seconds", m.name),
        Unit::Percent => format!("ifctl_{}_ratio", m.name.trim_end_matches("_percent")),
        Unit::Bytes => format!("ifctl_{}_bytes", m.name),
        Unit::Count => format!("ifctl_{}", m.name),
    }
}

fn labels(pairs: &[(&'static str, String)]) -> String {
    if pairs.is_empty() {
        return String::new();
    }
    let inner: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}=\"{}\"", escape_label(v))).collect();
    format!("{{{}}}", inner.join(","))
}

fn escape_label(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

fn nagios_state(status: Status) -> &'static str {
    match status {
        Status::Healthy => "OK",
        Status::Degraded => "WARNING",
        Status::Unhealthy => "CRITICAL",
        Status::Unknown => "UNKNOWN",
    }
}

/// One Nagios plugin line: `IFCTL <STATE> - <summary> | <perfdata>`.
pub fn nagios(report: &HealthReport) -> String {
    let (summary, perf) = nagios_parts(report, "");
    format!("IFCTL {} - {summary} | {}", nagios_state(report.status), perf.join(" "))
}

/// The summary of a report's troubles and its perfdata items, labels prefixed with `prefix`.
fn nagios_parts(report: &HealthReport, prefix: &str) -> (String, Vec<String>) {
    let troubled: Vec<&ComponentReport> = report.components.iter().filter(|c| c.status != Status::Healthy).collect();
    let summary = if troubled.is_empty() {
        format!("{} components healthy", report.components.len())
    } else {
        troubled
            .iter()
            .map(|c| {
                let reason = c.reason.as_deref().unwrap_or("");
                let tag = if c.critical { "" } else { " (non-critical)" };
                format!("{} {}{tag}: {reason}", c.component, c.status)
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    let mut perf = Vec::new();
    for c in &report.components {
        perf.push(format!("{prefix}{}_check={:.3}ms", c.component, c.latency_ms));
        for m in &c.measures {
            let mut label = format!("{prefix}{}", m.name);
            for (_, v) in &m.labels {
                label.push('_');
                label.push_str(v);
            }
            let uom = match m.unit {
                Unit::Milliseconds => "ms",
                Unit::Percent => "%",
                Unit::Bytes => "B",
                Unit::Count => "",
            };
            let (warn, crit) =
                m.levels.map_or((String::new(), String::new()), |l| (trim(l.degraded), trim(l.unhealthy)));
            perf.push(format!("'{}'={}{uom};{warn};{crit};;", label.replace('\'', ""), trim(m.value)));
        }
    }
    let summary = summary.replace(['\n', '\r'], " ").replace('|', "/");
    (summary, perf)
}

fn trim(value: f64) -> String {
    let text = format!("{value:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Several targets' Prometheus texts as one exposition: every sample labelled `target="<name>"`,
/// and each metric family once (its HELP and TYPE, then the samples of every target), as the
/// format requires.
pub fn prometheus_fleet(parts: &[(&str, String)]) -> String {
    // Family name → (HELP and TYPE lines, samples), in order of first appearance.
    let mut order: Vec<String> = Vec::new();
    let mut families: std::collections::HashMap<String, (Vec<String>, Vec<String>)> = Default::default();
    for (target, text) in parts {
        let label = format!("target=\"{}\"", escape_label(target));
        for line in text.lines().filter(|l| !l.is_empty()) {
            let (name, is_header) = match line.strip_prefix("# ") {
                Some(rest) => (rest.split_whitespace().nth(1).unwrap_or_default().to_string(), true),
                None => (line.split(['{', ' ']).next().unwrap_or_default().to_string(), false),
            };
            let entry = families.entry(name.clone()).or_insert_with(|| {
                order.push(name.clone());
                Default::default()
            });
            if is_header {
                if !entry.0.iter().any(|h| h == line) {
                    entry.0.push(line.to_string());
                }
                continue;
            }
            let rest = &line[name.len()..];
            let sample = match rest.strip_prefix('{') {
                Some(inner) => format!("{name}{{{label},{inner}"),
                None => format!("{name}{{{label}}}{rest}"),
            };
            entry.1.push(sample);
        }
    }
    let mut out = String::new();
    for name in order {
        let (headers, samples) = &families[&name];
        for line in headers.iter().chain(samples) {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// One Nagios line for several targets: the worst state, each troubled target's findings, and
/// the perfdata of all, each label prefixed with its target.
pub fn nagios_fleet(reports: &[(&str, &HealthReport)], status: Status) -> String {
    let mut troubles = Vec::new();
    let mut perf = Vec::new();
    for (target, report) in reports {
        let (summary, items) = nagios_parts(report, &format!("{target}_"));
        if report.components.iter().any(|c| c.status != Status::Healthy) {
            troubles.push(format!("{target}: {summary}"));
        }
        perf.extend(items);
    }
    let healthy = reports.len() - troubles.len();
    let summary = if troubles.is_empty() {
        format!("{} targets healthy", reports.len())
    } else if healthy > 0 {
        format!("{}; {healthy} other targets healthy", troubles.join("; "))
    } else {
        troubles.join("; ")
    };
    format!("IFCTL {} - {summary} | {}", nagios_state(status), perf.join(" "))
}
