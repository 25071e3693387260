//! `ifctl serve` end to end: endpoints, a real Redis kill recovered by the loop itself, a hung
//! Chroma that delays nothing else, SIGHUP with a broken config, SIGTERM.

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::{self, Env};

fn get(port: u16, path: &str) -> Option<(u16, String)> {
    harness::http_get(port, path)
}

fn wait_for(what: &str, limit: Duration, mut ok: impl FnMut() -> bool) -> Duration {
    let started = Instant::now();
    while !ok() {
        assert!(started.elapsed() < limit, "{what} not within {limit:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
    started.elapsed()
}

/// The default `recovery` policy, except that `redis.restart` runs without approval.
fn unattended_restart() -> String {
    "[recovery]\nneeds_approval = [\"redis.flush_unexpiring\", \"chromadb.snapshot_rollback\", \"chromadb.index_rebuild\", \"system.process_restart\"]\n".into()
}

fn signal(child: &Child, sig: rustix::process::Signal) {
    rustix::process::kill_process(rustix::process::Pid::from_raw(child.id() as i32).unwrap(), sig).unwrap();
}

#[test]
fn serve_reports_recovers_by_itself_and_stops_cleanly() {
    let mut redis = harness::redis();
    let mut chroma = harness::chroma();
    harness::seed_collection(chroma.port, "notes_alpha", 10);
    let dir = redis.dir.path().display().to_string();
    let _restarted = harness::PidFileGuard(redis.dir.path().join("restarted.pid"));
    let restart = format!(
        "redis-server --port {} --bind 127.0.0.1 --save '' --appendonly no --daemonize yes --dir {dir} --pidfile {dir}/restarted.pid",
        redis.port
    );
    let mut env = Env::new();
    env.set("IFCTL_REDIS_URL", format!("redis://127.0.0.1:{}", redis.port))
        .set("IFCTL_CHROMADB_URL", format!("http://127.0.0.1:{}", chroma.port))
        .set("IFCTL_CHROMADB_COLLECTIONS", "notes_alpha");
    // The default policy, but for the restart that needs no approval here.
    let config =
        format!("{}[recovery.redis]\nrestart_command = \"{}\"\n", unattended_restart(), restart.replace('"', "\\\""));
    let config_path = env.write_config(&config);
    let port = harness::free_port();
    let log = env.home.path().join("serve.log");
    let mut serve = env
        .command(&["serve", "--listen", &format!("127.0.0.1:{port}"), "--interval", "300ms", "--log-format", "json"])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    wait_for("/readyz 200", Duration::from_secs(15), || get(port, "/readyz").is_some_and(|(s, _)| s == 200));
    assert_eq!(get(port, "/livez").unwrap(), (200, "ok\n".to_string()));

    // /metrics passes promtool.
    let (status, metrics) = get(port, "/metrics").unwrap();
    assert_eq!(status, 200);
    assert!(metrics.contains("ifctl_component_status{component=\"redis\",critical=\"true\"} 0"), "{metrics}");
    assert!(
        metrics.contains("ifctl_circuit_breaker_state") && metrics.contains("process_resident_memory_bytes"),
        "{metrics}"
    );
    // The journal's head is exported as an anchor, and it is one `journal verify` accepts.
    let info = metrics.lines().find(|l| l.starts_with("ifctl_journal_head_info{")).expect("journal head metric");
    let seq = info.split("seq=\"").nth(1).unwrap().split('"').next().unwrap();
    let hash = info.split("hash=\"").nth(1).unwrap().split('"').next().unwrap();
    assert!(metrics.contains(&format!("ifctl_journal_head_seq {seq}\n")), "{metrics}");
    env.run(&["journal", "verify", "--anchor", &format!("{seq}:{hash}")]).expect_code(0);
    let mut check =
        std::process::Command::new(std::env::var_os("IFCTL_TEST_PROMTOOL").unwrap_or_else(|| "promtool".into()))
            .args(["check", "metrics"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
    use std::io::Write;
    check.stdin.take().unwrap().write_all(metrics.as_bytes()).unwrap();
    let out = check.wait_with_output().unwrap();
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));

    // Redis killed: /readyz 503 within two intervals, /status names Redis; then serve brings it
    // back by itself (reconnect fails, restart runs the configured command).
    redis.kill();
    let took = wait_for("/readyz 503", Duration::from_secs(3), || get(port, "/readyz").is_some_and(|(s, _)| s == 503));
    assert!(took < Duration::from_millis(900), "503 after {took:?}");
    let (_, status) = get(port, "/status").unwrap();
    let status: Value = serde_json::from_str(&status).unwrap();
    let r = status["components"].as_array().unwrap().iter().find(|c| c["component"] == "redis").unwrap();
    assert_eq!(r["status"], "unhealthy", "{status:#}");
    let (_, ready) = get(port, "/readyz").unwrap();
    assert!(ready.contains("redis"), "{ready}");
    let killed = Instant::now();
    wait_for("/readyz 200 again", Duration::from_secs(15), || get(port, "/readyz").is_some_and(|(s, _)| s == 200));
    assert!(killed.elapsed() < Duration::from_secs(15));
    let expected = [
        "health.transition healthy",
        "health.transition unhealthy",
        "recovery.attempt failure",
        "recovery.attempt success",
        "health.transition healthy",
    ];
    let seen = || {
        let kinds: Vec<String> = harness::read(&env.journal())
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .filter(|e| e["component"] == "redis")
            .map(|e| format!("{} {}", e["kind"].as_str().unwrap(), e["outcome"].as_str().unwrap()))
            .collect();
        let mut at = 0;
        for k in &kinds {
            if at < expected.len() && k == expected[at] {
                at += 1;
            }
        }
        (at, kinds)
    };
    // The status is published a moment before its transition is journaled: wait for the event.
    let started = std::time::Instant::now();
    while seen().0 < expected.len() && started.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let (at, kinds) = seen();
    assert_eq!(at, expected.len(), "journal for redis: {kinds:?}");
    let journal = harness::read(&env.journal());
    let (_, metrics) = get(port, "/metrics").unwrap();
    assert!(
        metrics
            .contains("ifctl_recovery_attempts_total{component=\"redis\",strategy=\"restart\",result=\"success\"} 1"),
        "{metrics}"
    );

    // Chroma hung: /livez still instant, Redis still checked on time.
    chroma.freeze();
    std::thread::sleep(Duration::from_millis(400));
    let redis_checked = |s: &Value| s["checked_at"]["redis"].as_str().unwrap().to_string();
    let before: Value = serde_json::from_str(&get(port, "/status").unwrap().1).unwrap();
    for _ in 0..20 {
        let t = Instant::now();
        assert_eq!(get(port, "/livez").unwrap().0, 200);
        assert!(t.elapsed() < Duration::from_millis(100), "/livez took {:?}", t.elapsed());
    }
    std::thread::sleep(Duration::from_millis(700));
    let after: Value = serde_json::from_str(&get(port, "/status").unwrap().1).unwrap();
    assert_ne!(redis_checked(&before), redis_checked(&after), "Redis kept being checked while Chroma hung");
    chroma.thaw();

    // SIGHUP with a broken config: rejected, the old one stays.
    std::fs::write(&config_path, "[health]\ninterval = \"soon\"\n").unwrap();
    signal(&serve, rustix::process::Signal::HUP);
    wait_for("config.reload_failed", Duration::from_secs(5), || {
        harness::read(&env.journal()).contains("config.reload_failed")
    });
    let status: Value = serde_json::from_str(&get(port, "/status").unwrap().1).unwrap();
    assert_eq!(status["auto_recover"], true, "the old config is in force: {status:#}");
    // A good config is taken: auto-recovery off.
    std::fs::write(&config_path, format!("{config}[serve]\nauto_recover = false\n")).unwrap();
    signal(&serve, rustix::process::Signal::HUP);
    wait_for("config.reloaded", Duration::from_secs(5), || harness::read(&env.journal()).contains("config.reloaded"));
    let status: Value = serde_json::from_str(&get(port, "/status").unwrap().1).unwrap();
    assert_eq!(status["auto_recover"], false, "the new config is in force: {status:#}");
    let logged = std::fs::read_to_string(&log).unwrap();
    let line = logged.lines().find(|l| l.contains("old one stays")).expect("a log line about the rejected config");
    let line: Value = serde_json::from_str(line).unwrap();
    assert_eq!(line["level"], "error");
    assert!(
        line["correlation_id"].as_str().is_some_and(|c| journal.contains(c)),
        "the log line carries the journal's correlation id"
    );

    // SIGTERM: exit 0 within 5 s.
    let t = Instant::now();
    signal(&serve, rustix::process::Signal::TERM);
    let status = loop {
        if let Some(status) = serve.try_wait().unwrap() {
            break status;
        }
        assert!(t.elapsed() < Duration::from_secs(5), "serve did not stop within 5 s");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(0));
    assert!(harness::read(&env.journal()).contains("serve.stopped"));
}

#[test]
fn serve_refuses_a_busy_port() {
    let holder = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = holder.local_addr().unwrap().port();
    let env = Env::new();
    let run = env.run(&["serve", "--listen", &format!("127.0.0.1:{port}")]);
    run.expect_code(2);
    assert!(run.stderr.contains("cannot listen"), "{}", run.stderr);
}

/// A Redis whose restart command fails: with the default policy serve goes up the ladder each
/// round (reconnect, then restart), backs off 5 s then 10 s between rounds, and stops after exactly
/// the budget of 3 real actions — suspended, in the journal, /status and /metrics.
#[test]
fn serve_spends_exactly_the_budget_on_a_failing_restart_then_suspends() {
    let mut redis = harness::redis();
    let mut env = Env::new();
    env.set("IFCTL_REDIS_URL", format!("redis://127.0.0.1:{}", redis.port));
    env.write_config(&format!("{}[recovery.redis]\nrestart_command = \"exit 3\"\n", unattended_restart()));
    let port = harness::free_port();
    let mut serve = env.spawn_quiet(&["serve", "--listen", &format!("127.0.0.1:{port}"), "--interval", "500ms"]);
    wait_for("redis checked", Duration::from_secs(15), || {
        get(port, "/status").is_some_and(|(_, s)| s.contains("\"redis\""))
    });
    redis.kill();
    let attempts = |env: &Env| -> Vec<(String, String, chrono::DateTime<chrono::Utc>)> {
        harness::read(&env.journal())
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .filter(|e| e["kind"] == "recovery.attempt" && e["component"] == "redis")
            .map(|e| {
                (
                    e["details"]["strategy"].as_str().unwrap().to_string(),
                    e["outcome"].as_str().unwrap().to_string(),
                    e["ts"].as_str().unwrap().parse().unwrap(),
                )
            })
            .collect()
    };
    wait_for("three restarts", Duration::from_secs(60), || {
        attempts(&env).iter().filter(|a| a.0 == "restart").count() >= 3
    });
    wait_for("suspended in /metrics", Duration::from_secs(5), || {
        get(port, "/metrics").is_some_and(|(_, m)| m.contains("ifctl_recovery_suspended{component=\"redis\"} 1"))
    });
    std::thread::sleep(Duration::from_secs(4));
    let seen = attempts(&env);
    let order: Vec<&str> = seen.iter().map(|a| a.0.as_str()).collect();
    assert_eq!(order, ["reconnect", "restart", "reconnect", "restart", "reconnect", "restart"], "{seen:?}");
    assert!(seen.iter().all(|a| a.1 == "failure"), "{seen:?}");
    // Within a round no wait; between rounds 5 s, then 10 s.
    let gap = |i: usize| (seen[i + 1].2 - seen[i].2).num_milliseconds();
    assert!(gap(0) < 1500 && gap(2) < 1500 && gap(4) < 1500, "rungs of one round follow each other: {seen:?}");
    assert!((5000..8000).contains(&gap(1)), "first back-off 5 s: {}", gap(1));
    assert!((10000..13000).contains(&gap(3)), "second back-off 10 s: {}", gap(3));
    let (_, metrics) = get(port, "/metrics").unwrap();
    assert!(
        metrics
            .contains("ifctl_recovery_attempts_total{component=\"redis\",strategy=\"restart\",result=\"failure\"} 3"),
        "{metrics}"
    );
    let next = metrics
        .lines()
        .find(|l| l.starts_with("ifctl_recovery_next_attempt_timestamp_seconds{component=\"redis\"}"))
        .unwrap();
    let next: f64 = next.rsplit(' ').next().unwrap().parse().unwrap();
    let first_restart = seen[1].2.timestamp() as f64;
    assert!(
        (next - (first_restart + 3600.0)).abs() < 2.0,
        "next attempt when the first restart leaves the hour: {next}"
    );
    let status: Value = serde_json::from_str(&get(port, "/status").unwrap().1).unwrap();
    let r = status["components"].as_array().unwrap().iter().find(|c| c["component"] == "redis").unwrap();
    assert!(r["recovery"]["suspended_until"].is_string() && r["recovery"]["next_attempt_at"].is_string(), "{r:#}");
    let health = env.run(&["health", "check", "-c", "redis"]);
    assert!(health.stdout.contains("recovery-suspended until"), "{}", health.stdout);
    // Journaled once per suspension, not once per tick (several ticks have passed by now).
    let suspended = env.run(&["--output", "json", "history", "--kind", "recovery.suspended"]).json();
    assert_eq!(suspended.as_array().unwrap().len(), 1, "{suspended:#}");
    assert_eq!(suspended[0]["component"], "redis", "{suspended:#}");
    assert_eq!(suspended[0]["details"]["until"], r["recovery"]["suspended_until"], "{suspended:#}");
    signal(&serve.0, rustix::process::Signal::TERM);
    assert_eq!(serve.0.wait().unwrap().code(), Some(0));
}

/// serve killed (SIGKILL) after a restart command ran but before the attempt's outcome was
/// journaled: the write-ahead `recovery.started` says the action began, the unfinished attempt
/// counts against the budget, and the journal verifies.
#[test]
fn serve_killed_between_an_action_and_its_outcome_leaves_the_action_on_record() {
    use std::os::unix::process::ExitStatusExt;
    let mut redis = harness::redis();
    let mut env = Env::new();
    env.set("IFCTL_REDIS_URL", format!("redis://127.0.0.1:{}", redis.port));
    env.write_config(&format!("{}[recovery.redis]\nrestart_command = \"true\"\n", unattended_restart()));
    redis.kill();
    env.set("IFCTL_TEST_CRASH_AT", "recovery.executed.restart");
    let port = harness::free_port();
    let mut serve = env.spawn_quiet(&["serve", "--listen", &format!("127.0.0.1:{port}"), "--interval", "500ms"]);
    env.unset("IFCTL_TEST_CRASH_AT");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = serve.0.try_wait().unwrap() {
            break status;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "serve never reached the restart");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.signal(), Some(9), "killed at the crash point");
    let begun = env.run(&["--output", "json", "history", "--kind", "recovery.started", "-c", "redis"]).json();
    assert_eq!(begun.as_array().unwrap().len(), 1, "{begun:#}");
    assert_eq!(begun[0]["details"]["strategy"], "restart", "{begun:#}");
    let ended = env.run(&["--output", "json", "history", "--kind", "recovery.attempt", "-c", "redis"]).json();
    assert!(ended.as_array().unwrap().iter().all(|e| e["details"]["strategy"] != "restart"), "{ended:#}");
    // The budget counts the action that began: 1 of 3 spent.
    let health = env.run(&["--output", "json", "health", "check", "-c", "redis"]).json();
    let r = health["components"].as_array().unwrap().iter().find(|c| c["component"] == "redis").unwrap().clone();
    assert_eq!(r["recovery"]["attempts_last_hour"], 1, "{r:#}");
    env.run(&["journal", "verify"]).expect_code(0);
}

/// Two serves on one state dir: the second refuses (exit 6) naming the first's pid; a serve on
/// another state dir runs beside it; once the first stops, a new one starts.
#[test]
fn a_second_serve_on_the_same_state_dir_is_refused() {
    let redis = harness::redis();
    let mut env = Env::new();
    env.set("IFCTL_REDIS_URL", format!("redis://127.0.0.1:{}", redis.port));
    let port = harness::free_port();
    let mut first = env.spawn_quiet(&["serve", "--listen", &format!("127.0.0.1:{port}"), "--interval", "1s"]);
    wait_for("the first serve", Duration::from_secs(15), || get(port, "/livez").is_some());
    let second = env.run(&["serve", "--listen", &format!("127.0.0.1:{}", harness::free_port())]);
    second.expect_code(6);
    assert!(
        second.stderr.contains(&format!("pid {}", first.0.id())) && second.stderr.contains("one serve per stack"),
        "{}",
        second.stderr
    );
    // Another state dir is another serve's business.
    let other = tempfile::tempdir().unwrap();
    let port2 = harness::free_port();
    let mut beside = env.spawn_quiet(&[
        "serve",
        "--state-dir",
        other.path().to_str().unwrap(),
        "--listen",
        &format!("127.0.0.1:{port2}"),
    ]);
    wait_for("a serve on another state dir", Duration::from_secs(15), || get(port2, "/livez").is_some());
    signal(&beside.0, rustix::process::Signal::TERM);
    assert_eq!(beside.0.wait().unwrap().code(), Some(0));
    signal(&first.0, rustix::process::Signal::TERM);
    assert_eq!(first.0.wait().unwrap().code(), Some(0));
    let port3 = harness::free_port();
    let mut third = env.spawn_quiet(&["serve", "--listen", &format!("127.0.0.1:{port3}")]);
    wait_for("a serve after the first stopped", Duration::from_secs(15), || get(port3, "/livez").is_some());
    signal(&third.0, rustix::process::Signal::TERM);
    assert_eq!(third.0.wait().unwrap().code(), Some(0));
}

/// A `statvfs` that never returns (a mount whose server is gone) makes the system check report a
/// timeout; it delays no other component, no endpoint and no shutdown. A loop that itself hangs
/// turns /livez to 503 naming it, so a supervisor restarts serve.
#[test]
fn a_hung_system_call_delays_nothing_and_a_stuck_loop_fails_livez() {
    let redis = harness::redis();
    let mut env = Env::new();
    let hung = env.home.path().join("hung-mount");
    std::fs::create_dir(&hung).unwrap();
    env.set("IFCTL_REDIS_URL", format!("redis://127.0.0.1:{}", redis.port))
        .set("IFCTL_DISK_PATHS", hung.display().to_string())
        .set("IFCTL_TEST_HANG_AT", format!("statvfs:{}", hung.display()));
    let port = harness::free_port();
    let serve = env.spawn_quiet(&["serve", "--listen", &format!("127.0.0.1:{port}"), "--interval", "300ms"]);
    wait_for("the system timeout", Duration::from_secs(10), || {
        get(port, "/status").is_some_and(|(_, s)| s.contains("has not returned") || s.contains("did not finish"))
    });
    let redis_checked = || -> String {
        let status: Value = serde_json::from_str(&get(port, "/status").unwrap().1).unwrap();
        status["checked_at"]["redis"].as_str().unwrap().to_string()
    };
    let before = redis_checked();
    let mut times: Vec<Duration> = (0..200)
        .map(|_| {
            let t = Instant::now();
            assert_eq!(get(port, "/livez").unwrap().0, 200);
            std::thread::sleep(Duration::from_millis(5));
            t.elapsed() - Duration::from_millis(5)
        })
        .collect();
    times.sort();
    let p99 = times[197];
    assert!(p99 < Duration::from_millis(100), "/livez p99 {p99:?}");
    assert_ne!(before, redis_checked(), "Redis kept being checked");
    let (code, ready) = get(port, "/readyz").unwrap();
    assert!(code == 200 || ready.contains("system"), "{code} {ready}");
    let status: Value = serde_json::from_str(&get(port, "/status").unwrap().1).unwrap();
    let system = status["components"].as_array().unwrap().iter().find(|c| c["component"] == "system").unwrap();
    // A timeout, or the circuit it opened after three of them.
    assert!(system["problem"] == "timeout" || system["problem"] == "circuit_open", "{system:#}");
    let t = Instant::now();
    signal(&serve.0, rustix::process::Signal::TERM);
    let mut serve = serve;
    assert_eq!(serve.0.wait().unwrap().code(), Some(0));
    assert!(t.elapsed() < Duration::from_secs(5), "SIGTERM took {:?}", t.elapsed());

    // The Redis loop itself hangs: /livez 503 naming it, /readyz 503 (never checked), SIGTERM ok.
    env.set("IFCTL_TEST_HANG_AT", "serve.loop.redis").unset("IFCTL_DISK_PATHS");
    let port = harness::free_port();
    let mut serve = env.spawn_quiet(&["serve", "--listen", &format!("127.0.0.1:{port}"), "--interval", "300ms"]);
    let took = wait_for("/livez 503", Duration::from_secs(20), || get(port, "/livez").is_some_and(|(s, _)| s == 503));
    let (_, body) = get(port, "/livez").unwrap();
    assert!(body.contains("the redis loop is stuck"), "{body} after {took:?}");
    let (code, ready) = get(port, "/readyz").unwrap();
    assert!(code == 503 && ready.contains("redis"), "{code} {ready}");
    let t = Instant::now();
    signal(&serve.0, rustix::process::Signal::TERM);
    assert_eq!(serve.0.wait().unwrap().code(), Some(0));
    assert!(t.elapsed() < Duration::from_secs(5), "SIGTERM took {:?}", t.elapsed());
}

/// Off loopback without a token configured, serve refuses to start (exit 2, how to set one)
/// unless told `--insecure-status`.
#[test]
fn status_beyond_loopback_fails_closed_without_a_token() {
    let mut env = Env::new();
    env.unset("IFCTL_SERVE_TOKEN");
    let port = harness::free_port();
    let run = env.run(&["serve", "--listen", &format!("0.0.0.0:{port}")]);
    run.expect_code(2);
    assert!(run.stderr.contains("IFCTL_SERVE_TOKEN") && run.stderr.contains("--insecure-status"), "{}", run.stderr);
    let mut serve = env.spawn_quiet(&["serve", "--listen", &format!("0.0.0.0:{port}"), "--insecure-status"]);
    wait_for("/livez", Duration::from_secs(10), || get(port, "/livez").is_some());
    assert_eq!(get(port, "/status").unwrap().0, 200, "open, as asked");
    signal(&serve.0, rustix::process::Signal::TERM);
    assert_eq!(serve.0.wait().unwrap().code(), Some(0));
}

#[test]
fn status_needs_the_bearer_token_beyond_loopback() {
    let mut env = Env::new();
    env.set("IFCTL_SERVE_TOKEN", "s3rve-t0ken");
    let port = harness::free_port();
    let mut serve = env.spawn_quiet(&["serve", "--listen", &format!("0.0.0.0:{port}"), "--interval", "1s"]);
    wait_for("/livez", Duration::from_secs(10), || get(port, "/livez").is_some());
    assert_eq!(get(port, "/status").unwrap().0, 401);
    assert_eq!(harness::http(port, "GET", "/status", None, Some("wrong")).unwrap().0, 401);
    assert_eq!(harness::http(port, "GET", "/status", None, Some("s3rve-t0ken")).unwrap().0, 200);
    assert_eq!(get(port, "/metrics").unwrap().0, 200, "metrics stay open for Prometheus");
    signal(&serve.0, rustix::process::Signal::TERM);
    assert_eq!(serve.0.wait().unwrap().code(), Some(0));
}

/// A reload that shortens the interval applies at once: the loops do not sleep out the old tick
/// (which would also leave /livez judging them by the new, shorter limit).
#[test]
fn a_reload_with_a_shorter_interval_wakes_the_loops() {
    let redis = harness::redis();
    let mut env = Env::new();
    env.set("IFCTL_REDIS_URL", format!("redis://127.0.0.1:{}", redis.port));
    let config = env.write_config("[health]\ninterval = \"120s\"\n");
    let port = harness::free_port();
    let serve = env.spawn_quiet(&["serve", "--listen", &format!("127.0.0.1:{port}")]);
    let checked = || -> Option<String> {
        let status: Value = serde_json::from_str(&get(port, "/status")?.1).ok()?;
        status["checked_at"]["redis"].as_str().map(String::from)
    };
    wait_for("a first check", Duration::from_secs(15), || checked().is_some());
    let first = checked().unwrap();
    std::fs::write(&config, "[health]\ninterval = \"1s\"\ntimeout = \"500ms\"\n").unwrap();
    signal(&serve.0, rustix::process::Signal::HUP);
    let took = wait_for("checks at the new interval", Duration::from_secs(5), || checked().is_some_and(|c| c != first));
    assert!(took < Duration::from_secs(3), "{took:?}");
    assert_eq!(get(port, "/livez").unwrap().0, 200);
}

/// A `snapshot create` from cron holding the snapshot destination while serve's Chroma loop needs
/// it (a rollback backs up the live state of what it replaces first): only that loop waits. Redis
/// keeps being checked on time, /livez and /readyz answer at once, and the rollback finishes when
/// the lock is free.
#[test]
fn a_snapshot_lock_held_elsewhere_delays_only_the_loop_that_needs_it() {
    let redis = harness::redis();
    let chroma = harness::chroma();
    harness::seed_collection(chroma.port, "notes_alpha", 10);
    harness::seed_collection(chroma.port, "notes_beta", 10);
    let mut env = Env::new();
    env.set("IFCTL_REDIS_URL", format!("redis://127.0.0.1:{}", redis.port))
        .set("IFCTL_CHROMADB_URL", format!("http://127.0.0.1:{}", chroma.port))
        .set("IFCTL_CHROMADB_COLLECTIONS", "notes_alpha,notes_beta");
    env.write_config("[recovery]\nneeds_approval = []\n");
    env.run(&["snapshot", "create", "--name", "good"]).expect_code(0);
    // alpha deleted (unhealthy: the ladder runs), beta emptied (so the rollback backs it up first,
    // in the snapshot destination someone else now holds).
    let scope = "/api/v2/tenants/default_tenant/databases/default_database/collections";
    let (_, text) = harness::http(chroma.port, "GET", &format!("{scope}/notes_beta"), None, None).unwrap();
    let id = serde_json::from_str::<Value>(&text).unwrap()["id"].as_str().unwrap().to_string();
    let (_, text) = harness::http(chroma.port, "POST", &format!("{scope}/{id}/get"), Some("{}"), None).unwrap();
    let all = serde_json::from_str::<Value>(&text).unwrap()["ids"].clone();
    let body = serde_json::json!({"ids": all}).to_string();
    harness::http(chroma.port, "POST", &format!("{scope}/{id}/delete"), Some(&body), None).unwrap();
    harness::http(chroma.port, "DELETE", &format!("{scope}/notes_alpha"), None, None).unwrap();
    let lock_path = env.state_dir().join("snapshots/.ifctl-snapshot.lock");
    let lock =
        std::fs::OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&lock_path).unwrap();
    rustix::fs::flock(&lock, rustix::fs::FlockOperation::LockExclusive).unwrap();

    let port = harness::free_port();
    let serve = env.spawn_quiet(&["serve", "--listen", &format!("127.0.0.1:{port}"), "--interval", "300ms"]);
    let status = || -> Value { serde_json::from_str(&get(port, "/status").unwrap().1).unwrap() };
    let chroma_attempts = |outcome: &str| {
        harness::read(&env.journal())
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .filter(|e| e["kind"] == "recovery.attempt" && e["component"] == "chromadb" && e["outcome"] == outcome)
            .map(|e| e["details"]["strategy"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    // collection_reload fails first; then the rollback starts and waits for the lock.
    wait_for("the ladder reaching the rollback", Duration::from_secs(30), || {
        chroma_attempts("failure").iter().any(|s| s == "collection_reload")
    });
    std::thread::sleep(Duration::from_secs(2));
    let before = status()["checked_at"]["redis"].as_str().unwrap().to_string();
    for _ in 0..20 {
        let t = Instant::now();
        assert_eq!(get(port, "/livez").unwrap().0, 200);
        assert!(get(port, "/readyz").is_some());
        assert!(t.elapsed() < Duration::from_millis(200), "endpoints took {:?}", t.elapsed());
    }
    std::thread::sleep(Duration::from_millis(700));
    assert_ne!(before, status()["checked_at"]["redis"].as_str().unwrap(), "Redis kept being checked");
    assert!(chroma_attempts("success").is_empty(), "the rollback waits for the destination");
    // Free the destination: the rollback goes on and Chroma is healthy again.
    drop(lock);
    wait_for("the rollback", Duration::from_secs(60), || {
        chroma_attempts("success").iter().any(|s| s == "snapshot_rollback")
    });
    drop(serve);
}
