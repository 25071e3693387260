//! `ifctl health watch`: status-change lines when piped, journal transitions, circuit breakers.

use std::io::Read;
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::harness::{self, Env};

#[test]
fn piped_watch_prints_changes_only_and_stops_after_count() {
    let redis = harness::redis();
    let mut env = Env::new();
    env.set("IFCTL_REDIS_URL", format!("redis://127.0.0.1:{}", redis.port));
    let run = env.run(&["health", "watch", "-c", "redis", "-c", "system", "--interval", "100ms", "--count", "4"]);
    run.expect_code(0);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "one first-seen line per component over 4 rounds:\n{}", run.stdout);
    assert!(lines[0].contains("redis (first seen) -> healthy"), "{}", run.stdout);
    assert!(!run.stdout.contains('\x1b'), "no escape codes when piped");
    let journal = harness::read(&env.journal());
    assert_eq!(journal.lines().count(), 2, "transitions, not ticks, are journaled:\n{journal}");

    // Again, with the journal already knowing the state: the piped log still starts with it.
    let again = env.run(&["health", "watch", "-c", "redis", "-c", "system", "--interval", "100ms", "--count", "2"]);
    again.expect_code(0);
    let lines: Vec<&str> = again.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{}", again.stdout);
    assert!(lines[0].contains("redis healthy (as last recorded)"), "{}", again.stdout);
    assert_eq!(harness::read(&env.journal()).lines().count(), 2, "nothing changed, nothing journaled");
}

/// A server that accepts connections and never answers, counting them.
fn black_hole() -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            counter.fetch_add(1, Ordering::SeqCst);
            let mut s = stream.try_clone().unwrap();
            std::thread::spawn(move || {
                let mut buf = [0u8; 1024];
                while matches!(s.read(&mut buf), Ok(n) if n > 0) {}
            });
            held.push(stream);
        }
    });
    (port, accepted)
}

#[test]
fn breaker_stops_probing_a_hung_server() {
    let (port, accepted) = black_hole();
    let mut env = Env::new();
    env.set("IFCTL_CHROMADB_URL", format!("http://127.0.0.1:{port}"));
    env.write_config("[health]\nbreaker_failures = 2\nbreaker_open_for = \"1h\"\n");
    let run = env.run(&[
        "--output",
        "json",
        "health",
        "watch",
        "-c",
        "chromadb",
        "--interval",
        "50ms",
        "--timeout",
        "200ms",
        "--count",
        "6",
    ]);
    run.expect_code(2);
    assert_eq!(accepted.load(Ordering::SeqCst), 2, "two failed probes open the breaker; no more connections");
    let events: Vec<serde_json::Value> = run.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(events[0]["event"], "status");
    assert_eq!(events[0]["to"], "unhealthy");
    let opened = events.iter().find(|e| e["event"] == "breaker").unwrap_or_else(|| panic!("{}", run.stdout));
    assert_eq!(opened["breaker"]["state"], "open");
    assert_eq!(opened["breaker"]["consecutive_failures"], 2);
}

#[test]
fn watch_rejects_zero_interval_with_unknown() {
    let env = Env::new();
    let run = env.run(&["health", "watch", "--interval", "0s"]);
    run.expect_code(3);
    assert!(run.stderr.contains("--interval"), "{}", run.stderr);
}

#[test]
fn watch_on_a_terminal_redraws_a_table_with_breakers() {
    let redis = harness::redis();
    let mut env = Env::new();
    env.set("IFCTL_REDIS_URL", format!("redis://127.0.0.1:{}", redis.port));
    let ifctl = env!("CARGO_BIN_EXE_ifctl");
    // `script` gives ifctl a pseudo-terminal as stdout.
    let inner = format!("{ifctl} health watch -c redis -c chromadb --interval 100ms --count 3");
    let mut cmd = env.command(&[]);
    let vars: Vec<(String, String)> =
        cmd.get_envs().filter_map(|(k, v)| Some((k.to_str()?.to_string(), v?.to_str()?.to_string()))).collect();
    cmd = std::process::Command::new("script");
    cmd.env_clear().envs(vars).env("TERM", "xterm").args(["-qfec", &inner, "/dev/null"]);
    let out = cmd.output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "chromadb is down: exit 2\n{text}");
    assert_eq!(text.matches("\x1b[H\x1b[2J").count(), 3, "one redraw per round:\n{text}");
    assert!(text.contains("BREAKER") && text.contains("│"), "{text}");
    assert!(text.contains("Round 3 at"), "{text}");
    let last = text.rsplit("\x1b[2J").next().unwrap();
    assert!(last.contains("open (retry in"), "chromadb's breaker opened after 3 failures:\n{last}");
}
