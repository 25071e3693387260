//! The journal through the CLI: concurrent writers, verify, history filters and --follow.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::harness::Env;

#[test]
fn eight_processes_append_concurrently_without_loss() {
    let env = Env::new();
    let writers = 8;
    let per_writer = 25;
    let ifctl = env!("CARGO_BIN_EXE_ifctl");
    let handles: Vec<_> = (0..writers)
        .map(|w| {
            // One shell per writer runs its notes back to back, so the 8 writers overlap.
            let script = (0..per_writer)
                .map(|i| format!("\"$0\" journal note 'writer {w} note {i}' || exit 1"))
                .collect::<Vec<_>>()
                .join("\n");
            let mut cmd = std::process::Command::new("sh");
            cmd.env_clear().envs(env_vars(&env));
            cmd.args(["-c", &script, ifctl]).stdout(Stdio::null()).stderr(Stdio::piped());
            cmd.spawn().unwrap()
        })
        .collect();
    for h in handles {
        let out = h.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let verify = env.run(&["--output", "json", "journal", "verify"]);
    verify.expect_code(0);
    assert_eq!(verify.json()["events"], writers * per_writer);
    let events = env.run(&["--output", "json", "history", "--limit", "0"]).json();
    let mut texts: Vec<String> =
        events.as_array().unwrap().iter().map(|e| e["details"]["text"].as_str().unwrap().to_string()).collect();
    texts.sort();
    let mut expected: Vec<String> =
        (0..writers).flat_map(|w| (0..per_writer).map(move |i| format!("writer {w} note {i}"))).collect();
    expected.sort();
    assert_eq!(texts, expected, "every event exactly once");
    let seqs: Vec<u64> = events.as_array().unwrap().iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, (1..=(writers * per_writer) as u64).collect::<Vec<_>>());
}

fn env_vars(env: &Env) -> Vec<(String, String)> {
    let cmd = env.command(&[]);
    cmd.get_envs().filter_map(|(k, v)| Some((k.to_str()?.to_string(), v?.to_str()?.to_string()))).collect()
}

#[test]
fn verify_reports_the_first_bad_line_with_exit_4() {
    let env = Env::new();
    for i in 0..5 {
        env.run(&["journal", "note", &format!("note {i}")]).expect_code(0);
    }
    let path = env.journal();
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replacen("note 3", "note X", 1)).unwrap();
    let run = env.run(&["journal", "verify"]);
    run.expect_code(4);
    assert!(run.stderr.contains("line 4"), "{}", run.stderr);
    let run = env.run(&["--output", "json", "journal", "verify"]);
    run.expect_code(4);
    let report = run.json();
    assert_eq!(report["first_bad_line"], 4);
    assert_eq!(report["events"], 3);
}

#[test]
fn torn_tail_is_tolerated_everywhere() {
    let env = Env::new();
    env.run(&["journal", "note", "before the crash"]).expect_code(0);
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new().append(true).open(env.journal()).unwrap();
    f.write_all(b"{\"v\":1,\"seq\":2,\"kind\":\"oper").unwrap();
    drop(f);
    let run = env.run(&["journal", "verify"]);
    run.expect_code(0);
    assert!(run.stderr.contains("torn"), "{}", run.stderr);
    let run = env.run(&["history"]);
    run.expect_code(0);
    assert!(run.stdout.contains("before the crash") && run.stderr.contains("torn"), "{}{}", run.stdout, run.stderr);
    env.run(&["journal", "note", "after the crash"]).expect_code(0);
    let run = env.run(&["--output", "json", "journal", "verify"]);
    run.expect_code(0);
    let report = run.json();
    assert_eq!(report["events"], 2);
    assert_eq!(report["torn"], serde_json::Value::Null);
    assert_eq!(report["set_aside"]["fragments"], 1);
    assert!(std::fs::read_to_string(env.journal().with_extension("jsonl.torn")).unwrap().contains("\"oper"));
    let run = env.run(&["history"]);
    run.expect_code(0);
    assert!(!run.stderr.contains("torn"), "history warns only while a torn line is there: {}", run.stderr);
}

#[test]
fn verify_names_the_torn_line() {
    let env = Env::new();
    env.run(&["journal", "note", "one"]).expect_code(0);
    env.run(&["journal", "note", "two"]).expect_code(0);
    use std::io::Write;
    std::fs::OpenOptions::new().append(true).open(env.journal()).unwrap().write_all(b"{\"v\":2,\"se").unwrap();
    let run = env.run(&["journal", "verify"]);
    run.expect_code(0);
    assert!(run.stderr.contains("line 3") && run.stderr.contains("10 bytes"), "{}", run.stderr);
    assert!(run.stdout.contains("intact: 2 events"), "{}", run.stdout);
}

/// The Python program of docs/journal.md (PyPI `rfc8785`, no ifctl code) over a journal ifctl
/// wrote: 8 concurrent writers with non-ASCII text, nested details with floats (a recovery
/// attempt's duration), a rotation with a gzipped segment. Then tampered: both say so.
#[test]
fn the_outside_verifier_agrees_with_ifctl() {
    let mut env = Env::new();
    let clean = env.home.path().join("clean");
    std::fs::create_dir_all(&clean).unwrap();
    env.write_config(&format!(
        "[recovery]\nmax_attempts_per_hour = 10\n[recovery.system]\ncleanup_paths = [{{ path = \"{}\", older_than = \"1s\", glob = \"*\" }}]\n",
        clean.display()
    ));
    let ifctl = env!("CARGO_BIN_EXE_ifctl");
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let script = (0..10)
                .map(|i| format!("\"$0\" journal note 'écrivain {w} — note {i} ✓ \"quoted\" \\ tab\t' || exit 1"))
                .collect::<Vec<_>>()
                .join("\n");
            let mut cmd = std::process::Command::new("sh");
            cmd.env_clear()
                .envs(env_vars(&env))
                .args(["-c", &script, ifctl])
                .stdout(Stdio::null())
                .stderr(Stdio::piped());
            cmd.spawn().unwrap()
        })
        .collect();
    for _ in 0..3 {
        std::fs::write(clean.join("old.tmp"), b"x").unwrap();
        std::thread::sleep(Duration::from_millis(1100));
        env.run(&["recover", "--component", "system", "--strategy", "disk_cleanup"]).expect_code(0);
    }
    env.run(&["journal", "rotate", "--reason", "test"]).expect_code(0);
    env.run(&["health", "check", "--component", "redis"]).expect_code(2);
    for h in writers {
        let out = h.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    std::fs::write(clean.join("old.tmp"), b"x").unwrap();
    std::thread::sleep(Duration::from_millis(1100));
    env.run(&["recover", "--component", "system", "--strategy", "disk_cleanup"]).expect_code(0);
    let text = std::fs::read_to_string(env.journal()).unwrap();
    let segment = env.state_dir().join("journal.000001.jsonl.gz");
    assert!(segment.exists());
    let report = env.run(&["--output", "json", "journal", "verify"]);
    report.expect_code(0);
    let report = report.json();
    // 80 notes, 4 disk cleanups (each `recovery.started` then `recovery.attempt`), the rotation
    // and the health transition.
    assert_eq!(report["events"], 80 + 4 * 2 + 1 + 1);

    let outside = |extra: &[String]| {
        std::process::Command::new(crate::harness::venv().join("bin").join("python"))
            .arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/verify-journal.py"))
            .arg(env.journal())
            .args(extra)
            .output()
            .unwrap()
    };
    let head = format!("{}:{}", report["last_seq"], report["last_hash"].as_str().unwrap());
    let out = outside(std::slice::from_ref(&head));
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("intact: 90 events, head {head}")));

    // A float's leading digit changed in the live file: both verifiers see it. (Not its last
    // digit: past the 15th significant digit a change may parse to the same double, which
    // canonical JSON then writes exactly as before.)
    let at = text.rfind("\"duration_ms\":").expect("a recovery attempt in the live file") + "\"duration_ms\":".len();
    let first = text.as_bytes()[at];
    assert!(first.is_ascii_digit(), "{}", &text[at..at + 20]);
    let tampered = format!("{}{}{}", &text[..at], if first == b'1' { '2' } else { '1' }, &text[at + 1..]);
    assert_ne!(tampered, text);
    std::fs::write(env.journal(), &tampered).unwrap();
    let out = outside(&[]);
    assert_eq!(out.status.code(), Some(4), "{}", String::from_utf8_lossy(&out.stdout));
    env.run(&["journal", "verify"]).expect_code(4);

    // Cut the tail: the chain is consistent, but the head written down before says otherwise.
    let cut: String = text.lines().take(text.lines().count() - 2).map(|l| format!("{l}\n")).collect();
    std::fs::write(env.journal(), &cut).unwrap();
    assert!(outside(&[]).status.success());
    let out = outside(std::slice::from_ref(&head));
    assert_eq!(out.status.code(), Some(4));
    let run = env.run(&["journal", "verify", "--anchor", &head]);
    run.expect_code(4);
    assert!(run.stderr.contains("cut off"), "{}", run.stderr);
}

/// Anchors reach the system log (a datagram socket, as /dev/log is) every N events and at each
/// rotation; `--anchor-log` reads them back and catches a history rewritten with fresh hashes.
#[test]
fn syslog_anchors_catch_a_rewritten_history() {
    let mut env = Env::new();
    let socket = env.home.path().join("log.sock");
    let log = std::os::unix::net::UnixDatagram::bind(&socket).unwrap();
    log.set_nonblocking(true).unwrap();
    env.write_config(&format!("[journal]\nanchor_every = 3\nsyslog_socket = \"{}\"\n", socket.display()));
    for i in 0..7 {
        env.run(&["journal", "note", &format!("note {i}")]).expect_code(0);
    }
    let mut received = String::new();
    let mut buf = [0u8; 4096];
    while let Ok(n) = log.recv(&mut buf) {
        received.push_str(&String::from_utf8_lossy(&buf[..n]));
        received.push('\n');
    }
    assert_eq!(received.matches("ifctl-journal-anchor seq=").count(), 2, "{received}");
    assert!(received.starts_with("<110>ifctl-journal["), "{received}");
    let log_file = env.home.path().join("syslog");
    std::fs::write(&log_file, &received).unwrap();
    let run = env.run(&["--output", "json", "journal", "verify", "--anchor-log", log_file.to_str().unwrap()]);
    run.expect_code(0);
    let anchors = run.json()["anchors"].clone();
    assert_eq!(anchors.as_array().unwrap().len(), 2, "{anchors}");
    assert!(anchors.as_array().unwrap().iter().all(|a| a["result"] == "matches"));

    // Rewrite everything from line 2 on, recomputing every hash with ifctl itself.
    let text = std::fs::read_to_string(env.journal()).unwrap();
    std::fs::write(env.journal(), format!("{}\n", text.lines().next().unwrap())).unwrap();
    for i in 0..6 {
        env.run(&["journal", "note", &format!("forged {i}")]).expect_code(0);
    }
    env.run(&["journal", "verify"]).expect_code(0);
    let run = env.run(&["journal", "verify", "--anchor-log", log_file.to_str().unwrap()]);
    run.expect_code(4);
    assert!(
        run.stderr.contains("rewritten") && run.stderr.contains("seq") || run.stderr.contains("event 3"),
        "{}",
        run.stderr
    );

    let run = env.run(&["journal", "verify", "--anchor", "12:zz"]);
    run.expect_code(2);
    assert!(run.stderr.contains("SHA-256"), "{}", run.stderr);
}

#[test]
fn history_filters_limit_and_since() {
    let env = Env::new();
    for i in 0..6 {
        let component = if i % 2 == 0 { "redis" } else { "chromadb" };
        env.run(&["journal", "note", &format!("n{i}"), "-c", component]).expect_code(0);
    }
    let texts = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["--output", "json", "history"];
        all.extend_from_slice(args);
        let run = env.run(&all);
        run.expect_code(0);
        run.json().as_array().unwrap().iter().map(|e| e["details"]["text"].as_str().unwrap().to_string()).collect()
    };
    assert_eq!(texts(&["--limit", "2"]), vec!["n4", "n5"]);
    assert_eq!(texts(&["-c", "redis"]), vec!["n0", "n2", "n4"]);
    assert_eq!(texts(&["-c", "redis", "--kind", "operator", "-n", "1"]), vec!["n4"]);
    assert!(texts(&["--kind", "health"]).is_empty());
    assert_eq!(texts(&["--since", "1h"]).len(), 6);
    assert!(texts(&["--since", "2999-01-01T00:00:00Z"]).is_empty());
    let run = env.run(&["history", "--since", "yesterday-ish"]);
    run.expect_code(2);
    assert!(run.stderr.contains("neither a duration"), "{}", run.stderr);
}

#[test]
fn history_follow_prints_new_events() {
    let env = Env::new();
    env.run(&["journal", "note", "old"]).expect_code(0);
    let mut follower = env
        .command(&["history", "--follow", "--limit", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(follower.stdout.take().unwrap()).lines();
    assert!(lines.next().unwrap().unwrap().contains("old"));
    env.run(&["journal", "note", "new one"]).expect_code(0);
    let started = Instant::now();
    let line = lines.next().unwrap().unwrap();
    assert!(line.contains("new one"), "{line}");
    assert!(started.elapsed() < Duration::from_secs(3));
    follower.kill().unwrap();
    follower.wait().unwrap();
}

/// Human output shows times in the operator's zone (`TZ`), or UTC with `--utc`; JSON stays UTC.
#[test]
fn human_times_follow_tz_and_utc_while_json_stays_utc() {
    let mut env = Env::new();
    env.run(&["journal", "note", "zone check"]).expect_code(0);
    let json = env.run(&["--output", "json", "history"]).json();
    let ts = json[0]["ts"].as_str().unwrap().to_string();
    assert!(ts.ends_with('Z'), "{ts}");
    let at = chrono::DateTime::parse_from_rfc3339(&ts).unwrap().with_timezone(&chrono::Utc);

    env.set("TZ", "Asia/Kolkata");
    let local = env.run(&["history"]);
    local.expect_code(0);
    let kolkata = (at + chrono::Duration::minutes(330)).format("%Y-%m-%d %H:%M:%S +05:30").to_string();
    assert!(local.stdout.contains(&kolkata), "want {kolkata} in:\n{}", local.stdout);
    let utc = env.run(&["--utc", "history"]);
    let plain = at.format("%Y-%m-%d %H:%M:%S UTC").to_string();
    assert!(utc.stdout.contains(&plain), "want {plain} in:\n{}", utc.stdout);
    // JSON, whatever the zone.
    assert_eq!(env.run(&["--output", "json", "history"]).json()[0]["ts"], ts);
}
