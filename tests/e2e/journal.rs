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
    assert_eq!(run.json()["events"], 2);
    assert!(std::fs::read_to_string(env.journal().with_extension("jsonl.torn")).unwrap().contains("\"oper"));
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
