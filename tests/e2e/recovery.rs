//! Recovery end to end: real strategies against real servers, policy driven by a test clock,
//! approvals, the kill switch.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::{self, Env, Server};

/// Sends raw RESP commands to a Redis and returns the replies' text.
fn redis_cmd(port: u16, args: &[&str]) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let mut req = format!("*{}\r\n", args.len());
    for a in args {
        req.push_str(&format!("${}\r\n{a}\r\n", a.len()));
    }
    stream.write_all(req.as_bytes()).unwrap();
    std::thread::sleep(Duration::from_millis(30));
    let mut buf = vec![0u8; 65536];
    let n = stream.read(&mut buf).unwrap_or(0);
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

fn at(minutes: i64) -> String {
    let base = chrono::DateTime::parse_from_rfc3339("2031-05-01T12:00:00Z").unwrap();
    (base + chrono::Duration::minutes(minutes)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// A Redis on a fixed port (so a restart command can bring it back) and an env pointing at it.
fn redis_env(extra_config: &str) -> (Server, Env, harness::PidFileGuard) {
    let redis = harness::redis();
    let dir = redis.dir.path().display().to_string();
    let restart = format!(
        "redis-server --port {} --bind 127.0.0.1 --save '' --appendonly no --daemonize yes --dir {dir} --pidfile {dir}/restarted.pid",
        redis.port
    );
    let mut env = Env::new();
    env.set("IFCTL_REDIS_URL", format!("redis://127.0.0.1:{}", redis.port));
    env.write_config(&format!(
        "[recovery.redis]\nrestart_command = \"{}\"\n{extra_config}",
        restart.replace('"', "\\\"")
    ));
    let guard = harness::PidFileGuard(redis.dir.path().join("restarted.pid"));
    (redis, env, guard)
}

#[test]
fn killed_redis_is_restarted_after_approval_and_verified() {
    let (mut redis, mut env, _restarted) = redis_env("");
    redis.kill();
    env.set("IFCTL_TEST_NOW", at(0));
    let run =
        env.run(&["--output", "json", "recover", "--component", "redis", "--strategy", "restart", "--reason", "test"]);
    run.expect_code(5);
    let id = run.json()["action_id"].as_str().unwrap().to_string();
    // The same plan asked again reuses the pending action.
    let again = env.run(&["--output", "json", "recover", "--component", "redis", "--strategy", "restart"]);
    again.expect_code(5);
    assert_eq!(again.json()["action_id"], id);
    let list = env.run(&["--output", "json", "approve", "--list"]).json();
    assert_eq!(list.as_array().unwrap().len(), 1);

    let approved = env.run(&["--output", "json", "approve", &id, "--reason", "on call says go"]);
    approved.expect_code(0);
    let result = approved.json();
    assert_eq!(result["success"], true, "{result:#}");
    assert_eq!(result["status_after"], "healthy");
    env.run(&["health", "check", "-c", "redis"]).expect_code(0);

    let twice = env.run(&["approve", &id]);
    twice.expect_code(6);
    assert!(twice.stderr.contains("already executed"), "{}", twice.stderr);

    let history = env.run(&["--output", "json", "history", "--kind", "recovery", "--kind", "approval"]).json();
    let kinds: Vec<&str> = history.as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    // The action is journaled before it runs (write-ahead) and after, under one attempt id.
    assert_eq!(kinds, vec!["recovery.pending", "approval.granted", "recovery.started", "recovery.attempt"]);
    let attempt = &history[3];
    assert_eq!(history[2]["details"]["attempt_id"], attempt["details"]["attempt_id"]);
    assert_eq!(history[2]["details"]["action_id"], id.as_str());
    assert_eq!(attempt["outcome"], "success");
    assert_eq!(attempt["details"]["status_after"], "healthy", "verified by a fresh health check");
    assert_eq!(attempt["details"]["action_id"], id.as_str());
    let human = env.run(&["history", "--kind", "recovery"]);
    assert!(human.stdout.contains("restart in") && human.stdout.contains("then healthy"), "{}", human.stdout);
}

#[test]
fn flush_unexpiring_deletes_exactly_the_keys_without_ttl() {
    let (redis, mut env, _dir) = redis_env("");
    env.write_config(
        "[recovery]\nneeds_approval = []\n[recovery.redis]\nflush_patterns = [\"cache:*\", \"tmp:*\"]\nflush_max_keys = 1000\n",
    );
    // 1,200 plain keys and 600 whose names are not UTF-8 (any bytes are a valid key), pipelined.
    let mut stream = TcpStream::connect(("127.0.0.1", redis.port)).unwrap();
    let mut batch = Vec::new();
    for i in 0..1800 {
        let key: Vec<u8> = if i % 3 == 2 {
            [b"cache:bin:\xff\xfe".as_slice(), i.to_string().as_bytes()].concat()
        } else {
            format!("cache:stale:{i}").into_bytes()
        };
        batch.extend_from_slice(format!("*3\r\n$3\r\nSET\r\n${}\r\n", key.len()).as_bytes());
        batch.extend_from_slice(&key);
        batch.extend_from_slice(b"\r\n$1\r\nx\r\n");
    }
    stream.write_all(&batch).unwrap();
    let mut replies = 0;
    let mut buf = [0u8; 65536];
    while replies < 1800 {
        let n = stream.read(&mut buf).unwrap();
        replies += buf[..n].iter().filter(|b| **b == b'\n').count();
    }
    for i in 0..5 {
        redis_cmd(redis.port, &["SET", &format!("cache:fresh:{i}"), "x", "EX", "3600"]);
        redis_cmd(redis.port, &["SET", &format!("tmp:{i}"), "x"]);
        redis_cmd(redis.port, &["SET", &format!("user:{i}"), "keep"]);
    }
    // The dry run counts what would go, and changes nothing.
    let dry = env.run(&["recover", "-c", "redis", "--strategy", "flush_unexpiring", "--dry-run"]);
    dry.expect_code(0);
    assert!(
        dry.stdout.contains(
            "now: 1805 matching keys have no TTL and would be deleted (at most 1000); 5 matching keys expire"
        ),
        "{}",
        dry.stdout
    );
    assert!(redis_cmd(redis.port, &["DBSIZE"]).contains(":1815"));
    // At most flush_max_keys per attempt; the next attempt deletes the rest.
    let run = env.run(&["--output", "json", "recover", "-c", "redis", "--strategy", "flush_unexpiring"]);
    run.expect_code(0);
    let out = run.json();
    assert!(out["actions"][0].as_str().unwrap().contains("deleted 1000 keys without TTL"), "{out:#}");
    assert!(
        out["actions"][1].as_str().unwrap().contains("stopped at `recovery.redis.flush_max_keys` (1000)"),
        "{out:#}"
    );
    let run = env.run(&["--output", "json", "recover", "-c", "redis", "--strategy", "flush_unexpiring"]);
    run.expect_code(0);
    assert!(run.json()["actions"][0].as_str().unwrap().contains("deleted 805 keys without TTL"), "{}", run.stdout);
    assert!(redis_cmd(redis.port, &["DBSIZE"]).contains(":10"), "5 fresh cache keys + 5 user keys remain");
    assert!(redis_cmd(redis.port, &["EXISTS", "cache:fresh:3"]).contains(":1"));
    assert!(redis_cmd(redis.port, &["EXISTS", "user:3"]).contains(":1"));
    assert!(redis_cmd(redis.port, &["EXISTS", "cache:stale:7"]).contains(":0"));
    // A pattern that matches everything is refused.
    env.write_config("[recovery.redis]\nflush_patterns = [\"cache:*\", \"*\"]\n");
    let run = env.run(&["recover", "-c", "redis", "--strategy", "flush_unexpiring", "--dry-run"]);
    run.expect_code(2);
    assert!(
        run.stderr.contains("recovery.redis.flush_patterns[1]") && run.stderr.contains("matches every key"),
        "{}",
        run.stderr
    );
}

/// The budget counts real actions (a failing restart), not plain retries; a person's reconnect
/// still runs when it is spent; a healthy period of 10 minutes gives it back.
#[test]
fn policy_budget_and_reset_follow_the_clock() {
    let redis = harness::redis();
    let mut env = Env::new();
    env.set("IFCTL_REDIS_URL", format!("redis://127.0.0.1:{}", redis.port));
    env.write_config("[recovery]\nneeds_approval = []\n[recovery.redis]\nrestart_command = \"exit 3\"\n");
    drop(redis);
    let recover = |env: &Env, strategy: &str| env.run(&["recover", "-c", "redis", "--strategy", strategy]);
    // Retries are free: five reconnects spend nothing.
    for m in 0..5 {
        env.set("IFCTL_TEST_NOW", at(m));
        recover(&env, "reconnect").expect_code(1);
    }
    // Three failed restarts in the hour spend the budget; the fourth is refused until the first
    // leaves the hour.
    for m in [6, 12, 18] {
        env.set("IFCTL_TEST_NOW", at(m));
        recover(&env, "restart").expect_code(1);
    }
    env.set("IFCTL_TEST_NOW", at(20));
    let run = recover(&env, "restart");
    run.expect_code(6);
    assert!(run.stderr.contains("recovery-suspended") && run.stderr.contains("2031-05-01T13:06:0"), "{}", run.stderr);
    recover(&env, "reconnect").expect_code(1); // a person may still retry: refused would be 6
    let health = env.run(&["--output", "json", "health", "check", "-c", "redis"]).json();
    let view = &health["components"][0]["recovery"];
    assert!(view["suspended_until"].as_str().unwrap().starts_with("2031-05-01T13:06:0"), "{health:#}");
    assert!(view["next_attempt_at"].as_str().unwrap().starts_with("2031-05-01T13:06:0"), "{health:#}");
    assert!(!view["degraded_mode"]["lost"].as_array().unwrap().is_empty());
    env.set("IFCTL_TEST_NOW", at(67));
    recover(&env, "restart").expect_code(1);

    // A healthy period of 10 minutes gives the budget back.
    let redis2 = harness::redis();
    let mut env2 = Env::new();
    env2.set("IFCTL_REDIS_URL", format!("redis://127.0.0.1:{}", redis2.port));
    env2.write_config("[recovery]\nneeds_approval = []\n[recovery.redis]\nrestart_command = \"true\"\n");
    for m in [0, 6, 12] {
        env2.set("IFCTL_TEST_NOW", at(m));
        env2.run(&["recover", "-c", "redis", "--strategy", "restart"]).expect_code(0);
    }
    env2.set("IFCTL_TEST_NOW", at(13));
    env2.run(&["recover", "-c", "redis", "--strategy", "restart"]).expect_code(6);
    env2.set("IFCTL_TEST_NOW", at(14));
    env2.run(&["health", "check", "-c", "redis"]).expect_code(0); // journals redis healthy at 14
    drop(redis2);
    env2.set("IFCTL_TEST_NOW", at(25));
    env2.run(&["health", "check", "-c", "redis"]).expect_code(2); // unhealthy at 25: 11 minutes healthy
    let run = env2.run(&["recover", "-c", "redis", "--strategy", "restart"]);
    run.expect_code(1);
    assert!(!run.stderr.contains("suspended"), "the budget came back: {}", run.stderr);
}

/// Without `--strategy`, `recover` walks one round of the ladder: reconnect fails, restart runs
/// at once (no approval asked here) and heals; with the default approvals it stops at restart,
/// queues it and exits 5; the dry run lists the round.
#[test]
fn recover_walks_the_ladder_in_one_round() {
    let (mut redis, env, _restarted) = redis_env("[recovery]\nneeds_approval = []\n");
    redis.kill();
    let run = env.run(&["--output", "json", "recover", "-c", "redis"]);
    run.expect_code(0);
    let steps = run.json()["steps"].as_array().unwrap().clone();
    let names: Vec<(&str, &str)> =
        steps.iter().map(|s| (s["strategy"].as_str().unwrap(), s["outcome"].as_str().unwrap_or("-"))).collect();
    assert_eq!(names, [("reconnect", "failure"), ("restart", "success")], "{steps:#?}");

    let (mut redis, env, _restarted) = redis_env("");
    redis.kill();
    let dry = env.run(&["recover", "-c", "redis", "--dry-run"]);
    dry.expect_code(0);
    assert!(
        dry.stdout.contains("1. `redis.reconnect`")
            && dry.stdout.contains("allowed now")
            && dry.stdout.contains("2. `redis.restart`")
            && dry.stdout.contains("needs approval"),
        "{}",
        dry.stdout
    );
    let run = env.run(&["recover", "-c", "redis"]);
    run.expect_code(5);
    assert!(run.stdout.contains("reconnect") && run.stdout.contains("Approve with: ifctl approve"), "{}", run.stdout);
}

#[test]
fn approvals_refuse_expired_denied_changed_and_healthy() {
    let (mut redis, mut env, _restarted) = redis_env("");
    redis.kill();
    let ask = |env: &Env| -> String {
        let run = env.run(&["--output", "json", "recover", "-c", "redis", "--strategy", "restart"]);
        run.expect_code(5);
        run.json()["action_id"].as_str().unwrap().to_string()
    };
    // Expired.
    env.set("IFCTL_TEST_NOW", at(0));
    let id = ask(&env);
    env.set("IFCTL_TEST_NOW", at(61));
    let run = env.run(&["approve", &id]);
    run.expect_code(6);
    assert!(run.stderr.contains("expired"), "{}", run.stderr);
    // Denied.
    let id = ask(&env);
    env.run(&["approve", "--deny", &id, "--reason", "doing it by hand"]).expect_code(0);
    let run = env.run(&["approve", &id]);
    run.expect_code(6);
    assert!(run.stderr.contains("already denied"), "{}", run.stderr);
    // The plan changed (another restart command configured since).
    let id = ask(&env);
    let changed = format!("[recovery.redis]\nrestart_command = \"redis-server --port {} --daemonize yes\"\n", 1);
    let original = std::fs::read_to_string(env.home.path().join("config/ifctl/ifctl.toml")).unwrap();
    env.write_config(&changed);
    let run = env.run(&["approve", &id]);
    run.expect_code(6);
    assert!(run.stderr.contains("plan changed"), "{}", run.stderr);
    env.write_config(&original);
    // Healthy again before approval.
    let id = ask(&env);
    let back = harness::redis_with(&[]);
    env.set("IFCTL_REDIS_URL", format!("redis://127.0.0.1:{}", back.port));
    let run = env.run(&["approve", &id]);
    run.expect_code(6);
    assert!(run.stderr.contains("healthy now") || run.stderr.contains("plan changed"), "{}", run.stderr);
    let run = env.run(&["approve", "no-such-id"]);
    run.expect_code(2);
}

#[test]
fn disable_window_shows_in_health_and_expires() {
    let (mut redis, mut env, _dir) = redis_env("");
    env.set("IFCTL_TEST_NOW", at(0));
    env.run(&["disable", "--for", "100h", "--reason", "x"]).expect_code(2);
    env.run(&["disable", "--component", "redis", "--for", "30m"]).expect_code(2);
    let run = env.run(&["disable", "--component", "redis", "--for", "30m", "--reason", "INC-4711 maintenance"]);
    run.expect_code(0);
    assert!(run.stdout.contains("disabled until 2031-05-01 12:30:00 UTC"), "{}", run.stdout);
    let health = env.run(&["--output", "json", "health", "check", "-c", "redis"]).json();
    assert_eq!(health["components"][0]["recovery"]["disabled"]["reason"], "INC-4711 maintenance");
    let table = env.run(&["health", "check", "-c", "redis"]);
    assert!(table.stdout.contains("  recovery (redis): auto-recovery disabled until"), "{}", table.stdout);
    // An operator's recover still runs, with a warning.
    redis.kill();
    // Down and disabled: the notes go below the table, which stays narrow.
    let table = env.run(&["health", "check", "-c", "redis"]);
    let row = table.stdout.lines().find(|l| l.trim_start().starts_with("redis ")).unwrap();
    assert!(row.len() <= 100 && row.ends_with("(see below)"), "{} chars: {row}", row.len());
    let run = env.run(&["recover", "-c", "redis", "--strategy", "reconnect"]);
    run.expect_code(1);
    assert!(run.stderr.contains("disabled") && run.stderr.contains("running because you asked"), "{}", run.stderr);
    env.set("IFCTL_TEST_NOW", at(31));
    let health = env.run(&["--output", "json", "health", "check", "-c", "redis"]).json();
    assert!(health["components"][0]["recovery"]["disabled"].is_null(), "expired by itself: {health:#}");
    env.set("IFCTL_TEST_NOW", at(40));
    env.run(&["disable", "--for", "1h", "--reason", "global"]).expect_code(0);
    env.run(&["enable"]).expect_code(0);
    let health = env.run(&["--output", "json", "health", "check", "-c", "redis"]).json();
    assert!(health["components"][0]["recovery"]["disabled"].is_null(), "{health:#}");
}

/// One call to Chroma's API in the default database; asserts a 2xx answer.
fn chroma_api(port: u16, method: &str, path: &str, body: Option<Value>) -> Value {
    let scope = "/api/v2/tenants/default_tenant/databases/default_database";
    let body = body.map(|b| b.to_string());
    let (status, text) = harness::http(port, method, &format!("{scope}{path}"), body.as_deref(), None).unwrap();
    assert!((200..300).contains(&status), "{method} {path}: {status} {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

#[test]
fn chroma_index_rebuild_and_snapshot_rollback() {
    let chroma = harness::chroma();
    let port = chroma.port;
    let api = |method: &str, path: &str, body: Option<Value>| chroma_api(port, method, path, body);
    let created = api(
        "POST",
        "/collections",
        Some(json!({"name": "kb_main", "metadata": {"owner": "t"}, "configuration": {"hnsw": {"space": "l2"}}})),
    );
    let id = created["id"].as_str().unwrap().to_string();
    let ids: Vec<String> = (0..300).map(|i| format!("k{i:04}")).collect();
    let embeddings: Vec<Vec<f32>> =
        (0..300).map(|i| vec![i as f32 * 0.5, 1.0 / (i as f32 + 1.0), -0.25, 0.125]).collect();
    let metadatas: Vec<Value> = (0..300).map(|i| json!({"n": i, "tags": ["a", "b"], "ok": i % 2 == 0})).collect();
    let docs: Vec<String> = (0..300).map(|i| format!("doc {i}")).collect();
    api(
        "POST",
        &format!("/collections/{id}/add"),
        Some(json!({"ids": ids, "embeddings": embeddings, "documents": docs, "metadatas": metadatas})),
    );
    let mut env = Env::new();
    env.set("IFCTL_CHROMADB_URL", format!("http://127.0.0.1:{port}")).set("IFCTL_CHROMADB_COLLECTIONS", "kb_main");
    env.write_config("[recovery]\nneeds_approval = []\n");
    let get_all = || {
        let id = api("GET", "/collections/kb_main", None)["id"].as_str().unwrap().to_string();
        api(
            "POST",
            &format!("/collections/{id}/get"),
            Some(json!({"include": ["embeddings", "documents", "metadatas"]})),
        )
    };
    let before = get_all();

    let run = env.run(&["--output", "json", "recover", "-c", "chromadb", "--strategy", "index_rebuild"]);
    run.expect_code(0);
    assert_eq!(run.json()["status_after"], "healthy");
    let after = get_all();
    assert_ne!(api("GET", "/collections/kb_main", None)["id"], created["id"], "a new collection was swapped in");
    for key in ["ids", "embeddings", "documents", "metadatas"] {
        assert_eq!(before[key], after[key], "{key} kept exactly");
    }
    // The rows as they were are kept as a snapshot (the old collection is gone): it verifies,
    // is named in the attempt, and prune protects it.
    let backup = run.json()["actions"].to_string();
    assert!(backup.contains("kept the rows as they were in snapshot") && backup.contains("pre-rebuild-"), "{backup}");
    let listed = env.run(&["--output", "json", "snapshot", "list"]).json();
    let kept =
        listed.as_array().unwrap().iter().find(|s| s["name"].as_str().unwrap().starts_with("pre-rebuild-")).unwrap();
    env.run(&["snapshot", "verify", kept["name"].as_str().unwrap()]).expect_code(0);
    let pruned = env.run(&["--output", "json", "snapshot", "prune", "--keep-last", "0", "--dry-run"]);
    assert!(pruned.stdout.contains("pre-rebuild-") && pruned.stdout.contains("safety"), "{}", pruned.stdout);

    // Snapshot, damage, roll back to the newest snapshot. Rows lost inside a collection the probe
    // cannot see; a rollback replaces only a collection that is missing or empty.
    env.run(&["snapshot", "create", "--name", "good"]).expect_code(0);
    let live = api("GET", "/collections/kb_main", None)["id"].as_str().unwrap().to_string();
    api("POST", &format!("/collections/{live}/delete"), Some(json!({"ids": ["k0001", "k0002"]})));
    let refused = env.run(&["recover", "-c", "chromadb", "--strategy", "snapshot_rollback", "--dry-run"]);
    refused.expect_code(6);
    assert!(refused.stderr.contains("no expected collection is missing or empty"), "{}", refused.stderr);
    // Emptied: now it is broken, and its (empty) state is backed up before the rollback.
    api("POST", &format!("/collections/{live}/delete"), Some(json!({"ids": ids})));
    let run = env.run(&["--output", "json", "recover", "-c", "chromadb", "--strategy", "snapshot_rollback"]);
    run.expect_code(0);
    let result = run.json();
    assert!(result["actions"][0].as_str().unwrap().contains("restored `kb_main`"), "{result:#}");
    assert_eq!(get_all()["ids"], before["ids"]);
    let listed = env.run(&["--output", "json", "snapshot", "list"]).json();
    assert!(
        listed.as_array().unwrap().iter().any(|s| s["name"].as_str().unwrap().starts_with("pre-rollback-")),
        "{listed:#}"
    );
    // The newest snapshot is now that backup of the damaged state: a rollback still picks `good`.
    api("DELETE", "/collections/kb_main", None);
    let plan =
        env.run(&["--output", "json", "recover", "-c", "chromadb", "--strategy", "snapshot_rollback", "--dry-run"]);
    plan.expect_code(0);
    assert_eq!(plan.json()["plan"]["params"]["snapshot"], "good", "{}", plan.stdout);
}

/// A rollback restores only the broken collection, from the newest snapshot that holds it — not
/// from a newer routine snapshot without it, and never rolling back a healthy collection; and no
/// snapshot older than `rollback_max_age` is used by itself.
#[test]
fn snapshot_rollback_restores_only_the_broken_collection_from_a_snapshot_that_holds_it() {
    let chroma = harness::chroma();
    let port = chroma.port;
    crate::snapshot::make_collection(port, "alpha", "l2", 100, 4);
    crate::snapshot::make_collection(port, "beta", "l2", 40, 4);
    let mut env = Env::new();
    env.set("IFCTL_CHROMADB_URL", format!("http://127.0.0.1:{port}")).set("IFCTL_CHROMADB_COLLECTIONS", "alpha,beta");
    env.write_config("[recovery]\nneeds_approval = []\n");
    env.run(&["snapshot", "create", "--name", "both"]).expect_code(0);
    // alpha grows to 130 rows; beta is deleted; a routine snapshot (alpha only) is taken.
    let alpha = chroma_api(port, "GET", "/collections/alpha", None)["id"].as_str().unwrap().to_string();
    let ids: Vec<String> = (0..30).map(|i| format!("new{i}")).collect();
    let embeddings: Vec<Vec<f32>> = (0..30).map(|i| vec![i as f32, 0.5, 0.25, 1.0]).collect();
    chroma_api(port, "POST", &format!("/collections/{alpha}/add"), Some(json!({"ids": ids, "embeddings": embeddings})));
    chroma_api(port, "DELETE", "/collections/beta", None);
    env.run(&["snapshot", "create", "--name", "routine", "--collection", "alpha"]).expect_code(0);
    let dry =
        env.run(&["--output", "json", "recover", "-c", "chromadb", "--strategy", "snapshot_rollback", "--dry-run"]);
    dry.expect_code(0);
    let params = &dry.json()["plan"]["params"];
    assert_eq!(
        (params["snapshot"].as_str(), params["collections"].clone()),
        (Some("both"), json!(["beta"])),
        "{}",
        dry.stdout
    );
    // Too old by the limit: refused, naming the snapshot and how to restore it on purpose.
    env.set("IFCTL_TEST_NOW", (chrono::Utc::now() + chrono::Duration::days(30)).to_rfc3339());
    let old = env.run(&["recover", "-c", "chromadb", "--strategy", "snapshot_rollback", "--dry-run"]);
    old.expect_code(6);
    assert!(old.stderr.contains("`both`, older than `recovery.chromadb.rollback_max_age` (7days)"), "{}", old.stderr);
    env.unset("IFCTL_TEST_NOW");
    let run = env.run(&["--output", "json", "recover", "-c", "chromadb", "--strategy", "snapshot_rollback"]);
    run.expect_code(0);
    assert_eq!(crate::snapshot::count(port, "beta"), 40, "beta is back");
    assert_eq!(crate::snapshot::count(port, "alpha"), 130, "healthy alpha was not rolled back");
}

#[test]
fn disk_cleanup_deletes_only_old_matching_files_inside_the_path() {
    let mut env = Env::new();
    let area = env.home.path().join("scratch");
    std::fs::create_dir_all(area.join("nested")).unwrap();
    let outside = env.home.path().join("outside.log");
    for (name, age_days) in [("old.log", 10), ("nested/old2.log", 9), ("fresh.log", 0), ("old.keep", 10)] {
        let path = area.join(name);
        std::fs::write(&path, vec![b'x'; 4096]).unwrap();
        let stamp = format!("{} days ago", age_days);
        assert!(std::process::Command::new("touch").arg("-d").arg(&stamp).arg(&path).status().unwrap().success());
    }
    std::fs::write(&outside, b"outside").unwrap();
    assert!(std::process::Command::new("touch").arg("-d").arg("30 days ago").arg(&outside).status().unwrap().success());
    std::os::unix::fs::symlink(&outside, area.join("link.log")).unwrap();
    env.write_config(&format!(
        "[recovery.system]\ncleanup_paths = [{{ path = \"{}\", older_than = \"7d\", glob = \"*.log\" }}]\n",
        area.display()
    ));
    env.set("IFCTL_DISK_PATHS", "/");
    let run = env.run(&["--output", "json", "recover", "-c", "system", "--strategy", "disk_cleanup"]);
    run.expect_code(0);
    let result = run.json();
    assert!(result["actions"][0].as_str().unwrap().starts_with("deleted 2 files, 8.0 KiB freed"), "{result:#}");
    assert!(!area.join("old.log").exists() && !area.join("nested/old2.log").exists());
    assert!(area.join("fresh.log").exists() && area.join("old.keep").exists(), "young or non-matching files stay");
    assert!(outside.exists(), "a link is never followed out of the path");
}

/// A directory swapped for a link to somewhere else after the walk listed it (the check) and
/// before it descends (the use) is refused, not followed: nothing outside the path is deleted and
/// the refusal is reported. A path that does not exist fails the action instead of "deleted 0".
/// A journal that cannot take a single byte (every write fails with ENOSPC, as `/dev/full` does):
/// `disk_cleanup` still frees the disk — recovery is fail-open (README, "A full disk — decided")
/// even for its write-ahead `recovery.started` — and the command says the journal failed.
#[test]
fn disk_cleanup_runs_when_not_even_its_write_ahead_record_fits() {
    let mut env = Env::new();
    let area = env.home.path().join("scratch");
    std::fs::create_dir_all(&area).unwrap();
    for name in ["a.log", "b.log", "c.log"] {
        let path = area.join(name);
        std::fs::write(&path, vec![b'x'; 4096]).unwrap();
        assert!(
            std::process::Command::new("touch").arg("-d").arg("10 days ago").arg(&path).status().unwrap().success()
        );
    }
    env.write_config(&format!(
        "[recovery.system]\ncleanup_paths = [{{ path = \"{}\", older_than = \"7d\", glob = \"*.log\" }}]\n",
        area.display()
    ));
    env.set("IFCTL_DISK_PATHS", "/");
    env.run(&["journal", "note", "before the disk filled"]).expect_code(0);
    let journal = env.journal();
    std::fs::remove_file(&journal).unwrap();
    std::os::unix::fs::symlink("/dev/full", &journal).unwrap();
    let run = env.run(&["recover", "-c", "system", "--strategy", "disk_cleanup"]);
    assert!(["a.log", "b.log", "c.log"].iter().all(|n| !area.join(n).exists()), "the disk was freed: {}", run.stderr);
    assert_ne!(run.code, 0, "the journal failure is not hidden");
    assert!(run.stderr.contains("journal") || run.stderr.contains("space"), "{}", run.stderr);
}

#[test]
fn disk_cleanup_refuses_a_directory_swapped_for_a_link_and_reports_missing_paths() {
    let mut env = Env::new();
    let area = env.home.path().join("scratch");
    let outside = env.home.path().join("outside");
    std::fs::create_dir_all(area.join("nested")).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    for path in [area.join("nested/a.old"), outside.join("precious.old")] {
        std::fs::write(&path, b"data").unwrap();
        assert!(std::process::Command::new("touch").args(["-d", "10 days ago"]).arg(&path).status().unwrap().success());
    }
    env.write_config(&format!(
        "[recovery]\nneeds_approval = []\n[recovery.system]\ncleanup_paths = [{{ path = \"{}\", older_than = \"1d\", glob = \"*.old\" }}]\n",
        area.display()
    ));
    let marker = env.home.path().join("paused");
    env.set("IFCTL_DISK_PATHS", "/")
        .set("IFCTL_TEST_PAUSE_AT", "disk_cleanup.descend")
        .set("IFCTL_TEST_PAUSE_FILE", marker.display().to_string());
    let child = env
        .command(&["--output", "json", "recover", "-c", "system", "--strategy", "disk_cleanup"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while !marker.exists() {
        assert!(started.elapsed() < Duration::from_secs(20), "never reached the descent");
        std::thread::sleep(Duration::from_millis(10));
    }
    // Between the listing and the descent: `nested` becomes a link to `outside`.
    std::fs::remove_file(area.join("nested/a.old")).unwrap();
    std::fs::remove_dir(area.join("nested")).unwrap();
    std::os::unix::fs::symlink(&outside, area.join("nested")).unwrap();
    std::fs::remove_file(&marker).unwrap();
    let out = child.wait_with_output().unwrap();
    let result: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(outside.join("precious.old").exists(), "followed the swapped link: {result:#}");
    let actions = result["actions"].to_string();
    assert!(actions.contains("deleted 0 files") && actions.contains("replaced by a link"), "{result:#}");

    env.unset("IFCTL_TEST_PAUSE_AT");
    env.write_config(
        "[recovery]\nneeds_approval = []\n[recovery.system]\ncleanup_paths = [{ path = \"/nonexistent/ifctl-logs\", older_than = \"1d\" }]\n",
    );
    let run = env.run(&["recover", "-c", "system", "--strategy", "disk_cleanup"]);
    run.expect_code(1);
    assert!(
        run.stdout.contains("cannot open `/nonexistent/ifctl-logs`") && !run.stdout.contains("succeeded"),
        "{}",
        run.stdout
    );
}

/// Two `ifctl approve ID` started together run the action once: the other exits 6 naming who
/// holds the recovery of Redis (or that it was already granted). Likewise a manual `recover`
/// while an approved action runs. One `recovery.attempt` in the journal.
#[test]
fn concurrent_approves_run_the_action_once() {
    // A restart that takes a while, so the two approvals overlap.
    let (mut redis, mut env, _restarted) = redis_env("");
    let config = std::fs::read_to_string(env.home.path().join("config/ifctl/ifctl.toml")).unwrap();
    env.write_config(&config.replace("restart_command = \"", "restart_command = \"sleep 1 && "));
    redis.kill();
    env.set("IFCTL_TEST_NOW", at(0));
    let run = env.run(&["--output", "json", "recover", "--component", "redis", "--strategy", "restart"]);
    run.expect_code(5);
    let id = run.json()["action_id"].as_str().unwrap().to_string();
    let both: Vec<_> = (0..2)
        .map(|_| env.command(&["approve", &id]).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap())
        .collect();
    std::thread::sleep(std::time::Duration::from_millis(400));
    let meanwhile = env.run(&["recover", "--component", "redis", "--strategy", "reconnect"]);
    let outs: Vec<_> = both.into_iter().map(|c| c.wait_with_output().unwrap()).collect();
    let codes: Vec<i32> = outs.iter().map(|o| o.status.code().unwrap()).collect();
    let mut sorted = codes.clone();
    sorted.sort();
    assert_eq!(sorted, vec![0, 6], "one runs, one is refused: {codes:?}");
    let refused = outs.iter().find(|o| o.status.code() == Some(6)).unwrap();
    let text = String::from_utf8_lossy(&refused.stderr);
    assert!(
        text.contains("recovery of redis is locked by pid") || text.contains("already"),
        "the refusal names the holder: {text}"
    );
    meanwhile.expect_code(6);
    assert!(meanwhile.stderr.contains("recovery of redis is locked by pid"), "{}", meanwhile.stderr);
    let attempts = env.run(&["--output", "json", "history", "--kind", "recovery.attempt"]).json();
    assert_eq!(attempts.as_array().unwrap().len(), 1, "{attempts:#}");
}

/// `index_rebuild` rebuilds from an archive it takes of the live data; rows written meanwhile
/// (here while it is paused right after it made its staging copy) are carried over, not lost.
#[test]
fn index_rebuild_keeps_rows_written_during_it() {
    let chroma = harness::chroma();
    let port = chroma.port;
    let api = |method: &str, path: &str, body: Option<Value>| chroma_api(port, method, path, body);
    let created =
        api("POST", "/collections", Some(json!({"name": "kb_main", "configuration": {"hnsw": {"space": "l2"}}})));
    let id = created["id"].as_str().unwrap().to_string();
    let add = |id: &str, range: std::ops::Range<usize>, prefix: &str| {
        let ids: Vec<String> = range.clone().map(|i| format!("{prefix}{i:04}")).collect();
        let embeddings: Vec<Vec<f32>> = range.clone().map(|i| vec![i as f32, 1.0, -0.5, 0.25]).collect();
        let docs: Vec<String> = range.map(|i| format!("doc {i}")).collect();
        api(
            "POST",
            &format!("/collections/{id}/add"),
            Some(json!({"ids": ids, "embeddings": embeddings, "documents": docs})),
        );
    };
    add(&id, 0..2000, "k");
    let mut env = Env::new();
    env.set("IFCTL_CHROMADB_URL", format!("http://127.0.0.1:{port}")).set("IFCTL_CHROMADB_COLLECTIONS", "kb_main");
    env.write_config("[recovery]\nneeds_approval = []\n");
    let child = env
        .command(&["recover", "-c", "chromadb", "--strategy", "index_rebuild"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while !harness::read(&env.journal()).contains("snapshot.staging_created") {
        assert!(started.elapsed() < Duration::from_secs(60), "the rebuild did not start");
        std::thread::sleep(Duration::from_millis(1));
    }
    let pid = rustix::process::Pid::from_raw(child.id() as i32).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::STOP).unwrap();
    add(&id, 0..25, "late");
    api("POST", &format!("/collections/{id}/delete"), Some(json!({"ids": ["k0007"]})));
    rustix::process::kill_process(pid, rustix::process::Signal::CONT).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let live = api("GET", "/collections/kb_main", None)["id"].as_str().unwrap().to_string();
    assert_ne!(live, id, "rebuilt");
    let all = api("POST", &format!("/collections/{live}/get"), Some(json!({"include": []})));
    let ids: Vec<&str> = all["ids"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert_eq!(ids.len(), 2000 + 25 - 1, "nothing written during the rebuild is lost");
    assert!(ids.contains(&"late0024") && !ids.contains(&"k0007"));
    let carried = env.run(&["--output", "json", "history", "--kind", "snapshot.carried_over"]).json();
    assert_eq!(carried.as_array().unwrap().len(), 1, "{carried:#}");
}

/// The follow-up command printed after queueing an action carries the `--config` this run was
/// given, so pasting it works; without it ifctl would read the default config and fail.
#[test]
fn printed_approve_command_works_when_pasted() {
    let (mut redis, env, _restarted) = redis_env("");
    let default = env.home.path().join("config/ifctl/ifctl.toml");
    let moved = env.home.path().join("my config.toml");
    std::fs::rename(&default, &moved).unwrap();
    redis.kill();
    let config = moved.to_str().unwrap();
    let run = env.run(&["--config", config, "recover", "-c", "redis", "--strategy", "restart"]);
    run.expect_code(5);
    let line = run.stdout.lines().find_map(|l| l.strip_prefix("Approve with: ")).expect("an approve line");
    assert!(line.starts_with("ifctl --config '") && line.contains("my config.toml"), "{line}");
    let pasted = env.paste(line);
    pasted.expect_code(0);
    assert!(pasted.stdout.contains("healthy"), "{}", pasted.stdout);
}

/// On a default setup a strategy that needs settings says which TOML to add, and lists the
/// strategies that can run as configured, as commands that work when pasted.
#[test]
fn unconfigured_strategy_shows_the_toml_to_add_and_what_can_run() {
    let redis = harness::redis();
    let mut env = Env::new();
    env.set("IFCTL_REDIS_URL", format!("redis://127.0.0.1:{}", redis.port));
    let run = env.run(&["recover", "-c", "redis", "--strategy", "restart", "--dry-run"]);
    run.expect_code(2);
    assert!(run.stderr.contains("[recovery.redis]") && run.stderr.contains("restart_command = "), "{}", run.stderr);
    let line = run
        .stderr
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("ifctl recover -c redis --strategy reconnect"))
        .unwrap_or_else(|| panic!("no runnable alternative listed:\n{}", run.stderr));
    env.paste(line).expect_code(0);
}

/// Why a strategy cannot be planned decides the exit status: a missing setting is 2 with the TOML
/// to add, a server the plan must look at being down is 3 (not "not configured"), and nothing
/// safe to act on is 6 (tested with the rollback tests above). The dry-run ladder in JSON names
/// a missing setting as `not_configured`.
#[test]
fn a_plan_that_cannot_be_made_exits_by_its_reason() {
    let closed = harness::closed_port();
    let mut env = Env::new();
    env.set("IFCTL_CHROMADB_URL", format!("http://127.0.0.1:{}", closed.port));
    let run = env.run(&["recover", "-c", "chromadb", "--strategy", "snapshot_rollback", "--dry-run"]);
    run.expect_code(3);
    assert!(run.stderr.contains("cannot see") && !run.stderr.contains("add to"), "{}", run.stderr);
    // A healthy component: nothing to recover, said in JSON too.
    let redis = harness::redis();
    env.set("IFCTL_REDIS_URL", format!("redis://127.0.0.1:{}", redis.port));
    let healthy = env.run(&["--output", "json", "recover", "-c", "redis", "--dry-run"]);
    healthy.expect_code(0);
    assert_eq!(healthy.json()["status"], "healthy", "{}", healthy.stdout);
    env.set("IFCTL_REDIS_URL", format!("redis://127.0.0.1:{}", closed.port));
    let restart = env.run(&["--output", "json", "recover", "-c", "redis", "--dry-run"]);
    let rungs = restart.json()["ladder"].as_array().unwrap().clone();
    let unconfigured = rungs.iter().find(|r| r["strategy"] == "restart").unwrap();
    assert!(unconfigured["not_configured"].as_str().unwrap().contains("restart_command"), "{unconfigured:#}");
}

/// Pids of processes whose command line is exactly `args`.
fn processes(args: &[&str]) -> Vec<i32> {
    let want: Vec<u8> = args.iter().flat_map(|a| a.bytes().chain([0])).collect();
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| c == want))
        .collect()
}

/// A configured command that leaves a background process returns at once (ifctl does not wait
/// for its output to close); commands get none of ifctl's secrets unless `command_env` names
/// them, and what they print is journaled with secret values masked; at the deadline the whole
/// process group dies, not only `sh`.
#[test]
fn configured_commands_run_apart_without_secrets_and_their_group_dies_at_the_deadline() {
    let mut env = Env::new();
    let secrets = ["Redis-pw-0a9e2c", "Owui-pw-77d1b3", "Serve-tk-3c4f88", "Api-tk-e5e5a1"];
    env.set("IFCTL_REDIS_PASSWORD", secrets[0])
        .set("IFCTL_OPENWEBUI_PASSWORD", secrets[1])
        .set("IFCTL_SERVE_TOKEN", secrets[2])
        .set("MY_API_TOKEN", secrets[3]);
    env.write_config(
        "[recovery]\nneeds_approval = []\ncommand_timeout_seconds = 3\ncommand_env = [\"MY_API_TOKEN\"]\n\
         [recovery.system]\nmemory_relief_command = \"sleep 1771 & env | grep -c PASSWORD; echo token=$MY_API_TOKEN; echo started\"\n\
         process_restart_command = \"sleep 1772 & sleep 60\"\n",
    );
    let run = env.run(&["--output", "json", "recover", "-c", "system", "--strategy", "memory_relief"]);
    assert!(run.elapsed < Duration::from_secs(5), "waited for the background process: {:?}", run.elapsed);
    assert!(run.code == 0 || run.code == 1, "{}", run.stderr);
    let background = processes(&["sleep", "1771"]);
    assert_eq!(background.len(), 1, "the background process it started runs on");
    for pid in background {
        let _ =
            rustix::process::kill_process(rustix::process::Pid::from_raw(pid).unwrap(), rustix::process::Signal::KILL);
    }
    let journal = harness::read(&env.journal());
    let attempt = journal.lines().find(|l| l.contains("memory_relief") && l.contains("recovery.attempt")).unwrap();
    let attempt: Value = serde_json::from_str(attempt).unwrap();
    let stdout = attempt["details"]["details"]["stdout"].as_str().unwrap();
    assert_eq!(stdout, "0\ntoken=********\nstarted", "no PASSWORD variable reached it; the passed token is masked");
    for secret in secrets {
        assert!(!journal.contains(secret) && !run.stdout.contains(secret), "{secret} leaked");
    }

    let run = env.run(&["recover", "-c", "system", "--strategy", "process_restart"]);
    run.expect_code(1);
    assert!(run.elapsed < Duration::from_secs(8), "{:?}", run.elapsed);
    assert!(run.stdout.contains("did not finish within 3s (its process group was killed)"), "{}", run.stdout);
    std::thread::sleep(Duration::from_millis(200));
    assert!(processes(&["sleep", "1772"]).is_empty(), "the group's background process was killed too");
}

/// A cleanup rule over the directory that holds ifctl's config and state, matching everything:
/// the journal (live and rotated), snapshots, locks and the config file stay; `journal verify`
/// still sees every event. Thousands of subdirectories under a low open-files limit are walked
/// with one open directory per level, not one per directory.
#[test]
fn disk_cleanup_never_touches_ifctls_own_state_and_walks_deep_trees_in_few_files() {
    let mut env = Env::new();
    let home = env.home.path().to_path_buf();
    let base = home.join("config/ifctl");
    env.set("IFCTL_STATE_DIR", base.join("state").display().to_string()).set("IFCTL_DISK_PATHS", "/");
    let config = env.write_config(&format!(
        "[recovery]\nneeds_approval = []\n[recovery.system]\ncleanup_paths = [{{ path = \"{}\", older_than = \"1s\", glob = \"*\" }}]\n",
        home.display()
    ));
    env.run(&["journal", "note", "before"]).expect_code(0);
    env.run(&["journal", "rotate"]).expect_code(0);
    env.run(&["journal", "note", "after"]).expect_code(0);
    let snapshots = base.join("state/snapshots");
    std::fs::create_dir_all(&snapshots).unwrap();
    std::fs::write(snapshots.join("nightly.tar.gz"), b"not really").unwrap();
    let junk = home.join("junk");
    for i in 0..1500 {
        std::fs::create_dir_all(junk.join(format!("d{i}"))).unwrap();
        std::fs::write(junk.join(format!("d{i}/old.tmp")), b"x").unwrap();
    }
    let mut state_files: Vec<std::path::PathBuf> =
        std::fs::read_dir(base.join("state")).unwrap().flatten().map(|e| e.path()).collect();
    state_files.push(config.clone());
    state_files.push(snapshots.join("nightly.tar.gz"));
    std::thread::sleep(Duration::from_millis(1100));
    let run = env.paste(&format!(
        "ulimit -n 256; ifctl --output json recover -c system --strategy disk_cleanup # {}",
        config.display()
    ));
    run.expect_code(0);
    let actions = serde_json::from_str::<Value>(&run.stdout).unwrap()["actions"].to_string();
    assert!(actions.contains("deleted 1500 files") && actions.contains("of ifctl's own"), "{actions}");
    for file in &state_files {
        assert!(file.exists(), "{} was deleted: {actions}", file.display());
    }
    let verify = env.run(&["journal", "verify"]);
    verify.expect_code(0);
}

/// Ctrl-C (SIGINT) to `recover` while its restart command runs: the command's whole process
/// group is killed (it has its own group, so the terminal's signal would not reach it), the attempt
/// is journaled as failed, and no further rung runs.
#[test]
fn an_interrupted_recover_kills_its_command_and_journals_the_attempt() {
    let mut env = Env::new();
    env.write_config("[recovery]\nneeds_approval = []\n[recovery.redis]\nrestart_command = \"sleep 1001\"\n");
    let child = env
        .command(&["recover", "-c", "redis", "--strategy", "restart"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while processes(&["sleep", "1001"]).is_empty() {
        assert!(started.elapsed() < Duration::from_secs(10), "the command never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    rustix::process::kill_process(
        rustix::process::Pid::from_raw(child.id() as i32).unwrap(),
        rustix::process::Signal::INT,
    )
    .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    std::thread::sleep(Duration::from_millis(200));
    assert!(processes(&["sleep", "1001"]).is_empty(), "the command outlived ifctl");
    let journal = harness::read(&env.journal());
    assert!(journal.contains("was interrupted by SIGINT to ifctl (its process group was killed)"), "{journal}");
}

/// A full disk must not block the recovery that frees it: with the state dir on a full
/// filesystem (a tmpfs, needs root as the CI machine is), `disk_cleanup` still takes its lock,
/// deletes the old files, and — space freed — journals the attempt.
#[test]
fn disk_cleanup_runs_when_the_state_dir_is_on_the_full_disk() {
    if !rustix::process::geteuid().is_root() {
        return; // mounting a tmpfs needs root; the CI machine runs as root
    }
    let mut env = Env::new();
    let full = env.home.path().join("full");
    std::fs::create_dir_all(&full).unwrap();
    assert!(
        std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=128k", "tmpfs"])
            .arg(&full)
            .status()
            .unwrap()
            .success()
    );
    struct Unmount(std::path::PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount").arg(&self.0).status();
        }
    }
    let _unmount = Unmount(full.clone());
    let logs = full.join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    env.set("IFCTL_STATE_DIR", full.join("state").display().to_string()).set("IFCTL_DISK_PATHS", "/");
    env.write_config(&format!(
        "[recovery]\nneeds_approval = []\n[recovery.system]\ncleanup_paths = [{{ path = \"{}\", older_than = \"1d\", glob = \"*.log\" }}]\n",
        logs.display()
    ));
    env.run(&["journal", "note", "before the disk filled"]).expect_code(0);
    // Fill the filesystem with old logs until nothing more fits.
    for i in 0.. {
        let path = logs.join(format!("old-{i}.log"));
        if std::fs::write(&path, vec![b'x'; 8192]).is_err() {
            let _ = std::fs::remove_file(&path);
            break;
        }
        assert!(std::process::Command::new("touch").args(["-d", "3 days ago"]).arg(&path).status().unwrap().success());
    }
    assert!(std::fs::write(full.join("probe"), vec![0u8; 8192]).is_err(), "the disk is full");
    let run = env.run(&["--output", "json", "recover", "-c", "system", "--strategy", "disk_cleanup"]);
    assert!(run.code == 0 || run.code == 1, "{}", run.stderr);
    let out = run.json();
    assert!(out["actions"][0].as_str().unwrap().starts_with("deleted "), "{out:#}");
    assert_eq!(std::fs::read_dir(&logs).unwrap().count(), 0, "the old logs are gone");
    let journal = harness::read(&full.join("state/journal.jsonl"));
    assert!(journal.contains("recovery.attempt") && journal.contains("disk_cleanup"), "journaled once space was free");
}
