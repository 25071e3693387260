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
    let config = format!(
        "[health]\ntimeout = \"500ms\"\n[recovery]\ncooldown_seconds = 0\nneeds_approval = []\n[recovery.redis]\nrestart_command = \"{}\"\n",
        restart.replace('"', "\\\"")
    );
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
    wait_for("/readyz 200 again", Duration::from_secs(20), || get(port, "/readyz").is_some_and(|(s, _)| s == 200));
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

#[test]
fn status_needs_the_bearer_token_beyond_loopback() {
    let mut env = Env::new();
    env.set("IFCTL_SERVE_TOKEN", "s3rve-t0ken");
    let port = harness::free_port();
    let mut serve = env
        .command(&["serve", "--listen", &format!("0.0.0.0:{port}"), "--interval", "1s"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for("/livez", Duration::from_secs(10), || get(port, "/livez").is_some());
    assert_eq!(get(port, "/status").unwrap().0, 401);
    assert_eq!(harness::http(port, "GET", "/status", None, Some("wrong")).unwrap().0, 401);
    assert_eq!(harness::http(port, "GET", "/status", None, Some("s3rve-t0ken")).unwrap().0, 200);
    assert_eq!(get(port, "/metrics").unwrap().0, 200, "metrics stay open for Prometheus");
    signal(&serve, rustix::process::Signal::TERM);
    assert_eq!(serve.wait().unwrap().code(), Some(0));
}
