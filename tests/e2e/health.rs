//! `ifctl health check` against real servers, with real faults.

use std::time::Duration;

use crate::harness::{self, Env, Server};

const COLLECTIONS: &str = "notes_alpha,notes_beta";

/// Redis and a Chroma holding the expected collections, and an env pointing at them.
fn stack() -> (Server, Server, Env) {
    let redis = harness::redis();
    let chroma = harness::chroma();
    harness::seed_collection(chroma.port, "notes_alpha", 20);
    harness::seed_collection(chroma.port, "notes_beta", 5);
    let mut env = Env::new();
    env.set("IFCTL_REDIS_URL", format!("redis://127.0.0.1:{}", redis.port))
        .set("IFCTL_CHROMADB_URL", format!("http://127.0.0.1:{}", chroma.port))
        .set("IFCTL_CHROMADB_COLLECTIONS", COLLECTIONS);
    (redis, chroma, env)
}

fn component<'a>(report: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    report["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["component"] == name)
        .unwrap_or_else(|| panic!("no component {name} in {report:#}"))
}

fn promtool() -> std::path::PathBuf {
    std::env::var_os("IFCTL_TEST_PROMTOOL").map(Into::into).unwrap_or_else(|| "promtool".into())
}

#[test]
fn healthy_stack_exits_0_with_documented_json() {
    let (_redis, _chroma, env) = stack();
    let run = env.run(&["--output", "json", "health", "check", "-c", "redis", "-c", "chromadb", "-c", "system"]);
    run.expect_code(0);
    let report = run.json();
    assert_eq!(report["status"], "healthy");
    assert!(report["checked_at"].as_str().unwrap().ends_with('Z'));
    assert!(report["duration_ms"].as_f64().unwrap() > 0.0);
    for c in report["components"].as_array().unwrap() {
        for key in [
            "component",
            "status",
            "critical",
            "latency_ms",
            "reason",
            "problem",
            "hint",
            "caused_by",
            "details",
            "measures",
        ] {
            assert!(c.get(key).is_some(), "component lacks `{key}`: {c:#}");
        }
        assert_eq!(c["status"], "healthy", "{c:#}");
    }
    let redis = component(&report, "redis");
    assert!(redis["details"]["version"].as_str().unwrap().starts_with('7'), "{redis:#}");
    let chroma = component(&report, "chromadb");
    let collections = chroma["details"]["collections"].as_array().unwrap();
    let counts: Vec<(String, u64)> =
        collections.iter().map(|c| (c["name"].as_str().unwrap().to_string(), c["count"].as_u64().unwrap())).collect();
    assert_eq!(counts, vec![("notes_alpha".to_string(), 20), ("notes_beta".to_string(), 5)]);
    assert!(chroma["measures"].as_array().unwrap().iter().any(|m| m["name"] == "chromadb_query_latency"));
    assert!(run.stderr.is_empty(), "nothing on stderr: {}", run.stderr);

    let table = env.run(&["health", "check", "-c", "redis", "-c", "chromadb", "-c", "system"]);
    table.expect_code(0);
    assert!(table.stdout.contains("2/2 collections, 25 records"), "{}", table.stdout);
    assert!(table.stdout.contains("Overall: healthy"), "{}", table.stdout);
}

#[test]
fn missing_and_empty_collections_are_reported() {
    let (_redis, chroma, mut env) = stack();
    harness::seed_collection(chroma.port, "notes_empty", 0);
    env.set("IFCTL_CHROMADB_COLLECTIONS", "notes_alpha,notes_empty,notes_gone");
    let run = env.run(&["--output", "json", "health", "check", "-c", "chromadb"]);
    run.expect_code(2);
    let chroma = component(&run.json(), "chromadb").clone();
    assert_eq!(chroma["status"], "unhealthy");
    assert_eq!(chroma["problem"], "data");
    let reason = chroma["reason"].as_str().unwrap();
    assert!(reason.contains("missing: notes_gone") && reason.contains("`notes_empty` is empty"), "{reason}");
}

#[test]
fn prometheus_output_passes_promtool_and_nagios_is_one_line() {
    let (_redis, _chroma, env) = stack();
    let run = env.run(&["health", "check", "--format", "prometheus"]);
    // OpenWebUI is not running (non-critical): the critical components decide.
    run.expect_code(0);
    assert!(
        run.stdout.contains("ifctl_component_status{component=\"openwebui\",critical=\"false\"} 2"),
        "{}",
        run.stdout
    );
    let mut check = std::process::Command::new(promtool())
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("promtool is installed by scripts/test-stack install");
    use std::io::Write;
    check.stdin.take().unwrap().write_all(run.stdout.as_bytes()).unwrap();
    let out = check.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics failed:\n{}{}\n--- metrics\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        run.stdout
    );

    let nagios = env.run(&["health", "check", "--format", "nagios"]);
    nagios.expect_code(0);
    assert_eq!(nagios.stdout.lines().count(), 1, "{}", nagios.stdout);
    assert!(nagios.stdout.starts_with("IFCTL OK - openwebui unhealthy (non-critical): "), "{}", nagios.stdout);
    assert!(nagios.stdout.contains("| redis_check="), "{}", nagios.stdout);
    assert!(nagios.stdout.contains("'chromadb_collection_records_notes_alpha'=20;;;;"), "{}", nagios.stdout);
}

#[test]
fn killed_redis_is_unhealthy_at_once() {
    let (mut redis, _chroma, env) = stack();
    redis.kill();
    let run = env.run(&["--output", "json", "health", "check"]);
    run.expect_code(2);
    assert!(run.elapsed < Duration::from_secs(1), "a refused connection fails at once, took {:?}", run.elapsed);
    let report = run.json();
    assert_eq!(report["status"], "unhealthy");
    let redis = component(&report, "redis");
    assert_eq!(redis["status"], "unhealthy");
    assert_eq!(redis["problem"], "unreachable");
    assert!(redis["reason"].as_str().unwrap().contains("connection refused"), "{redis:#}");
    assert_eq!(component(&report, "chromadb")["status"], "healthy");
}

#[test]
fn sigstopped_chroma_fails_at_the_deadline() {
    let (_redis, mut chroma, env) = stack();
    chroma.freeze();
    let run = env.run(&["--output", "json", "health", "check", "-c", "redis", "-c", "chromadb"]);
    chroma.thaw();
    run.expect_code(2);
    assert!(
        run.elapsed >= Duration::from_secs(2) && run.elapsed < Duration::from_secs(3),
        "default 2 s deadline + < 1 s, took {:?}",
        run.elapsed
    );
    let report = run.json();
    let c = component(&report, "chromadb");
    assert_eq!(c["status"], "unhealthy");
    assert_eq!(c["problem"], "timeout");
    assert_eq!(component(&report, "redis")["status"], "healthy", "other probes are not held up");

    chroma.freeze();
    let run = env.run(&["health", "check", "-c", "chromadb", "--timeout", "500ms"]);
    chroma.thaw();
    run.expect_code(2);
    assert!(run.elapsed < Duration::from_millis(1500), "--timeout 500ms took {:?}", run.elapsed);
    assert!(run.stdout.contains("within 500ms"), "{}", run.stdout);
}

#[test]
fn wrong_chroma_url_is_misconfigured_not_down() {
    let (redis, chroma, mut env) = stack();
    // Chroma's removed v1 API answers 410.
    env.set("IFCTL_CHROMADB_URL", format!("http://127.0.0.1:{}/api/v1", chroma.port));
    let run = env.run(&["--output", "json", "health", "check", "-c", "chromadb"]);
    run.expect_code(3);
    let c = component(&run.json(), "chromadb").clone();
    assert_eq!(c["status"], "unknown");
    assert_eq!(c["problem"], "misconfigured");
    assert!(c["reason"].as_str().unwrap().contains("410"), "{c:#}");
    assert!(c["hint"].as_str().unwrap().contains("v1 API"), "{c:#}");

    // An HTML page (a web server on the port).
    let web = html_server();
    env.set("IFCTL_CHROMADB_URL", format!("http://127.0.0.1:{}", web.port));
    let run = env.run(&["--output", "json", "health", "check", "-c", "chromadb"]);
    run.expect_code(3);
    let c = component(&run.json(), "chromadb").clone();
    assert_eq!(c["problem"], "misconfigured", "{c:#}");
    assert!(c["reason"].as_str().unwrap().contains("HTML"), "{c:#}");

    // Redis URL pointing at an HTTP server.
    env.set("IFCTL_REDIS_URL", format!("redis://127.0.0.1:{}", chroma.port));
    let run = env.run(&["--output", "json", "health", "check", "-c", "redis"]);
    run.expect_code(3);
    let r = component(&run.json(), "redis").clone();
    assert_eq!(r["problem"], "misconfigured", "{r:#}");
    drop(redis);
}

/// Python's http.server serving an index.html: a real web server that is not Chroma.
fn html_server() -> Server {
    let port = harness::free_port();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("index.html"), "<!DOCTYPE html><html><body>hello</body></html>").unwrap();
    std::fs::create_dir_all(dir.path().join("api/v2")).unwrap();
    std::fs::write(dir.path().join("api/v2/heartbeat"), "<!DOCTYPE html><html><body>heartbeat?</body></html>").unwrap();
    harness::python_http_server(port, dir)
}

#[test]
fn bad_config_exits_3_for_health_and_2_elsewhere() {
    let mut env = Env::new();
    let path = env.write_config("[redis]\nurl = \"redis://127.0.0.1:6379\"\ncritcal = true\n");
    let run = env.run(&["health", "check"]);
    run.expect_code(3);
    assert!(run.stderr.contains("redis.critcal"), "{}", run.stderr);
    assert!(run.stderr.contains(&path.display().to_string()), "{}", run.stderr);
    assert!(
        run.stderr.contains("hint: fix `redis.critcal` in"),
        "points at the key, not at `config show`: {}",
        run.stderr
    );
    assert!(run.stdout.is_empty());

    let run = env.run(&["--output", "json", "health", "check"]);
    run.expect_code(3);
    let err = run.json();
    assert_eq!(err["error"]["kind"], "config");
    assert_eq!(err["error"]["key"], "redis.critcal");
    assert_eq!(err["error"]["exit_code"], 3);

    env.run(&["config", "show"]).expect_code(2);
    env.run(&["history"]).expect_code(2);

    // Bad flags: 3 for health (Nagios UNKNOWN), 2 elsewhere.
    let mut env = Env::new();
    env.set("IFCTL_CHROMADB_URL", "http://127.0.0.1:1");
    env.run(&["health", "check", "--format", "xml"]).expect_code(3);
    env.run(&["health", "check", "--timeout", "soon"]).expect_code(3);
    env.run(&["history", "--limit", "many"]).expect_code(2);
    let run = env.run(&["--output", "json", "health", "check", "--format", "xml"]);
    run.expect_code(3);
    assert_eq!(run.json()["error"]["exit_code"], 3, "flag errors are JSON too when JSON was asked for");
    let bad_env = {
        let mut e = Env::new();
        e.set("IFCTL_CHROMADB_URL", "localhost:8000");
        e
    };
    let run = bad_env.run(&["health", "check"]);
    run.expect_code(3);
    assert!(run.stderr.contains("IFCTL_CHROMADB_URL") && run.stderr.contains("chromadb.url"), "{}", run.stderr);
}

#[test]
fn status_changes_are_journaled_once() {
    let (mut redis, _chroma, env) = stack();
    let args = ["health", "check", "-c", "redis", "-c", "chromadb"];
    env.run(&args).expect_code(0);
    env.run(&args).expect_code(0);
    let history = env.run(&["--output", "json", "history", "--kind", "health"]);
    history.expect_code(0);
    let events = history.json();
    let events = events.as_array().unwrap();
    assert_eq!(events.len(), 2, "one first-seen transition per component, not one per run: {events:#?}");
    redis.kill();
    env.run(&args).expect_code(2);
    env.run(&args).expect_code(2);
    let events = env.run(&["--output", "json", "history", "--kind", "health.transition", "-c", "redis"]).json();
    let to: Vec<&str> = events.as_array().unwrap().iter().map(|e| e["details"]["to"].as_str().unwrap()).collect();
    assert_eq!(to, vec!["healthy", "unhealthy"]);
    let last = &events.as_array().unwrap()[1];
    assert_eq!(last["details"]["from"], "healthy");
    assert_eq!(last["outcome"], "unhealthy");
    let human = env.run(&["history", "--kind", "health"]);
    human.expect_code(0);
    assert!(human.stdout.contains("healthy -> unhealthy: connection refused"), "{}", human.stdout);
    env.run(&["journal", "verify"]).expect_code(0);
}

/// One OpenWebUI (about a minute to start) using the test Redis, exercised in sequence.
#[test]
fn openwebui_auth_readiness_and_redis_dependency() {
    let (mut redis, _chroma, mut env) = stack();
    let llm = harness::llm_upstream("primary");
    let owui = harness::openwebui(Some(redis.port), Some(llm.port));
    env.set("IFCTL_OPENWEBUI_URL", format!("http://127.0.0.1:{}", owui.port));

    // No credentials: readiness only, models not checked, still healthy.
    let run = env.run(&["--output", "json", "health", "check"]);
    run.expect_code(0);
    let o = component(&run.json(), "openwebui").clone();
    assert_eq!(o["status"], "healthy", "{o:#}");
    assert!(o["details"]["models"].as_str().unwrap().starts_with("not checked"), "{o:#}");

    // The first sign-up creates the admin; its token and its credentials both work.
    let body = r#"{"name":"Ops","email":"ops@example.com","password":"correct-horse-battery"}"#;
    let (status, answer) = harness::http(owui.port, "POST", "/api/v1/auths/signup", Some(body), None).unwrap();
    assert_eq!(status, 200, "{answer}");
    let token = serde_json::from_str::<serde_json::Value>(&answer).unwrap()["token"].as_str().unwrap().to_string();

    env.set("IFCTL_OPENWEBUI_TOKEN", token.clone());
    let run = env.run(&["--output", "json", "health", "check"]);
    run.expect_code(0);
    let report = run.json();
    let o = component(&report, "openwebui");
    assert_eq!(o["status"], "healthy", "{o:#}");
    assert!(o["details"]["models"].is_array(), "an authenticated /api/models answered: {o:#}");
    assert!(!run.stdout.contains(&token), "the token never reaches the output");

    let mut signin = Env::new();
    signin
        .set("IFCTL_REDIS_URL", format!("redis://127.0.0.1:{}", redis.port))
        .set("IFCTL_OPENWEBUI_URL", format!("http://127.0.0.1:{}", owui.port))
        .set("IFCTL_OPENWEBUI_EMAIL", "ops@example.com")
        .set("IFCTL_OPENWEBUI_PASSWORD", "correct-horse-battery");
    let run = signin.run(&["--output", "json", "health", "check", "-c", "openwebui"]);
    run.expect_code(0);
    assert!(component(&run.json(), "openwebui")["details"]["models"].is_array(), "{}", run.stdout);

    signin.set("IFCTL_OPENWEBUI_PASSWORD", "wrong-password");
    let run = signin.run(&["--output", "json", "health", "check", "-c", "openwebui"]);
    run.expect_code(1);
    let o = component(&run.json(), "openwebui").clone();
    assert_eq!((o["status"].as_str(), o["problem"].as_str()), (Some("degraded"), Some("auth")), "{o:#}");

    env.set("IFCTL_OPENWEBUI_TOKEN", "not-a-valid-token");
    let run = env.run(&["--output", "json", "health", "check"]);
    run.expect_code(0); // OpenWebUI is non-critical by default
    let o = component(&run.json(), "openwebui").clone();
    assert_eq!((o["status"].as_str(), o["problem"].as_str()), (Some("degraded"), Some("auth")), "{o:#}");
    assert!(!run.stdout.contains("not-a-valid-token"));

    // Recovery `token_refresh`: signs in, stores the token (0600), and the health check uses it.
    signin.set("IFCTL_OPENWEBUI_PASSWORD", "correct-horse-battery");
    let run = signin.run(&["--output", "json", "recover", "-c", "openwebui", "--strategy", "token_refresh"]);
    run.expect_code(0);
    assert_eq!(run.json()["status_after"], "healthy", "{}", run.stdout);
    let stored = signin.state_dir().join("openwebui.token");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&stored).unwrap().permissions().mode() & 0o777, 0o600);
    let token_text = std::fs::read_to_string(&stored).unwrap();
    assert!(
        !run.stdout.contains(&token_text) && !harness::read(&signin.journal()).contains(&token_text),
        "never printed or journaled"
    );
    signin.set("IFCTL_OPENWEBUI_EMAIL", "").set("IFCTL_OPENWEBUI_PASSWORD", "");
    let run = signin.run(&["--output", "json", "health", "check", "-c", "openwebui"]);
    run.expect_code(0);
    assert!(
        component(&run.json(), "openwebui")["details"]["models"].is_array(),
        "the stored token was used: {}",
        run.stdout
    );

    // An expired configured token does not defeat a refresh: the refreshed token stored by
    // `token_refresh` is used by the very process that made it (its verification succeeds, no
    // cooldown), and the report notes the refused one.
    signin.set("IFCTL_OPENWEBUI_TOKEN", "expired-token-xyz");
    signin.set("IFCTL_OPENWEBUI_EMAIL", "").set("IFCTL_OPENWEBUI_PASSWORD", "");
    std::fs::remove_file(&stored).unwrap();
    let run = signin.run(&["--output", "json", "health", "check", "-c", "openwebui"]);
    let o = component(&run.json(), "openwebui").clone();
    assert_eq!(o["problem"], "auth", "no way in without credentials: {o:#}");
    signin.set("IFCTL_OPENWEBUI_EMAIL", "ops@example.com").set("IFCTL_OPENWEBUI_PASSWORD", "correct-horse-battery");
    let run = signin.run(&["--output", "json", "recover", "-c", "openwebui", "--strategy", "token_refresh"]);
    run.expect_code(0);
    assert_eq!(
        (run.json()["success"].as_bool(), run.json()["status_after"].as_str()),
        (Some(true), Some("healthy")),
        "{}",
        run.stdout
    );
    signin.set("IFCTL_OPENWEBUI_EMAIL", "").set("IFCTL_OPENWEBUI_PASSWORD", "");
    let run = signin.run(&["--output", "json", "health", "check", "-c", "openwebui"]);
    let o = component(&run.json(), "openwebui").clone();
    assert_eq!(o["status"], "healthy", "{o:#}");
    assert!(o["details"]["auth_note"].as_str().unwrap().contains("used the token stored by token_refresh"), "{o:#}");
    assert!(!run.stdout.contains("expired-token-xyz"));
    signin.unset("IFCTL_OPENWEBUI_TOKEN");

    // Recovery `model_failover`: the primary model's provider fails, the fallback answers a real
    // completion through OpenWebUI and becomes the default model.
    signin.set("IFCTL_OPENWEBUI_EMAIL", "ops@example.com").set("IFCTL_OPENWEBUI_PASSWORD", "correct-horse-battery");
    signin.write_config("[recovery.openwebui]\nprimary_model = \"primary\"\nfallback_models = [\"fallback\"]\n");
    // It needs approval by default (it changes what every user gets).
    let run = signin.run(&["--output", "json", "recover", "-c", "openwebui", "--strategy", "model_failover"]);
    run.expect_code(5);
    let id = run.json()["action_id"].as_str().unwrap().to_string();
    let run = signin.run(&["--output", "json", "approve", &id]);
    let result = run.json();
    let actions: Vec<&str> = result["actions"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()).collect();
    assert!(actions[0].contains("`primary` failed") && actions[1] == "`fallback` answered", "{actions:?}");
    let (status, body) = harness::http(owui.port, "GET", "/api/v1/configs/models", None, Some(&token_text)).unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(serde_json::from_str::<serde_json::Value>(&body).unwrap()["DEFAULT_MODELS"], "fallback");
    let attempt = signin.run(&["--output", "json", "history", "--kind", "recovery.attempt", "-n", "1"]).json();
    assert_eq!(attempt[0]["details"]["details"]["previous_default"], serde_json::Value::Null, "the switch is recorded");
    assert_eq!(attempt[0]["details"]["details"]["default_model"], "fallback");
    // Undone by its journal number, once; the undo is journaled.
    let seq = attempt[0]["seq"].as_u64().unwrap().to_string();
    let undo = signin.run(&["recover", "-c", "openwebui", "--revert", &seq, "--reason", "back to normal"]);
    undo.expect_code(0);
    assert!(undo.stdout.contains(&format!("Reverted attempt #{seq}")), "{}", undo.stdout);
    let (_, body) = harness::http(owui.port, "GET", "/api/v1/configs/models", None, Some(&token_text)).unwrap();
    assert_eq!(serde_json::from_str::<serde_json::Value>(&body).unwrap()["DEFAULT_MODELS"], serde_json::Value::Null);
    let again = signin.run(&["recover", "-c", "openwebui", "--revert", &seq]);
    again.expect_code(6);
    assert!(again.stderr.contains("already reverted"), "{}", again.stderr);
    assert!(harness::read(&signin.journal()).contains("recovery.reverted"));

    // An API key (`sk-…`, made by the signed-in admin; the harness starts OpenWebUI with
    // ENABLE_API_KEYS) instead of a session token: used first, never printed or journaled; an
    // unknown one is `auth` with the API-key hint.
    let (status, body) = harness::http(owui.port, "POST", "/api/v1/auths/api_key", Some("{}"), Some(&token)).unwrap();
    assert_eq!(status, 200, "{body}");
    let key = serde_json::from_str::<serde_json::Value>(&body).unwrap()["api_key"].as_str().unwrap().to_string();
    assert!(key.starts_with("sk-"), "{key}");
    let mut keyed = Env::new();
    keyed
        .set("IFCTL_REDIS_URL", format!("redis://127.0.0.1:{}", redis.port))
        .set("IFCTL_OPENWEBUI_URL", format!("http://127.0.0.1:{}", owui.port))
        .set("IFCTL_OPENWEBUI_API_KEY", key.clone());
    let run = keyed.run(&["--output", "json", "health", "check", "-c", "openwebui"]);
    run.expect_code(0);
    let o = component(&run.json(), "openwebui").clone();
    assert!(o["details"]["models"].is_array() && o["details"]["auth_note"].is_null(), "the key was used: {o:#}");
    keyed.set("IFCTL_OPENWEBUI_API_KEY", "sk-00000000000000000000000000000000");
    let run = keyed.run(&["--output", "json", "health", "check", "-c", "openwebui"]);
    let o = component(&run.json(), "openwebui").clone();
    assert_eq!((o["status"].as_str(), o["problem"].as_str()), (Some("degraded"), Some("auth")), "{o:#}");
    assert!(o["hint"].as_str().unwrap().contains("IFCTL_OPENWEBUI_API_KEY"), "{o:#}");
    assert!(!run.stdout.contains(&key) && !harness::read(&keyed.journal()).contains(&key));

    // The opt-in streaming probe through OpenWebUI to the stand-in provider: time to the first
    // token and to the end, judged by their levels; a failing model is named.
    keyed.set("IFCTL_OPENWEBUI_API_KEY", key.clone());
    let measure = |o: &serde_json::Value, name: &str| {
        o["measures"].as_array().unwrap().iter().find(|m| m["name"] == name).map(|m| m["value"].as_f64().unwrap())
    };
    keyed.write_config("[openwebui.first_token_probe]\nmodel = \"fallback\"\n");
    let run = keyed.run(&["--output", "json", "health", "check", "-c", "openwebui"]);
    run.expect_code(0);
    let o = component(&run.json(), "openwebui").clone();
    let (first, total) = (measure(&o, "openwebui_first_token_latency"), measure(&o, "openwebui_stream_total_latency"));
    assert!(first.is_some_and(|f| f > 0.0) && total.unwrap() >= first.unwrap(), "{o:#}");
    assert_eq!((o["status"].as_str(), o["details"]["stream_tokens"].as_u64()), (Some("healthy"), Some(3)), "{o:#}");
    let prom = keyed.run(&["health", "check", "-c", "openwebui", "--format", "prometheus"]);
    assert!(prom.stdout.contains("openwebui_first_token_latency"), "{}", prom.stdout);
    keyed.write_config(
        "[openwebui.first_token_probe]\nmodel = \"slow\"\nfirst_token_ms = { degraded = 500, unhealthy = 60000 }\n",
    );
    let run = keyed.run(&["--output", "json", "health", "check", "-c", "openwebui"]);
    let o = component(&run.json(), "openwebui").clone();
    assert!(measure(&o, "openwebui_first_token_latency").unwrap() >= 1500.0, "{o:#}");
    assert_eq!((o["status"].as_str(), o["problem"].as_str()), (Some("degraded"), Some("threshold")), "{o:#}");
    assert!(o["reason"].as_str().unwrap().contains("first token of `slow`"), "{o:#}");
    // A model slower than the probe's own wait: degraded and said so — OpenWebUI answered.
    keyed.write_config("[openwebui.first_token_probe]\nmodel = \"slow\"\ntimeout = \"500ms\"\n");
    let run = keyed.run(&["--output", "json", "health", "check", "-c", "openwebui"]);
    let o = component(&run.json(), "openwebui").clone();
    assert_eq!((o["status"].as_str(), o["problem"].as_str()), (Some("degraded"), Some("threshold")), "{o:#}");
    assert!(o["reason"].as_str().unwrap().contains("no streamed completion from `slow` within 500ms"), "{o:#}");
    keyed.write_config("[openwebui.first_token_probe]\nmodel = \"primary\"\n");
    let run = keyed.run(&["--output", "json", "health", "check", "-c", "openwebui"]);
    let o = component(&run.json(), "openwebui").clone();
    assert_eq!((o["status"].as_str(), o["problem"].as_str()), (Some("degraded"), Some("error")), "{o:#}");
    assert!(o["reason"].as_str().unwrap().contains("streamed completion with `primary` failed"), "{o:#}");

    // Redis killed: Redis unhealthy, OpenWebUI's readiness fails and the report names Redis.
    env.set("IFCTL_OPENWEBUI_TOKEN", token);
    redis.kill();
    let run = env.run(&["--output", "json", "health", "check"]);
    run.expect_code(2);
    let report = run.json();
    assert_eq!(component(&report, "redis")["status"], "unhealthy");
    let o = component(&report, "openwebui");
    assert_eq!(o["caused_by"], serde_json::json!(["redis"]), "{o:#}");
    assert_ne!(o["status"], "healthy", "{o:#}");
    assert!(o["reason"].as_str().unwrap().contains("redis"), "{o:#}");
    let table = env.run(&["health", "check"]);
    table.expect_code(2);
    assert!(table.stdout.contains("the cause is redis"), "{}", table.stdout);
}

#[test]
fn redis_password_comes_from_env_or_file_and_never_shows() {
    let redis = harness::redis_with(&["--requirepass", "s3cr3t-redis-pw"]);
    let mut env = Env::new();
    env.set("IFCTL_REDIS_URL", format!("redis://127.0.0.1:{}", redis.port));
    let run = env.run(&["--output", "json", "health", "check", "-c", "redis"]);
    run.expect_code(2);
    let r = component(&run.json(), "redis").clone();
    assert_eq!(r["problem"], "auth", "{r:#}");
    assert!(r["hint"].as_str().unwrap().contains("IFCTL_REDIS_PASSWORD"), "{r:#}");

    env.set("IFCTL_REDIS_PASSWORD", "s3cr3t-redis-pw");
    env.run(&["health", "check", "-c", "redis"]).expect_code(0);

    env.set("IFCTL_REDIS_PASSWORD", "");
    let file = env.home.path().join("redis.pass");
    std::fs::write(&file, "s3cr3t-redis-pw\n").unwrap();
    env.write_config(&format!("[redis]\npassword_file = \"{}\"\n", file.display()));
    // Readable by every user: refused, with the fix.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let run = env.run(&["health", "check", "-c", "redis"]);
    assert!(run.stdout.contains("readable by every user") && run.stdout.contains("chmod 600"), "{}", run.stdout);
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let run = env.run(&["health", "check", "-c", "redis"]);
    run.expect_code(0);
    let shown = env.run(&["config", "show"]);
    assert!(!shown.stdout.contains("s3cr3t") && !run.stdout.contains("s3cr3t"), "{}", shown.stdout);
    let journal = harness::read(&env.journal());
    assert!(!journal.is_empty() && !journal.contains("s3cr3t"), "the journal never holds secrets");
}

/// Two setups that are not failures to recover: an `allkeys-lru` cache at its maxmemory (evicting
/// as designed) is healthy, and no flush is proposed; a monitoring user without the INFO
/// permission is `unknown`/`auth` with the ACL to grant — never reconnect or restart.
#[test]
fn a_full_lru_cache_is_healthy_and_a_user_without_info_is_auth_not_down() {
    let redis = harness::redis_with(&["--maxmemory", "2mb", "--maxmemory-policy", "allkeys-lru"]);
    let mut env = Env::new();
    env.set("IFCTL_REDIS_URL", format!("redis://127.0.0.1:{}", redis.port));
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", redis.port)).unwrap();
    use std::io::{Read, Write};
    let value = "v".repeat(2048);
    let mut batch = String::new();
    for i in 0..3000 {
        batch.push_str(&format!("SET cache:{i} {value}\r\n"));
    }
    stream.write_all(batch.as_bytes()).unwrap();
    let mut seen = 0;
    let mut buf = [0u8; 65536];
    while seen < 3000 {
        let n = stream.read(&mut buf).unwrap();
        seen += buf[..n].iter().filter(|b| **b == b'\n').count();
    }
    let run = env.run(&["--output", "json", "health", "check", "-c", "redis"]);
    run.expect_code(0);
    let r = component(&run.json(), "redis").clone();
    assert!(r["details"]["memory_pct"].as_f64().unwrap() > 80.0, "the cache is full: {r:#}");
    assert!(r["details"]["memory_note"].as_str().unwrap().contains("by design"), "{r:#}");
    let recover = env.run(&["recover", "-c", "redis"]);
    assert!(recover.stdout.contains("healthy; nothing to recover"), "no flush proposed: {}", recover.stdout);

    let acl = harness::redis_with(&["--user", "monitor", "on", ">mon-pw-1", "+ping"]);
    env.set("IFCTL_REDIS_URL", format!("redis://monitor@127.0.0.1:{}", acl.port))
        .set("IFCTL_REDIS_PASSWORD", "mon-pw-1");
    let run = env.run(&["--output", "json", "health", "check", "-c", "redis"]);
    run.expect_code(3);
    let r = component(&run.json(), "redis").clone();
    assert_eq!((r["status"].as_str(), r["problem"].as_str()), (Some("unknown"), Some("auth")), "{r:#}");
    assert!(r["hint"].as_str().unwrap().contains("+info"), "{r:#}");
    let dry = env.run(&["recover", "-c", "redis", "--dry-run"]);
    assert!(!dry.stdout.contains("reconnect") && !dry.stdout.contains("restart"), "{}", dry.stdout);
}
