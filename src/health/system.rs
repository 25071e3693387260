//! System probe: disk use of the configured paths and memory use, read from the OS.

use std::path::Path;

use crate::config::Config;

use super::{ComponentReport, Measure, Problem, Status, Unit};

pub(super) fn probe(config: &Config, report: &mut ComponentReport) {
    let limits = &config.thresholds.system;
    let mut disks = Vec::new();
    for path in &config.system.disk_paths {
        match disk_usage(path) {
            Ok(usage) => {
                let pct = usage.used_pct();
                disks.push(serde_json::json!({
                    "path": path, "used_pct": (pct * 10.0).round() / 10.0,
                    "total_bytes": usage.total, "available_bytes": usage.available,
                }));
                report.judge(
                    Measure::new(
                        "system_disk_used_percent",
                        "Disk use of a configured path, as df shows it.",
                        pct,
                        Unit::Percent,
                    )
                    .label("path", path.display().to_string())
                    .levels(limits.disk_pct),
                    &format!("disk use of `{}`", path.display()),
                );
                report.measures.push(
                    Measure::new(
                        "system_disk_available",
                        "Bytes available to unprivileged users.",
                        usage.available as f64,
                        Unit::Bytes,
                    )
                    .label("path", path.display().to_string()),
                );
            }
            Err(e) => report.finding(
                Status::Unknown,
                Problem::Misconfigured,
                format!("cannot read disk use of `{}`: {e}", path.display()),
                Some("fix `system.disk_paths` (IFCTL_DISK_PATHS)".into()),
            ),
        }
    }
    report.detail("disks", disks);
    match std::fs::read_to_string("/proc/meminfo").map(|text| parse_meminfo(&text)) {
        Ok(Some((total, available))) => {
            let pct = (1.0 - available as f64 / total as f64) * 100.0;
            report.detail("memory_total_bytes", total);
            report.detail("memory_available_bytes", available);
            report.judge(
                Measure::new(
                    "system_memory_used_percent",
                    "Memory in use (1 - MemAvailable / MemTotal).",
                    pct,
                    Unit::Percent,
                )
                .levels(limits.memory_pct),
                "memory use",
            );
        }
        Ok(None) => report.finding(Status::Unknown, Problem::Error, "/proc/meminfo has no MemTotal/MemAvailable", None),
        Err(e) => report.finding(Status::Unknown, Problem::Error, format!("cannot read /proc/meminfo: {e}"), None),
    }
}

pub struct DiskUsage {
    pub total: u64,
    pub used: u64,
    pub available: u64,
}

impl DiskUsage {
    /// The share `df` shows: used / (used + available to unprivileged users).
    pub fn used_pct(&self) -> f64 {
        let denominator = self.used + self.available;
        if denominator == 0 { 0.0 } else { self.used as f64 / denominator as f64 * 100.0 }
    }
}

pub fn disk_usage(path: &Path) -> std::io::Result<DiskUsage> {
    crate::hooks::hang_point(format_args!("statvfs:{}", path.display()));
    let stat = rustix::fs::statvfs(path).map_err(|e| std::io::Error::from_raw_os_error(e.raw_os_error()))?;
    let block = stat.f_frsize.max(1);
    let total = stat.f_blocks * block;
    let free = stat.f_bfree * block;
    let available = stat.f_bavail * block;
    Ok(DiskUsage { total, used: total.saturating_sub(free), available })
}

/// MemTotal and MemAvailable in bytes.
pub(super) fn parse_meminfo(text: &str) -> Option<(u64, u64)> {
    let field = |name: &str| {
        text.lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map(|kib| kib * 1024)
    };
    let total = field("MemTotal").filter(|t| *t > 0)?;
    Some((total, field("MemAvailable")?))
}
