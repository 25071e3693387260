//! Named targets end to end: two real stacks (Redis + Chroma each) as two targets of one config.
//! Killing one stack's Redis makes only that target unhealthy — in `health check --all-targets`
//! (table, JSON, Prometheus, Nagios) and in serve's endpoints — and only that target is recovered.

use std::io::Write;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::{self, Env};

fn wait_for(what: &str, limit: Duration, mut ok: impl FnMut() -> bool) {
    let started = Instant::now();
    while !ok() {
        assert!(started.elapsed() < limit, "{what} not within {limit:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn promtool_accepts(metrics: &str) {
    let promtool = std::env::var_os("IFCTL_TEST_PROMTOOL").unwrap_or_else(|| "promtool".into());
    let mut check = std::process::Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool is installed by scripts/test-stack install");
    check.stdin.take().unwrap().write_all(metrics.as_bytes()).unwrap();
    let out = check.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool: {}{}\n--- metrics\n{metrics}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn component<'a>(report: &'a Value, target: &str, name: &str) -> &'a Value {
    let target = report["targets"].as_array().unwrap().iter().find(|t| t["target"] == target).unwrap();
    target["components"].as_array().unwrap().iter().find(|c| c["component"] == name).unwrap()
}

#[test]
fn two_stacks_as_two_targets_only_the_broken_one_is_unhealthy_and_recovered() {
    let mut prod_redis = harness::redis();
    let mut staging_redis = harness::redis();
    let (prod_chroma, staging_chroma) = (harness::chroma(), harness::chroma());
    harness::seed_collection(prod_chroma.port, "notes_prod", 5);
    harness::seed_collection(staging_chroma.port, "notes_staging", 7);
    let closed = harness::closed_port();
    let dir = prod_redis.dir.path().display().to_string();
    let _restarted = harness::PidFileGuard(prod_redis.dir.path().join("restarted.pid"));
    let restart = format!(
        "redis-server --port {} --bind 127.0.0.1 --save '' --appendonly no --daemonize yes --dir {dir} --pidfile {dir}/restarted.pid",
        prod_redis.port
    );
    let mut env = Env::new();
    for var in ["IFCTL_REDIS_URL", "IFCTL_CHROMADB_URL", "IFCTL_OPENWEBUI_URL"] {
        env.unset(var);
    }
    let staging_marker = env.home.path().join("staging-restarted");
    // The default policy at the top level, inherited by both; each target names its own servers
    // and its own restart command.
    let config = format!(
        r#"[openwebui]
url = "http://127.0.0.1:{closed}"
critical = false
[system]
critical = false
# Not a latency test: a loaded CI machine must not make a Chroma query "degraded".
[thresholds.chromadb]
latency_ms = {{ degraded = 5000, unhealthy = 10000 }}
[recovery]
needs_approval = ["redis.flush_unexpiring", "chromadb.snapshot_rollback", "chromadb.index_rebuild", "system.process_restart"]

[targets.prod]
redis = {{ url = "redis://127.0.0.1:{prod_redis}" }}
chromadb = {{ url = "http://127.0.0.1:{prod_chroma}", expected_collections = ["notes_prod"] }}
[targets.prod.recovery.redis]
restart_command = "{restart}"

[targets.staging]
redis = {{ url = "redis://127.0.0.1:{staging_redis}" }}
chromadb = {{ url = "http://127.0.0.1:{staging_chroma}", expected_collections = ["notes_staging"] }}
[targets.staging.recovery.redis]
restart_command = "touch {marker}"
"#,
        closed = closed.port,
        prod_redis = prod_redis.port,
        prod_chroma = prod_chroma.port,
        staging_redis = staging_redis.port,
        staging_chroma = staging_chroma.port,
        restart = restart.replace('"', "\\\""),
        marker = staging_marker.display(),
    );
    let config_path = env.write_config(&config);

    // `ifctl targets` lists both with where each value came from.
    let listed = env.run(&["--output", "json", "targets"]);
    listed.expect_code(0);
    let listed = listed.json();
    let names: Vec<&str> = listed["targets"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["prod", "staging"]);
    let prod_url = listed["targets"][0]["values"].as_array().unwrap().iter().find(|v| v["key"] == "redis.url").unwrap();
    assert_eq!(prod_url["value"], format!("redis://127.0.0.1:{}", prod_redis.port));
    assert!(prod_url["source"].as_str().unwrap().ends_with("[targets.prod]"), "{prod_url}");
    let openwebui =
        listed["targets"][1]["values"].as_array().unwrap().iter().find(|v| v["key"] == "openwebui.url").unwrap();
    assert_eq!(openwebui["source"], format!("file {}", config_path.display()), "inherited from the top level");

    // A command that acts on one stack needs one chosen, and says how.
    let run = env.run(&["recover", "--component", "redis", "--dry-run"]);
    run.expect_code(2);
    assert!(
        run.stderr.contains("defines targets (prod, staging)") && run.stderr.contains("--target"),
        "{}",
        run.stderr
    );

    env.run(&["health", "check", "--all-targets"]).expect_code(0);

    // Prod's Redis dies: only prod is unhealthy, in every format; the exit code is the worst.
    prod_redis.kill();
    let table = env.run(&["health", "check", "--all-targets"]);
    table.expect_code(2);
    let prod_row = table.stdout.lines().find(|l| l.contains("prod") && l.contains("redis")).unwrap();
    let staging_row = table.stdout.lines().find(|l| l.contains("staging") && l.contains("redis")).unwrap();
    assert!(prod_row.contains("unhealthy") && staging_row.contains("healthy") && !staging_row.contains("unhealthy"));
    assert!(table.stdout.contains("Overall: unhealthy (prod redis unhealthy)"), "{}", table.stdout);

    let json = env.run(&["--output", "json", "health", "check", "--all-targets"]);
    json.expect_code(2);
    let report = json.json();
    assert_eq!(report["status"], "unhealthy");
    assert_eq!(component(&report, "prod", "redis")["status"], "unhealthy");
    assert_eq!(component(&report, "staging", "redis")["status"], "healthy");
    assert_eq!(component(&report, "staging", "chromadb")["status"], "healthy");

    let prom = env.run(&["health", "check", "--all-targets", "--format", "prometheus"]);
    prom.expect_code(2);
    assert!(prom.stdout.contains("ifctl_component_status{target=\"prod\",component=\"redis\",critical=\"true\"} 2"));
    assert!(prom.stdout.contains("ifctl_component_status{target=\"staging\",component=\"redis\",critical=\"true\"} 0"));
    promtool_accepts(&prom.stdout);

    let nagios = env.run(&["health", "check", "--all-targets", "--format", "nagios"]);
    nagios.expect_code(2);
    assert!(nagios.stdout.starts_with("IFCTL CRITICAL - prod: redis unhealthy"), "{}", nagios.stdout);
    assert!(
        !nagios.stdout.contains("staging: redis") && nagios.stdout.contains("staging_redis_check="),
        "{}",
        nagios.stdout
    );

    // Targets are probed at once, each under its deadline: staging's hung Redis (SIGSTOP) costs
    // one deadline, not one per target, and prod's dead one is still reported at once.
    staging_redis.freeze();
    let hung = env.run(&["--output", "json", "health", "check", "--all-targets", "-c", "redis", "--timeout", "1s"]);
    staging_redis.thaw();
    hung.expect_code(2);
    assert!(hung.elapsed < Duration::from_millis(2500), "took {:?}", hung.elapsed);
    let report = hung.json();
    assert_eq!(component(&report, "staging", "redis")["problem"], "timeout", "{report:#}");
    assert_eq!(component(&report, "prod", "redis")["problem"], "unreachable", "{report:#}");

    // serve watches both: it recovers prod's Redis by prod's command and leaves staging alone.
    let port = harness::free_port();
    let log = env.home.path().join("serve.log");
    let mut serve = env
        .command(&["serve", "--listen", &format!("127.0.0.1:{port}"), "--interval", "300ms", "--log-format", "json"])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    wait_for("/readyz?target=staging 200", Duration::from_secs(15), || {
        harness::http_get(port, "/readyz?target=staging").is_some_and(|(s, _)| s == 200)
    });
    wait_for("/readyz 200 (prod recovered)", Duration::from_secs(20), || {
        harness::http_get(port, "/readyz").is_some_and(|(s, _)| s == 200)
    });
    // One serve per stack: a second serve of one of these targets is refused naming the first.
    let second = env.run(&["--target", "staging", "serve", "--listen", &format!("127.0.0.1:{}", harness::free_port())]);
    second.expect_code(6);
    assert!(second.stderr.contains("serve of target `staging`"), "{}", second.stderr);
    let (code, body) = harness::http_get(port, "/readyz?target=nope").unwrap();
    assert_eq!(code, 404, "{body}");
    assert!(body.contains("prod, staging"), "{body}");
    let (_, status) = harness::http_get(port, "/status").unwrap();
    let status: Value = serde_json::from_str(&status).unwrap();
    let targets: Vec<&str> =
        status["targets"].as_array().unwrap().iter().map(|t| t["target"].as_str().unwrap()).collect();
    assert_eq!(targets, ["prod", "staging"], "{status:#}");
    let (_, one) = harness::http_get(port, "/status?target=staging").unwrap();
    let one: Value = serde_json::from_str(&one).unwrap();
    assert_eq!(one["target"], "staging");
    assert!(one["components"].as_array().unwrap().len() >= 2, "{one:#}");

    let (_, metrics) = harness::http_get(port, "/metrics").unwrap();
    promtool_accepts(&metrics);
    assert!(
        metrics.contains(
            "ifctl_recovery_attempts_total{target=\"prod\",component=\"redis\",strategy=\"restart\",result=\"success\"} 1"
        ),
        "{metrics}"
    );
    // (OpenWebUI, not running here, is recovered — in vain — on both targets.)
    assert!(!metrics.contains("ifctl_recovery_attempts_total{target=\"staging\",component=\"redis\""), "{metrics}");
    assert!(metrics.contains("ifctl_component_up{target=\"staging\",component=\"redis\"} 1"), "{metrics}");
    assert!(metrics.contains("ifctl_build_info{version="), "process-wide metrics carry no target: {metrics}");

    // A reload cannot change the set of watched targets under running loops: rejected, named.
    std::fs::write(&config_path, format!("{config}\n[targets.qa]\n")).unwrap();
    let pid = rustix::process::Pid::from_raw(serve.id() as i32).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::HUP).unwrap();
    wait_for("config.reload_failed", Duration::from_secs(5), || {
        harness::read(&env.journal()).contains("config.reload_failed")
    });
    let rejected = harness::read(&env.journal());
    let rejected = rejected.lines().find(|l| l.contains("config.reload_failed")).unwrap();
    assert!(rejected.contains("restart serve"), "{rejected}");
    std::fs::write(&config_path, &config).unwrap();

    rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
    assert_eq!(serve.wait().unwrap().code(), Some(0));

    // The journal says which target each event is about; only prod was recovered.
    let events: Vec<Value> = harness::read(&env.journal()).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let recoveries: Vec<&Value> = events
        .iter()
        .filter(|e| e["kind"].as_str().unwrap().starts_with("recovery.") && e["component"] == "redis")
        .collect();
    assert!(!recoveries.is_empty());
    assert!(recoveries.iter().all(|e| e["target"] == "prod"), "{recoveries:#?}");
    assert!(!staging_marker.exists(), "staging's restart command ran");
    assert!(events.iter().any(|e| e["kind"] == "serve.started" && e.get("target").is_none()));
    let prod = env.run(&["--output", "json", "--target", "prod", "history", "--kind", "recovery"]);
    prod.expect_code(0);
    assert!(
        prod.json().as_array().unwrap().iter().any(|e| e["kind"] == "recovery.attempt" && e["outcome"] == "success")
    );
    let staging = env.run(&["--output", "json", "--target", "staging", "history", "--kind", "recovery", "-c", "redis"]);
    assert_eq!(staging.json(), serde_json::json!([]));
    let all = env.run(&["history", "--kind", "health"]);
    assert!(all.stdout.contains("TARGET") && all.stdout.contains("staging"), "{}", all.stdout);

    // A kill switch on one target leaves the other alone; --all-targets reaches both.
    env.run(&["--target", "staging", "disable", "--for", "1h", "--reason", "load test"]).expect_code(0);
    let report = env.run(&["--output", "json", "health", "check", "--all-targets", "-c", "redis"]).json();
    assert_eq!(component(&report, "staging", "redis")["recovery"]["disabled"]["reason"], "load test");
    assert!(component(&report, "prod", "redis")["recovery"].get("disabled").is_none_or(Value::is_null));
    let enabled = env.run(&["enable", "--all-targets"]);
    enabled.expect_code(0);
    assert!(enabled.stdout.contains("on target `prod`") && enabled.stdout.contains("on target `staging`"));

    // Snapshots live in their target's own place and name it; restoring one into another target
    // says so before anything happens.
    let created = env.run(&["--target", "staging", "snapshot", "create"]);
    created.expect_code(0);
    assert!(created.stderr.contains("Target `staging` (chosen by flag --target)"), "{}", created.stderr);
    let listed = env.run(&["--output", "json", "--target", "staging", "snapshot", "list"]).json();
    let snap = &listed.as_array().unwrap()[0];
    assert_eq!(snap["target"], "staging");
    let path = snap["path"].as_str().unwrap();
    assert!(path.starts_with(&env.state_dir().join("targets/staging/snapshots").display().to_string()), "{path}");
    assert_eq!(env.run(&["--output", "json", "--target", "prod", "snapshot", "list"]).json(), serde_json::json!([]));
    let table = env.run(&["--target", "staging", "snapshot", "list"]);
    let row = table.stdout.lines().find(|l| l.contains("snap-")).unwrap_or_default().to_string();
    assert!(table.stdout.contains("TARGET") && row.contains("staging"), "{}", table.stdout);
    let into_prod = env.run(&["--target", "prod", "snapshot", "restore", path, "--dry-run"]);
    into_prod.expect_code(0);
    assert!(
        into_prod.stderr.contains("was taken from target `staging`; restoring it into target `prod`"),
        "{}",
        into_prod.stderr
    );
    let events = harness::read(&env.journal());
    let made = events.lines().find(|l| l.contains("\"snapshot.created\"")).unwrap();
    assert!(made.contains("\"target\":\"staging\""), "{made}");

    // A place shared by accident (the environment points prod at staging's snapshots): prod's
    // prune keeps what is staging's, and says why.
    let staging_place = env.state_dir().join("targets/staging/snapshots");
    let mut shared_place = Env::new();
    shared_place.write_config(&config);
    for var in ["IFCTL_REDIS_URL", "IFCTL_CHROMADB_URL", "IFCTL_OPENWEBUI_URL"] {
        shared_place.unset(var);
    }
    shared_place.set("IFCTL_SNAPSHOT_DIR", staging_place.display().to_string());
    let prune = shared_place.run(&["--output", "json", "--target", "prod", "snapshot", "prune", "--keep-last", "1"]);
    prune.expect_code(0);
    let decision = &prune.json()["decisions"][0];
    assert_eq!(decision["keep"], true, "{decision}");
    assert!(decision["reasons"][0].as_str().unwrap().contains("taken from target `staging`"), "{decision}");
    assert_eq!(
        std::fs::read_dir(&staging_place)
            .unwrap()
            .filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "gz"))
            .count(),
        1
    );

    // The per-stack variables would point every target at one server, and an inherited secret
    // would go to every stack: ignored, with a warning that never shows the secret. (These Redis
    // servers have no password: AUTH with one fails, so a leaked password shows as unhealthy.)
    let mut shared = Env::new();
    shared.write_config(&config);
    shared.set("IFCTL_REDIS_PASSWORD", "s3cr3t-prod-only");
    let run = shared.run(&["health", "check", "--all-targets", "-c", "redis"]);
    run.expect_code(0);
    assert!(run.stderr.contains("IFCTL_REDIS_URL") && run.stderr.contains("ignored"), "{}", run.stderr);
    assert!(run.stderr.contains("IFCTL_REDIS_PASSWORD is not used for targets prod, staging"), "{}", run.stderr);
    assert!(!run.stdout.contains("s3cr3t") && !run.stderr.contains("s3cr3t"));
    // serve runs unattended: an inherited secret it would not use is an error at start, not a
    // warning scrolled past while every target fails its probe.
    let serve = shared.run(&["serve", "--listen", &format!("127.0.0.1:{}", harness::free_port())]);
    serve.expect_code(2);
    assert!(serve.stderr.contains("IFCTL_REDIS_PASSWORD is not used"), "{}", serve.stderr);
    assert!(!serve.stderr.contains("s3cr3t"));
    // One target in use inherits it as always, and a variable overriding its file is named.
    shared.set("IFCTL_REDIS_URL", format!("redis://127.0.0.1:{}", staging_redis.port));
    let one = shared.run(&["--target", "prod", "health", "check", "-c", "redis"]);
    assert!(one.stderr.contains("IFCTL_REDIS_URL overrides `redis.url` of target `prod`"), "{}", one.stderr);
    assert!(
        one.stdout.contains("unhealthy") || one.stdout.contains("credentials"),
        "the password was sent: {}",
        one.stdout
    );
}

/// Two recoveries at once: on two targets they run side by side (each holds its own target's
/// lock); a second one on the same target and component exits 6 naming the first.
#[test]
fn recoveries_on_two_targets_run_side_by_side_and_one_target_is_exclusive() {
    let mut prod = harness::redis();
    let mut staging = harness::redis();
    let restart = |server: &harness::Server, delay: &str| {
        let dir = server.dir.path().display();
        format!(
            "sleep {delay}; redis-server --port {} --bind 127.0.0.1 --save '' --appendonly no --daemonize yes --dir {dir} --pidfile {dir}/restarted.pid",
            server.port
        )
    };
    let _guards = [
        harness::PidFileGuard(prod.dir.path().join("restarted.pid")),
        harness::PidFileGuard(staging.dir.path().join("restarted.pid")),
    ];
    let mut env = Env::new();
    env.unset("IFCTL_REDIS_URL");
    env.write_config(&format!(
        "default_target = \"prod\"\n[recovery]\nneeds_approval = [\"redis.flush_unexpiring\"]\n\n[targets.prod.redis]\nurl = \"redis://127.0.0.1:{}\"\n[targets.prod.recovery.redis]\nrestart_command = \"{}\"\n\n\
         [targets.staging.redis]\nurl = \"redis://127.0.0.1:{}\"\n[targets.staging.recovery.redis]\nrestart_command = \"{}\"\nflush_patterns = [\"cache:*\"]\n",
        prod.port,
        restart(&prod, "4"),
        staging.port,
        restart(&staging, "0"),
    ));
    prod.kill();
    staging.kill();
    let slow = env
        .command(&["--target", "prod", "recover", "-c", "redis", "--strategy", "restart"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The write-ahead `recovery.started` says prod's restart is under way (and holds its lock).
    wait_for("prod's restart to begin", Duration::from_secs(20), || {
        harness::read(&env.journal())
            .lines()
            .any(|l| l.contains("\"recovery.started\"") && l.contains("\"target\":\"prod\""))
    });
    let same = env.run(&["--target", "prod", "recover", "-c", "redis", "--strategy", "restart"]);
    same.expect_code(6);
    assert!(same.stderr.contains("ifctl recover"), "names the holder: {}", same.stderr);
    let other = env.run(&["--target", "staging", "recover", "-c", "redis", "--strategy", "restart"]);
    other.expect_code(0);
    let out = slow.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    // Staging's recovery did not wait for prod's (which sleeps 4 s before restarting).
    assert!(other.elapsed < Duration::from_secs(4), "staging waited for prod: {:?}", other.elapsed);
    let attempts: Vec<Value> = harness::read(&env.journal())
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|e| e["kind"] == "recovery.attempt" && e["outcome"] == "success")
        .collect();
    let mut targets: Vec<&str> = attempts.iter().map(|e| e["target"].as_str().unwrap()).collect();
    targets.sort();
    assert_eq!(targets, ["prod", "staging"], "{attempts:#?}");
    // Each target's budget counts its own attempt only.
    for target in ["prod", "staging"] {
        let report = env.run(&["--output", "json", "--target", target, "health", "check", "-c", "redis"]).json();
        let redis = &report["components"][0];
        assert_eq!(redis["status"], "healthy", "{report:#}");
        assert_eq!(redis["recovery"]["attempts_last_hour"], 1, "{report:#}");
    }
    // An action queued on staging, with `default_target = "prod"`: `approve --list` shows every
    // target's, and the action id alone finds its target (no --target needed).
    let queued = env.run(&[
        "--output",
        "json",
        "--target",
        "staging",
        "recover",
        "-c",
        "redis",
        "--strategy",
        "flush_unexpiring",
    ]);
    queued.expect_code(5);
    let id = queued.json()["action_id"].as_str().unwrap().to_string();
    let listed = env.run(&["--output", "json", "approve", "--list"]);
    listed.expect_code(0);
    let listed = listed.json();
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed:#}");
    assert_eq!((listed[0]["action_id"].as_str(), listed[0]["target"].as_str()), (Some(id.as_str()), Some("staging")));
    let denied = env.run(&["approve", "--deny", &id, "--reason", "not now"]);
    denied.expect_code(0);
    assert!(denied.stderr.contains("Target `staging`"), "{}", denied.stderr);
    let journal = harness::read(&env.journal());
    let event = journal.lines().find(|l| l.contains("\"approval.denied\"")).unwrap();
    assert!(event.contains("\"target\":\"staging\""), "{event}");
    // An id nobody queued is named as such, not answered with "choose a target".
    let unknown = env.run(&["approve", "0193a8f2-0000-7000-8000-000000000000"]);
    unknown.expect_code(2);
    assert!(unknown.stderr.contains("no recovery is waiting for approval"), "{}", unknown.stderr);
    // Named for this command, a different target is refused, saying whose the action is.
    let wrong = env.run(&["--target", "prod", "approve", &id]);
    wrong.expect_code(2);
    assert!(wrong.stderr.contains("queued for target `staging`, not `prod`"), "{}", wrong.stderr);
}

/// A mistake in any target stops every command, on any target, with the file, line and key:
/// a bad value, an unknown section, two targets sharing one snapshot place (one's prune would
/// delete the other's snapshots), a target name that is not one.
#[test]
fn a_mistake_in_any_target_stops_every_command_naming_it() {
    let mut env = Env::new();
    let path = env.write_config("[targets.prod]\n[targets.staging.redis]\nurl = \"http://10.0.0.9:6379\"\n");
    let run = env.run(&["--target", "prod", "health", "check", "-c", "system"]);
    run.expect_code(3);
    assert!(
        run.stderr.contains(&format!("config file `{}` (line 3)", path.display()))
            && run.stderr.contains("targets.staging.redis.url"),
        "{}",
        run.stderr
    );
    env.run(&["--target", "prod", "snapshot", "list"]).expect_code(2);
    // A Nagios check shows stdout only: the UNKNOWN says why there too.
    let nagios = env.run(&["--target", "prod", "health", "check", "--format", "nagios"]);
    nagios.expect_code(3);
    assert!(
        nagios.stdout.starts_with("IFCTL UNKNOWN - ") && nagios.stdout.contains("targets.staging.redis.url"),
        "{}",
        nagios.stdout
    );
    // default_target must name a target, for every command (serve and --all-targets too).
    env.write_config("default_target = \"nope\"\n[targets.prod]\n");
    let run = env.run(&["health", "check", "--all-targets"]);
    run.expect_code(3);
    assert!(run.stderr.contains("there is no target `nope`"), "{}", run.stderr);

    env.write_config("[targets.prod.serve]\nlisten = \"0.0.0.0:9109\"\n");
    let run = env.run(&["targets"]);
    run.expect_code(2);
    assert!(run.stderr.contains("targets.prod.serve") && run.stderr.contains("unknown field"), "{}", run.stderr);

    env.write_config(
        "[snapshots]\ndir = \"/srv/snaps\"\n[targets.prod]\n[targets.staging.snapshots]\ndir = \"/srv/snaps/prod\"\n",
    );
    let run = env.run(&["--target", "staging", "snapshot", "prune", "--keep-last", "1", "--dry-run"]);
    run.expect_code(2);
    assert!(run.stderr.contains("`prod` and `staging` keep snapshots in the same place"), "{}", run.stderr);

    env.write_config("[targets.\"prod eu\"]\n");
    let run = env.run(&["targets"]);
    run.expect_code(2);
    assert!(run.stderr.contains("not a valid target name"), "{}", run.stderr);

    // Without targets nothing of this applies: the old config keeps working as it did.
    env.write_config("[system]\ncritical = false\n");
    let run = env.run(&["targets"]);
    run.expect_code(0);
    assert!(run.stdout.contains("No targets"), "{}", run.stdout);
}

/// A config that gains targets keeps what the journal says about the stack it had: a disable
/// window written before still holds — for every target, the safe side. (Budgets and approvals
/// come from the same reading: `recovery::state` unit tests.)
#[test]
fn adding_targets_keeps_disable_windows_written_before() {
    let mut env = Env::new();
    env.write_config("[recovery]\nneeds_approval = []\n");
    env.run(&["disable", "-c", "redis", "--for", "1h", "--reason", "maintenance INC-1"]).expect_code(0);
    let before = env.run(&["--output", "json", "health", "check", "-c", "redis"]).json();
    assert_eq!(before["components"][0]["recovery"]["disabled"]["reason"], "maintenance INC-1");

    env.write_config("default_target = \"main\"\n[recovery]\nneeds_approval = []\n[targets.main]\n[targets.other]\n");
    for target in ["main", "other"] {
        let after = env.run(&["--output", "json", "--target", target, "health", "check", "-c", "redis"]).json();
        assert_eq!(
            after["components"][0]["recovery"]["disabled"]["reason"], "maintenance INC-1",
            "{target}: {after:#}"
        );
    }
    // Enabling one target ends the window there only.
    env.run(&["--target", "other", "enable", "-c", "redis"]).expect_code(0);
    let other = env.run(&["--output", "json", "--target", "other", "health", "check", "-c", "redis"]).json();
    assert!(other["components"][0]["recovery"].get("disabled").is_none_or(Value::is_null), "{other:#}");
    let main = env.run(&["--output", "json", "health", "check", "-c", "redis"]).json();
    assert_eq!(main["components"][0]["recovery"]["disabled"]["reason"], "maintenance INC-1");
}
