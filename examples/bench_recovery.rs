//! Benchmark: the recovery decision (policy + pending approvals + disable windows, all derived
//! from the journal) on a 1,000,000-event journal. Run with `scripts/bench-recovery`.
//!
//! The journal spans a year (one event every ~31 s: health transitions, notes, snapshot events,
//! recovery attempts), hash-chained like the real one, with recent attempts, a pending approval
//! and a disable window near the end. Each measurement derives the state from the file and checks
//! every strategy of every component, as `recover` and `serve` do. Then the same journal split
//! into 64 MiB segments (as rotation leaves it), and `journal verify` throughput on both.
#![allow(clippy::print_stdout, clippy::print_stderr)] // a benchmark reports on the terminal

use std::io::{BufWriter, Write};
use std::time::Instant;

use chrono::{Duration, Utc};
use ifctl::config::{Component, Config};
use ifctl::journal::{EVENT_VERSION, Event, GENESIS, event_hash, format_ts, jcs};
use ifctl::recovery::{self, escalation, policy, state};
use serde_json::json;

fn main() {
    let events: u64 = std::env::args().nth(1).and_then(|n| n.parse().ok()).unwrap_or(1_000_000);
    let runs: usize = std::env::args().nth(2).and_then(|n| n.parse().ok()).unwrap_or(200);
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("journal.jsonl");
    let now = Utc::now();
    let start = now - Duration::days(365);
    let step = Duration::days(365).num_milliseconds() / events as i64;
    let started = Instant::now();
    let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(&path).expect("journal file"));
    let mut prev = GENESIS.to_string();
    let components = ["redis", "chromadb", "openwebui", "system"];
    for seq in 1..=events {
        let ts = start + Duration::milliseconds(step * seq as i64);
        let recent = events - seq < 40;
        let (kind, component, outcome, details) = match (recent, seq % 7) {
            (true, 0) => {
                ("recovery.attempt", "redis", "failure", json!({"strategy": "reconnect", "duration_ms": 2100.0}))
            }
            (true, 1) => (
                "recovery.pending",
                "redis",
                "pending",
                json!({"action_id": format!("a-{seq}"), "strategy": "restart",
                "plan": {"component": "redis", "strategy": "restart", "actions": ["run `systemctl restart redis-server`"],
                         "params": {"command": "systemctl restart redis-server"}},
                "plan_hash": "0123456789abcdef", "expires_at": format_ts(&(now + Duration::minutes(30)))}),
            ),
            (true, 2) => (
                "recovery.disabled",
                "chromadb",
                "disabled",
                json!({"until": format_ts(&(now + Duration::hours(1))), "reason": "maintenance"}),
            ),
            (_, 0 | 1) => (
                "health.transition",
                components[(seq % 4) as usize],
                "degraded",
                json!({"from": "healthy", "to": "degraded", "reason": "PING latency is 120.0 ms (threshold 100.0 ms)"}),
            ),
            (_, 2) => (
                "recovery.attempt",
                components[(seq % 4) as usize],
                "success",
                json!({"strategy": "reconnect", "duration_ms": 12.5, "actions": ["PING answered on try 1"]}),
            ),
            (_, 3) => (
                "snapshot.created",
                "chromadb",
                "ok",
                json!({"name": format!("snap-{seq}"), "rows": 9832, "bytes": 21829535}),
            ),
            _ => (
                "operator.note",
                components[(seq % 4) as usize],
                "noted",
                json!({"text": "checked the dashboards; all quiet on the western front"}),
            ),
        };
        let mut event = Event {
            v: EVENT_VERSION,
            seq,
            id: format!("00000000-0000-7000-8000-{seq:012}"),
            ts,
            host: "bench-host".into(),
            user: "ops".into(),
            pid: 4242,
            kind: kind.into(),
            component: Some(component.into()),
            target: None,
            outcome: outcome.into(),
            correlation_id: "00000000-0000-7000-8000-000000000000".into(),
            details,
            prev: prev.clone(),
            hash: String::new(),
        };
        event.hash = event_hash(&serde_json::to_value(&event).expect("serializes")).expect("v2 hashes");
        prev = event.hash.clone();
        out.write_all(jcs(&serde_json::to_value(&event).expect("serializes")).as_bytes()).expect("write");
        out.write_all(b"\n").expect("write");
    }
    out.flush().expect("flush");
    drop(out);
    let size = std::fs::metadata(&path).expect("size").len();
    eprintln!("wrote {events} events ({:.1} MB) in {:.1} s", size as f64 / 1e6, started.elapsed().as_secs_f64());

    let config = Config::default();
    println!("| journal | lines read per decision | median (ms) | p99 (ms) | max (ms) |");
    println!("|---|---:|---:|---:|---:|");
    decisions(&config, &path, now, runs, &format!("{events} events, {:.0} MB, one file", size as f64 / 1e6));
    let verify_single = verify_rate(&path);
    let segments = split_into_segments(&path, 64 << 20);
    let verdicts =
        decisions(&config, &path, now, runs, &format!("the same in {segments} segments of 64 MiB + live file"));
    let verify_split = verify_rate(&path);
    println!();
    println!("| `journal verify` | events | seconds | events/s |");
    println!("|---|---:|---:|---:|");
    for (label, (n, secs)) in [("one file", verify_single), (format!("{segments} segments").as_str(), verify_split)] {
        println!("| {label} | {n} | {secs:.2} | {:.0} |", n as f64 / secs);
    }
    let refused = verdicts.iter().filter(|v| matches!(v, policy::Verdict::Refused { .. })).count();
    eprintln!(
        "{runs} decisions; last round: {} verdicts, {refused} refused (redis cooling down, chromadb disabled)",
        verdicts.len()
    );
}

/// Times `runs` decisions (state from the journal + a verdict for every strategy) and prints a row.
fn decisions(
    config: &Config,
    path: &std::path::Path,
    now: chrono::DateTime<Utc>,
    runs: usize,
    label: &str,
) -> Vec<policy::Verdict> {
    let horizon = recovery::horizon(config);
    let mut times = Vec::with_capacity(runs);
    let mut lines = 0;
    let mut verdicts = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let st = state::derive(path, now, horizon, None).expect("derive");
        verdicts.clear();
        for component in Component::ALL {
            for strategy in escalation(component) {
                verdicts.push(policy::check(config, &st, *strategy, false));
            }
        }
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        lines = st.lines_read;
        assert!(!st.pending().is_empty(), "the recent pending approvals are found");
    }
    times.sort_by(f64::total_cmp);
    let pct = |p: f64| times[((times.len() as f64 * p) as usize).min(times.len() - 1)];
    println!("| {label} | {lines} | {:.3} | {:.3} | {:.3} |", pct(0.5), pct(0.99), times[times.len() - 1]);
    verdicts
}

/// `journal verify` over the whole chain: (events, seconds).
fn verify_rate(path: &std::path::Path) -> (u64, f64) {
    let t = Instant::now();
    let report = ifctl::journal::verify(path, &[]).expect("verify");
    assert!(report.ok, "{report:?}");
    (report.events, t.elapsed().as_secs_f64())
}

/// Splits the journal at line boundaries into numbered segments of about `bytes` each, keeping
/// the last part as the live file, as rotation leaves it. Returns the number of segments.
fn split_into_segments(path: &std::path::Path, bytes: u64) -> u64 {
    use std::io::BufRead;
    let whole = path.with_extension("whole");
    std::fs::rename(path, &whole).expect("rename");
    let reader = std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(&whole).expect("open"));
    let mut number = 0u64;
    let mut written = 0u64;
    let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(path).expect("create"));
    for line in reader.split(b'\n') {
        let line = line.expect("read");
        if written >= bytes {
            out.flush().expect("flush");
            drop(out);
            number += 1;
            std::fs::rename(path, ifctl::journal::segments::segment_path(path, number)).expect("rotate");
            out = BufWriter::with_capacity(1 << 20, std::fs::File::create(path).expect("create"));
            written = 0;
        }
        out.write_all(&line).expect("write");
        out.write_all(b"\n").expect("write");
        written += line.len() as u64 + 1;
    }
    out.flush().expect("flush");
    std::fs::remove_file(&whole).expect("remove");
    number
}
