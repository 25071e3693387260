use std::collections::BTreeMap;

use super::*;

fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    let mut map: BTreeMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    map.entry("HOME".into()).or_insert_with(|| "/home/op".into());
    map
}

fn write(dir: &tempfile::TempDir, text: &str) -> PathBuf {
    let path = dir.path().join("ifctl.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn no_file_means_standard_local_ports_and_xdg_state() {
    let e = env(&[("XDG_CONFIG_HOME", "/nonexistent-ifctl-test"), ("XDG_STATE_HOME", "/var/st")]);
    let r = resolve(&e, &Overrides::default()).unwrap();
    assert_eq!(r.file, None);
    assert_eq!(r.config.redis.url, "redis://127.0.0.1:6379");
    assert_eq!(r.config.chromadb.url, "http://127.0.0.1:8000");
    assert_eq!(r.config.openwebui.url, "http://127.0.0.1:8080");
    assert_eq!(r.config.state_dir, PathBuf::from("/var/st/ifctl"));
    assert_eq!(r.source_of("redis.url"), Source::Default);
}

#[test]
fn precedence_is_defaults_file_env_flags() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        &dir,
        "state_dir = \"/from/file\"\n[redis]\nurl = \"redis://10.0.0.1:6379\"\n[chromadb]\nurl = \"http://file:8000\"\n",
    );
    let e = env(&[("IFCTL_CHROMADB_URL", "http://env:8000"), ("IFCTL_STATE_DIR", "/from/env")]);
    let overrides = Overrides { config_file: Some(path.clone()), state_dir: Some("/from/flag".into()), target: None };
    let r = resolve(&e, &overrides).unwrap();
    assert_eq!(r.config.redis.url, "redis://10.0.0.1:6379");
    assert_eq!(r.source_of("redis.url"), Source::File(path));
    assert_eq!(r.config.chromadb.url, "http://env:8000");
    assert_eq!(r.source_of("chromadb.url"), Source::Env("IFCTL_CHROMADB_URL".into()));
    assert_eq!(r.config.state_dir, PathBuf::from("/from/flag"));
    assert_eq!(r.source_of("state_dir"), Source::Flag("--state-dir"));
    assert_eq!(r.config.openwebui.url, "http://127.0.0.1:8080");
}

#[test]
fn env_alone_points_at_a_stack() {
    let e = env(&[
        ("XDG_CONFIG_HOME", "/nonexistent-ifctl-test"),
        ("IFCTL_REDIS_URL", "redis://127.0.0.1:16379"),
        ("IFCTL_CHROMADB_COLLECTIONS", "a_one, b_two,,"),
        ("IFCTL_DISK_PATHS", "/,/tmp"),
    ]);
    let r = resolve(&e, &Overrides::default()).unwrap();
    assert_eq!(r.config.redis.url, "redis://127.0.0.1:16379");
    assert_eq!(r.config.chromadb.expected_collections, vec!["a_one", "b_two"]);
    assert_eq!(r.config.system.disk_paths, vec![PathBuf::from("/"), PathBuf::from("/tmp")]);
}

#[test]
fn unknown_key_is_named_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "[redis]\nurl = \"redis://x:1\"\ncritcal = true\n");
    let err = resolve(&env(&[]), &Overrides { config_file: Some(path.clone()), ..Default::default() }).unwrap_err();
    let text = err.to_string();
    assert_eq!(err.key(), Some("redis.critcal"), "{text}");
    assert!(text.contains(&path.display().to_string()), "{text}");
    assert!(text.contains("line 3"), "{text}");
    assert!(text.contains("unknown field"), "{text}");
}

#[test]
fn wrong_type_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "[health]\nbreaker_failures = \"three\"\n");
    let err = resolve(&env(&[]), &Overrides { config_file: Some(path), ..Default::default() }).unwrap_err();
    assert_eq!(err.key(), Some("health.breaker_failures"), "{err}");
}

#[test]
fn bad_duration_and_bad_levels_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "[health]\ntimeout = \"soon\"\n");
    let err = resolve(&env(&[]), &Overrides { config_file: Some(path), ..Default::default() }).unwrap_err();
    assert_eq!(err.key(), Some("health.timeout"), "{err}");
    assert!(err.to_string().contains("not a duration"), "{err}");

    let path = write(&dir, "[thresholds.system.disk_pct]\ndegraded = 99\nunhealthy = 90\n");
    let err = resolve(&env(&[]), &Overrides { config_file: Some(path), ..Default::default() }).unwrap_err();
    assert_eq!(err.key(), Some("thresholds.system.disk_pct"), "{err}");

    for (degraded, unhealthy) in [("nan", "90"), ("80", "inf"), ("-inf", "90")] {
        let text = format!("[thresholds.system.disk_pct]\ndegraded = {degraded}\nunhealthy = {unhealthy}\n");
        let path = write(&dir, &text);
        let err = resolve(&env(&[]), &Overrides { config_file: Some(path), ..Default::default() }).unwrap_err();
        assert_eq!(err.key(), Some("thresholds.system.disk_pct"), "{err}");
        assert!(err.to_string().contains("finite"), "{degraded}/{unhealthy}: {err}");
    }
}

#[test]
fn syntax_error_has_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "[redis\nurl = 1\n");
    let err = resolve(&env(&[]), &Overrides { config_file: Some(path), ..Default::default() }).unwrap_err();
    assert!(matches!(err, ConfigError::Syntax { line: 1, .. }), "{err:?}");
}

#[test]
fn bad_url_from_env_names_the_variable() {
    let e = env(&[("XDG_CONFIG_HOME", "/nonexistent-ifctl-test"), ("IFCTL_CHROMADB_URL", "localhost:8000")]);
    let err = resolve(&e, &Overrides::default()).unwrap_err();
    assert_eq!(err.key(), Some("chromadb.url"));
    assert!(err.to_string().contains("IFCTL_CHROMADB_URL"), "{err}");
}

#[test]
fn explicit_missing_file_is_an_error_but_missing_xdg_file_is_not() {
    let e = env(&[("IFCTL_CONFIG", "/nonexistent/ifctl.toml")]);
    assert!(matches!(resolve(&e, &Overrides::default()), Err(ConfigError::Read { .. })));
    let e = env(&[("XDG_CONFIG_HOME", "/nonexistent-ifctl-test")]);
    assert!(resolve(&e, &Overrides::default()).is_ok());
}

#[test]
fn full_design_example_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        &dir,
        r#"
state_dir = "/var/lib/ifctl"
[redis]
url = "redis://127.0.0.1:6379"
password_env = "IFCTL_REDIS_PASSWORD"
critical = true
[chromadb]
url = "http://127.0.0.1:8000"
tenant = "default_tenant"
database = "default_database"
expected_collections = ["sergio_personality", "sergio_rhetorical", "sergio_humor", "sergio_corpus"]
[openwebui]
url = "http://127.0.0.1:8080"
token_env = "IFCTL_OPENWEBUI_TOKEN"
email_env = "IFCTL_OPENWEBUI_EMAIL"
password_env = "IFCTL_OPENWEBUI_PASSWORD"
critical = false
[system]
disk_paths = ["/"]
[thresholds.redis]
latency_ms = { degraded = 50, unhealthy = 500 }
[snapshots]
dir = "/var/lib/ifctl/snapshots"
[recovery]
max_attempts_per_hour = 3
cooldown_seconds = 300
healthy_reset_seconds = 600
approval_ttl_seconds = 3600
needs_approval = ["redis.flush_unexpiring", "redis.restart"]
[recovery.redis]
restart_command = "systemctl restart redis-server"
flush_patterns = ["cache:*"]
[recovery.openwebui]
primary_model = "llama3"
fallback_models = ["mistral"]
[recovery.system]
cleanup_paths = [{ path = "/tmp/ifctl", older_than = "7d", glob = "*" }]
memory_relief_command = "sync"
process_restart_command = "systemctl restart open-webui"
"#,
    );
    let r = resolve(&env(&[]), &Overrides { config_file: Some(path.clone()), ..Default::default() }).unwrap();
    assert_eq!(r.config.thresholds.redis.latency_ms, Levels::new(50.0, 500.0));
    assert_eq!(r.source_of("thresholds.redis.latency_ms"), Source::File(path));
    assert_eq!(r.config.recovery.system.cleanup_paths[0].older_than.as_secs(), 7 * 86400);
}

#[test]
fn show_masks_secrets_and_lists_sources() {
    let e = env(&[
        ("XDG_CONFIG_HOME", "/nonexistent-ifctl-test"),
        ("IFCTL_REDIS_PASSWORD", "hunter2"),
        ("IFCTL_REDIS_URL", "redis://127.0.0.1:1"),
    ]);
    let r = resolve(&e, &Overrides::default()).unwrap();
    let shown = shown_values(&r, &e);
    let text = serde_json::to_string(&shown).unwrap();
    assert!(!text.contains("hunter2"), "a secret leaked: {text}");
    let pw = shown.iter().find(|v| v.key == "redis.password").unwrap();
    assert_eq!(pw.value, "********");
    assert_eq!(pw.source, "env IFCTL_REDIS_PASSWORD");
    let url = shown.iter().find(|v| v.key == "redis.url").unwrap();
    assert_eq!(url.source, "env IFCTL_REDIS_URL");
    let token = shown.iter().find(|v| v.key == "openwebui.token").unwrap();
    assert_eq!(token.value, "(not set)");
    assert!(shown.iter().any(|v| v.key == "thresholds.system.disk_pct"));
}

#[test]
fn secret_never_prints() {
    let s = Secret::new("hunter2");
    assert_eq!(format!("{s} {s:?}"), "******** Secret(********)");
}

/// A typo in `needs_approval` would let a destructive strategy run unattended: refused, with the
/// file, line and key, and the names that exist.
#[test]
fn ranges_and_strategy_names_are_checked_with_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let e = env(&[]);
    let bad = |text: &str| {
        let path = write(&dir, text);
        resolve(&e, &Overrides { config_file: Some(path), state_dir: None, target: None }).unwrap_err().to_string()
    };
    let err = bad("[recovery]\nneeds_approval = [\n  \"redis.restart\",\n  \"redis.flush-unexpiring\",\n]\n");
    assert!(
        err.contains("(line 4)")
            && err.contains("recovery.needs_approval[1]")
            && err.contains("`redis.flush-unexpiring` is not a strategy")
            && err.contains("redis.flush_unexpiring"),
        "{err}"
    );
    let err = bad("[recovery]\nneeds_approval = [\"chromadb.restart\"]\n");
    assert!(err.contains("(line 2)") && err.contains("not a strategy"), "a strategy of another component: {err}");
    let err = bad("[health]\ninterval = \"2s\"\ntimeout = \"3s\"\n");
    assert!(err.contains("(line 3)") && err.contains("health.timeout") && err.contains("longer than"), "{err}");
    let err = bad("[recovery]\ncooldown_seconds = 2\n");
    assert!(err.contains("recovery.cooldown_seconds") && err.contains("(line 2)"), "{err}");
    let err = bad("\n\n[recovery]\napproval_ttl_seconds = 0\n");
    assert!(err.contains("(line 4)") && err.contains("at least 1"), "{err}");
    let err =
        bad("[[recovery.system.cleanup_paths]]\npath = \"/tmp\"\nolder_than = \"1d\"\n[health]\ninterval = \"0s\"\n");
    assert!(err.contains("(line 5)") && err.contains("health.interval"), "{err}");
    // Absurd values are refused, not overflowed later.
    let err = bad("[recovery]\ncooldown_seconds = 10000000000000000\n");
    assert!(err.contains("recovery.cooldown_seconds") && err.contains("more than 604800"), "{err}");
    let err = bad("[health]\ninterval = \"100ms\"\ntimeout = \"50ms\"\n");
    assert!(err.contains("health.interval") && err.contains("outside 250ms"), "{err}");
    let err = bad("[health]\ninterval = \"7000000000000000000s\"\n");
    assert!(err.contains("health.interval"), "{err}");
    // Zero attempts per hour is allowed: it means nothing automatic.
    let path = write(&dir, "[recovery]\nmax_attempts_per_hour = 0\n");
    assert_eq!(
        resolve(&e, &Overrides { config_file: Some(path), state_dir: None, target: None })
            .unwrap()
            .config
            .recovery
            .max_attempts_per_hour,
        0
    );
}

/// Relative paths in the config file mean its own directory, wherever the command runs from;
/// relative paths from the environment mean the working directory; both end up absolute.
#[test]
fn relative_paths_are_anchored_to_the_config_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        &dir,
        "state_dir = \"state\"\n[redis]\npassword_file = \"secrets/redis.pw\"\n[snapshots]\ndir = \"/abs/snaps\"\n\
         [[recovery.system.cleanup_paths]]\npath = \"logs\"\nolder_than = \"1d\"\n",
    );
    let r = resolve(&env(&[]), &Overrides { config_file: Some(path), state_dir: None, target: None }).unwrap();
    let base = std::path::absolute(dir.path()).unwrap();
    assert_eq!(r.config.state_dir, base.join("state"));
    assert_eq!(r.config.redis.password_file, Some(base.join("secrets/redis.pw")));
    assert_eq!(r.config.snapshots.dir, Some(PathBuf::from("/abs/snaps")));
    assert_eq!(r.config.recovery.system.cleanup_paths[0].path, base.join("logs"));
    let e = env(&[("XDG_CONFIG_HOME", "/nonexistent-ifctl-test"), ("IFCTL_STATE_DIR", "rel/state")]);
    let r = resolve(&e, &Overrides::default()).unwrap();
    assert_eq!(r.config.state_dir, std::env::current_dir().unwrap().join("rel/state"));
}

mod prop {
    use super::*;
    use proptest::prelude::*;

    /// A TOML value of any type, including ones no key expects.
    fn value() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<i64>().prop_map(|i| i.to_string()),
            any::<f64>().prop_filter("TOML floats", |f| f.is_finite()).prop_map(|f| format!("{f:?}")),
            any::<bool>().prop_map(|b| b.to_string()),
            "[a-z0-9 :/._*-]{0,24}".prop_map(|s| format!("{s:?}")),
            Just("\"90s\"".to_string()),
            Just("[\"redis.restart\", \"nope\"]".to_string()),
            Just("{ degraded = 1, unhealthy = 0 }".to_string()),
            Just("[]".to_string()),
        ]
    }

    fn key() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("url"),
            Just("interval"),
            Just("timeout"),
            Just("critical"),
            Just("needs_approval"),
            Just("max_attempts_per_hour"),
            Just("cooldown_seconds"),
            Just("expected_collections"),
            Just("listen"),
            Just("latency_ms"),
            Just("flush_patterns"),
            Just("rollback_max_age"),
            Just("state_dir"),
            Just("bogus"),
        ]
        .prop_map(String::from)
    }

    fn section() -> impl Strategy<Value = String> {
        prop_oneof![
            Just(""),
            Just("[redis]"),
            Just("[chromadb]"),
            Just("[health]"),
            Just("[recovery]"),
            Just("[recovery.redis]"),
            Just("[recovery.chromadb]"),
            Just("[serve]"),
            Just("[thresholds.redis]"),
            Just("[snapshots]"),
            Just("[nope]"),
        ]
        .prop_map(String::from)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        /// Random configs never panic the resolver; a rejected one is named with the file, and a
        /// bad key with the key and its line.
        #[test]
        fn random_configs_are_accepted_or_rejected_with_file_and_key(
            body in proptest::collection::vec((section(), proptest::collection::vec((key(), value()), 0..4)), 0..5)
        ) {
            let mut text = String::new();
            for (section, pairs) in &body {
                text.push_str(section);
                text.push('\n');
                for (k, v) in pairs {
                    text.push_str(&format!("{k} = {v}\n"));
                }
            }
            let dir = tempfile::tempdir().unwrap();
            let path = write(&dir, &text);
            let e = env(&[]);
            match resolve(&e, &Overrides { config_file: Some(path.clone()), state_dir: None, target: None }) {
                Ok(_) => {}
                Err(err @ ConfigError::Invalid { .. }) => {
                    let shown = err.to_string();
                    prop_assert!(shown.contains(&path.display().to_string()) || shown.contains("built-in default"), "{}", shown);
                    prop_assert!(err.key().is_some_and(|k| !k.is_empty()), "{}", shown);
                    if shown.contains("config file") {
                        prop_assert!(shown.contains("(line "), "no line: {}\\n{}", shown, text);
                    }
                }
                Err(err) => prop_assert!(err.to_string().contains(&path.display().to_string()), "{}", err),
            }
        }
    }
}

fn two_targets(dir: &tempfile::TempDir, extra: &str) -> PathBuf {
    write(
        dir,
        &format!(
            "[redis]\nurl = \"redis://10.0.0.1:6379\"\n[chromadb]\nurl = \"http://top:8000\"\n[snapshots]\nrepository = \"s3://bucket/ifctl/\"\n\n\
             [targets.prod]\nredis = {{ url = \"rediss://prod:6380\" }}\n\n[targets.staging.chromadb]\nurl = \"http://staging:8000\"\n{extra}"
        ),
    )
}

fn with(path: &Path, target: Option<&str>) -> Overrides {
    Overrides { config_file: Some(path.to_path_buf()), state_dir: Some("/st".into()), target: target.map(String::from) }
}

#[test]
fn a_target_inherits_every_key_it_does_not_set() {
    let dir = tempfile::tempdir().unwrap();
    let path = two_targets(&dir, "");
    let r = resolve(&env(&[]), &with(&path, Some("prod"))).unwrap();
    assert_eq!(r.config.target.as_deref(), Some("prod"));
    assert_eq!(r.config.redis.url, "rediss://prod:6380");
    assert_eq!(r.source_of("redis.url"), Source::Target(path.clone(), "prod".into()));
    assert_eq!(r.line_of("redis.url"), Some(9), "the target's line, not the top level's");
    assert_eq!(r.config.chromadb.url, "http://top:8000");
    assert_eq!(r.source_of("chromadb.url"), Source::File(path.clone()));
    // The rest of `redis` stays inherited (the inline table sets `url` only).
    assert_eq!(r.source_of("redis.password_env"), Source::Default);
    assert_eq!(r.config.snapshot_repository(), "s3://bucket/ifctl/prod", "an inherited place gets the target's prefix");
    assert_eq!(r.config.target_dir(), PathBuf::from("/st/targets/prod"));
    assert_eq!(r.config.journal_path(), PathBuf::from("/st/journal.jsonl"), "one journal for every target");
    let s = resolve(&env(&[]), &with(&path, Some("staging"))).unwrap();
    assert_eq!(s.config.redis.url, "redis://10.0.0.1:6379");
    assert_eq!(s.config.chromadb.url, "http://staging:8000");
    assert_eq!(s.config.scoped(Component::Redis), "staging.redis");
}

#[test]
fn the_target_is_chosen_by_flag_then_env_then_default_target() {
    let dir = tempfile::tempdir().unwrap();
    let path = two_targets(&dir, "");
    let top = format!("default_target = \"staging\"\n{}", std::fs::read_to_string(&path).unwrap());
    std::fs::write(&path, top).unwrap();
    let e = env(&[("IFCTL_TARGET", "prod")]);
    assert_eq!(resolve(&e, &with(&path, Some("staging"))).unwrap().chosen_by, Some(Source::Flag("--target")));
    let r = resolve(&e, &with(&path, None)).unwrap();
    assert_eq!((r.config.target.as_deref(), r.chosen_by), (Some("prod"), Some(Source::Env("IFCTL_TARGET".into()))));
    let r = resolve(&env(&[]), &with(&path, None)).unwrap();
    assert_eq!(r.config.target.as_deref(), Some("staging"));
    let err = resolve(&env(&[]), &with(&path, Some("prdo"))).unwrap_err().to_string();
    assert!(err.contains("no target `prdo`") && err.contains("prod, staging"), "{err}");
}

#[test]
fn a_config_without_targets_has_no_target() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "[redis]\nurl = \"redis://10.0.0.1:6379\"\n");
    let r = resolve(&env(&[]), &with(&path, None)).unwrap();
    assert_eq!(r.config.target, None);
    assert_eq!(r.config.target_dir(), PathBuf::from("/st"));
    assert_eq!(r.config.snapshot_dir(), PathBuf::from("/st/snapshots"), "where snapshots always were");
    assert_eq!(r.config.scoped(Component::Redis), "redis");
    let err = resolve(&env(&[]), &with(&path, Some("prod"))).unwrap_err().to_string();
    assert!(err.contains("defines no `[targets.<name>]`"), "{err}");
}

#[test]
fn mistakes_inside_a_target_name_the_target_key_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = two_targets(&dir, "[targets.qa]\nserve = { listen = \"0.0.0.0:1\" }\n");
    let err = load(&env(&[]), &with(&path, None)).unwrap_err().to_string();
    assert!(err.contains("targets.qa.serve") && err.contains("unknown field"), "{err}");

    let path = two_targets(&dir, "[targets.qa.redis]\nurl = \"http://wrong:1\"\n");
    let err = resolve(&env(&[]), &with(&path, Some("qa"))).unwrap_err().to_string();
    assert!(err.contains("targets.qa.redis.url") && err.contains("(line 14)"), "{err}");

    let path = two_targets(&dir, "[targets.qa.health]\ntimeout = 12\n");
    let err = resolve(&env(&[]), &with(&path, Some("qa"))).unwrap_err().to_string();
    assert!(err.contains("targets.qa.health.timeout"), "{err}");

    let path = two_targets(&dir, "[targets.\"bad name\".redis]\nurl = \"redis://x:1\"\n");
    let err = load(&env(&[]), &with(&path, None)).unwrap_err().to_string();
    assert!(err.contains("not a valid target name"), "{err}");
}

#[test]
fn every_target_at_once_ignores_per_stack_variables_and_refuses_shared_snapshot_places() {
    let dir = tempfile::tempdir().unwrap();
    let path = two_targets(&dir, "");
    let e = env(&[("IFCTL_REDIS_URL", "redis://one-for-all:1")]);
    let Every { all, warnings, secrets } = load(&e, &with(&path, None)).unwrap().every(&e).unwrap();
    let warnings: Vec<String> = warnings.into_iter().chain(secrets).collect();
    assert_eq!(
        all.iter().map(|r| r.config.redis.url.as_str()).collect::<Vec<_>>(),
        ["rediss://prod:6380", "redis://10.0.0.1:6379"]
    );
    assert!(warnings[0].starts_with("IFCTL_REDIS_URL set") && warnings[0].contains("ignored"), "{warnings:?}");
    // One target alone: the variable applies (flags and environment beat the file).
    assert_eq!(resolve(&e, &with(&path, Some("prod"))).unwrap().config.redis.url, "redis://one-for-all:1");

    let path = two_targets(&dir, "[targets.qa.snapshots]\nrepository = \"s3://bucket/ifctl/prod\"\n");
    let err = load(&env(&[]), &with(&path, None)).unwrap().every(&env(&[])).unwrap_err().to_string();
    assert!(err.contains("same place") && err.contains("`prod` and `qa`"), "{err}");
    // One inside another is as bad: a recursive listing of the outer one sees the inner's.
    let path = two_targets(&dir, "[targets.qa.snapshots]\nrepository = \"s3://bucket/ifctl\"\n");
    let err = load(&env(&[]), &with(&path, None)).unwrap().every(&env(&[])).unwrap_err().to_string();
    assert!(err.contains("one inside the other"), "{err}");
}

#[test]
fn every_target_at_once_uses_only_the_secrets_a_target_names_itself() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("top.pass"), "pw").unwrap();
    let path = two_targets(&dir, "[targets.staging.redis]\npassword_env = \"STAGING_REDIS_PASSWORD\"\n");
    let text =
        std::fs::read_to_string(&path).unwrap().replacen("[redis]\n", "[redis]\npassword_file = \"top.pass\"\n", 1);
    std::fs::write(&path, text).unwrap();
    let e = env(&[("IFCTL_REDIS_PASSWORD", "prod-secret"), ("IFCTL_CHROMADB_TOKEN", "tok")]);
    let Every { all, warnings, secrets } = load(&e, &with(&path, None)).unwrap().every(&e).unwrap();
    let warnings: Vec<String> = warnings.into_iter().chain(secrets).collect();
    let (prod, staging) = (&all[0].config, &all[1].config);
    // prod inherits the default variable and the top-level file: neither is used for it here.
    assert!(unused_secret(&prod.redis.password_env));
    assert!(prod.redis.password_env.contains("set targets.prod.redis.password_env"), "{}", prod.redis.password_env);
    assert_eq!(prod.redis.password_file, None);
    assert!(prod.chromadb.token_env.contains("set targets.prod.chromadb.token_env"));
    // staging names its own variable: kept, and the inherited file is not used.
    assert_eq!(staging.redis.password_env, "STAGING_REDIS_PASSWORD");
    assert_eq!(staging.redis.password_file, None);
    // Nothing else changes on the way.
    assert_eq!(prod.redis.url, "rediss://prod:6380");
    assert_eq!(prod.snapshot_repository(), "s3://bucket/ifctl/prod");
    assert_eq!(prod.health.timeout, Config::default().health.timeout);
    let joined = warnings.join("\n");
    assert!(joined.contains("IFCTL_REDIS_PASSWORD is not used for target prod"), "{joined}");
    assert!(joined.contains("IFCTL_CHROMADB_TOKEN is not used for targets prod, staging"), "{joined}");
    assert!(joined.contains("top.pass"), "{joined}");
    assert!(!joined.contains("prod-secret") && !joined.contains("tok\""), "no secret value in a warning: {joined}");
    // The one target in use inherits them as always.
    let one = resolve(&e, &with(&path, Some("prod"))).unwrap();
    assert_eq!(one.config.redis.password_env, "IFCTL_REDIS_PASSWORD");
}

#[test]
fn a_target_naming_one_source_of_a_secret_uses_only_that_one() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("top.pass"), "top").unwrap();
    std::fs::write(dir.path().join("prod.pass"), "prod").unwrap();
    let path = write(
        &dir,
        "[redis]\npassword_file = \"top.pass\"\n[targets.prod.redis]\npassword_file = \"prod.pass\"\n\
         [targets.staging.redis]\npassword_env = \"STAGING_PW\"\n[targets.qa]\n",
    );
    let e = env(&[("IFCTL_REDIS_PASSWORD", "exported-for-someone-else")]);
    // prod names its file: the inherited default variable is not used, even alone.
    let prod = resolve(&e, &with(&path, Some("prod"))).unwrap().config;
    assert_eq!(prod.redis.password_file, Some(dir.path().join("prod.pass")));
    assert!(unused_secret(&prod.redis.password_env), "{}", prod.redis.password_env);
    assert!(prod.redis.password_env.contains("targets.prod.redis.password_file"), "{}", prod.redis.password_env);
    // staging names its variable: the inherited file is not used.
    let staging = resolve(&e, &with(&path, Some("staging"))).unwrap().config;
    assert_eq!((staging.redis.password_env.as_str(), staging.redis.password_file.as_ref()), ("STAGING_PW", None));
    // qa names neither: alone it inherits both, as a config without targets would.
    let qa = resolve(&e, &with(&path, Some("qa"))).unwrap().config;
    assert_eq!(qa.redis.password_env, "IFCTL_REDIS_PASSWORD");
    assert_eq!(qa.redis.password_file, Some(dir.path().join("top.pass")));
    // With every target at once, qa uses neither, and the warning names what is set.
    let every = load(&e, &with(&path, None)).unwrap().every(&e).unwrap();
    let qa = &every.all[1].config;
    assert_eq!(qa.target.as_deref(), Some("qa"));
    assert!(unused_secret(&qa.redis.password_env) && qa.redis.password_file.is_none());
    let said = every.secrets.join("\n");
    assert!(said.contains("IFCTL_REDIS_PASSWORD is not used for target qa") && said.contains("top.pass"), "{said}");
    assert!(!said.contains("target prod") && !said.contains("staging"), "prod and staging name their own: {said}");
}

#[test]
fn default_target_must_name_a_target_and_file_urls_are_paths() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "default_target = \"nope\"\n[targets.prod]\n");
    let err = load(&env(&[]), &with(&path, None)).unwrap_err().to_string();
    assert!(err.contains("default_target") && err.contains("no target `nope`") && err.contains("(line 1)"), "{err}");
    let path = write(
        &dir,
        "[targets.prod.snapshots]\nrepository = \"file:///srv/snaps\"\n[targets.staging.snapshots]\ndir = \"/srv/snaps/staging\"\n",
    );
    let err = load(&env(&[]), &with(&path, None)).unwrap().every(&env(&[])).unwrap_err().to_string();
    assert!(err.contains("one inside the other"), "{err}");
}
