//! Credentials written into URLs never leave the process in clear: every output format, error,
//! log line, HTTP answer and journal event of healthy, failing, recovery and reload runs is
//! searched for three unique passwords.

use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::harness::{self, Env};

const REDIS_PW: &str = "Rpw-7f3a9c1e-unique";
const CHROMA_PW: &str = "Cpw-51be77d0-unique";
const OWUI_TOKEN: &str = "Otk-c0ffee42-unique";

fn leaks(text: &str) -> Vec<&'static str> {
    [REDIS_PW, CHROMA_PW, OWUI_TOKEN].into_iter().filter(|pw| text.contains(pw)).collect()
}

#[test]
fn passwords_in_urls_are_masked_in_every_output_log_and_event() {
    let mut redis = harness::redis_with(&["--requirepass", REDIS_PW]);
    let closed = harness::closed_port();
    let mut env = Env::new();
    env.set("IFCTL_REDIS_URL", format!("redis://:{REDIS_PW}@127.0.0.1:{}", redis.port))
        .set("IFCTL_CHROMADB_URL", format!("http://ops:{CHROMA_PW}@127.0.0.1:{}", closed.port))
        .set("IFCTL_OPENWEBUI_URL", format!("http://{OWUI_TOKEN}@127.0.0.1:{}", closed.port));
    let config = env.write_config(&format!(
        "[recovery]\nneeds_approval = []\n[recovery.redis]\nrestart_command = \"echo redis://:{REDIS_PW}@elsewhere\"\n"
    ));
    let seen = std::cell::RefCell::new(String::new());
    let record = |what: &str, text: &str| {
        assert!(leaks(text).is_empty(), "{what} shows {:?}:\n{text}", leaks(text));
        seen.borrow_mut().push_str(text);
    };
    // Healthy Redis (the password in the URL works), failing Chroma and OpenWebUI.
    let run = env.run(&["health", "check", "-c", "redis"]);
    run.expect_code(0);
    for args in [
        vec!["health", "check"],
        vec!["--output", "json", "health", "check"],
        vec!["health", "check", "--format", "prometheus"],
        vec!["health", "check", "--format", "nagios"],
        vec!["config", "show"],
        vec!["--output", "json", "config", "show"],
        vec!["recover", "-c", "chromadb", "--dry-run"],
        vec!["--output", "json", "recover", "-c", "chromadb"],
        vec!["recover", "-c", "redis", "--strategy", "restart"],
        vec!["-v", "snapshot", "create"],
        vec!["history"],
        vec!["--output", "json", "history"],
    ] {
        let run = env.run(&args);
        record(&format!("{args:?} stdout"), &run.stdout);
        record(&format!("{args:?} stderr"), &run.stderr);
    }
    let shown = seen.borrow().clone();
    assert!(shown.contains("redis://:***@127.0.0.1") && shown.contains("http://ops:***@127.0.0.1"), "{shown}");
    // Redis killed: failing probes and a recovery round.
    redis.kill();
    for args in [vec!["--output", "json", "health", "check", "-c", "redis"], vec!["recover", "-c", "redis"]] {
        let run = env.run(&args);
        record(&format!("{args:?} stdout"), &run.stdout);
        record(&format!("{args:?} stderr"), &run.stderr);
    }
    // serve: logs, every endpoint, a reload.
    let port = harness::free_port();
    let log = env.home.path().join("serve.log");
    let mut serve = harness::Reaped(
        env.command(&[
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--interval",
            "300ms",
            "--log-format",
            "json",
        ])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap(),
    );
    let started = Instant::now();
    while !harness::http_get(port, "/status").is_some_and(|(_, s)| s.contains("\"redis\"")) {
        assert!(started.elapsed() < Duration::from_secs(15), "serve did not answer");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_secs(2));
    std::fs::write(&config, format!("{}[serve]\nauto_recover = false\n", std::fs::read_to_string(&config).unwrap()))
        .unwrap();
    rustix::process::kill_process(
        rustix::process::Pid::from_raw(serve.0.id() as i32).unwrap(),
        rustix::process::Signal::HUP,
    )
    .unwrap();
    std::thread::sleep(Duration::from_secs(1));
    for path in ["/status", "/metrics", "/readyz", "/livez"] {
        let (_, body) = harness::http_get(port, path).unwrap();
        record(path, &body);
    }
    rustix::process::kill_process(
        rustix::process::Pid::from_raw(serve.0.id() as i32).unwrap(),
        rustix::process::Signal::TERM,
    )
    .unwrap();
    assert_eq!(serve.0.wait().unwrap().code(), Some(0));
    let logged = harness::read(&log);
    assert!(logged.contains("configuration reloaded"), "{logged}");
    record("serve's log", &logged);
    let journal = harness::read(&env.journal());
    assert!(journal.contains("recovery.attempt") && journal.contains("health.transition"), "{journal}");
    record("the journal", &journal);
    for entry in walk(&env.state_dir()) {
        if let Ok(text) = std::fs::read(&entry) {
            let text = String::from_utf8_lossy(&text);
            assert!(leaks(&text).is_empty(), "{} holds {:?}", entry.display(), leaks(&text));
        }
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() { out.extend(walk(&path)) } else { out.push(path) }
    }
    out
}

/// Passwords with characters that end a URL's shape (space, quote), a URL that does not even parse
/// (an unescaped `/` in the password) and a Unix socket URL's `pass=` are masked as well.
#[test]
fn passwords_that_break_the_url_shape_are_masked_too() {
    let pw = "Sup3r\"Secret pw";
    let mut redis = harness::redis_with(&["--requirepass", pw]);
    let mut env = Env::new();
    env.set("IFCTL_REDIS_URL", format!("redis://:{pw}@127.0.0.1:{}", redis.port));
    env.run(&["health", "check", "-c", "redis"]).expect_code(0);
    redis.kill();
    let check = |env: &Env, args: &[&str], secret: &str| {
        let run = env.run(args);
        for (what, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
            assert!(!text.contains(secret), "{args:?} {what} shows the password:\n{text}");
        }
        run
    };
    let run = check(&env, &["--output", "json", "health", "check", "-c", "redis"], pw);
    assert!(run.stdout.contains("***"), "{}", run.stdout);
    check(&env, &["config", "show"], pw);
    check(&env, &["history"], pw);
    assert!(!harness::read(&env.journal()).contains(pw));

    env.set("IFCTL_REDIS_URL", "redis://:Hunt3r/Pw99@127.0.0.1:1");
    let run = check(&env, &["health", "check", "-c", "redis"], "Hunt3r/Pw99");
    run.expect_code(3);
    env.set("IFCTL_REDIS_URL", "unix:///tmp/ifctl-none.sock?pass=TopSecretQ");
    check(&env, &["config", "show"], "TopSecretQ");
    check(&env, &["--output", "json", "health", "check", "-c", "redis"], "TopSecretQ");
}
