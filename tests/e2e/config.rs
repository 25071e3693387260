//! `ifctl config show` end to end.

use crate::harness::Env;

#[test]
fn show_lists_values_with_sources_and_masks_secrets() {
    let mut env = Env::new();
    let file = env.write_config("[chromadb]\ntenant = \"team_a\"\n");
    env.set("IFCTL_REDIS_PASSWORD", "p4ssw0rd-never-shown");
    let run = env.run(&["--output", "json", "config", "show"]);
    run.expect_code(0);
    assert!(!run.stdout.contains("p4ssw0rd-never-shown"));
    let shown = run.json();
    assert_eq!(shown["file"], file.display().to_string());
    let value = |key: &str| {
        shown["values"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["key"] == key)
            .cloned()
            .unwrap_or_else(|| panic!("no {key}"))
    };
    assert_eq!(value("chromadb.tenant")["value"], "team_a");
    assert_eq!(value("chromadb.tenant")["source"], format!("file {}", file.display()));
    assert_eq!(value("redis.url")["source"], "env IFCTL_REDIS_URL");
    assert_eq!(value("chromadb.database")["source"], "default");
    assert_eq!(value("redis.password")["value"], "********");
    assert_eq!(value("state_dir")["value"], env.state_dir().display().to_string());

    let run = env.run(&["--state-dir", "/tmp/ifctl-flag-test", "config", "show"]);
    run.expect_code(0);
    let line = run.stdout.lines().find(|l| l.trim_start().starts_with("state_dir")).unwrap();
    assert!(line.contains("/tmp/ifctl-flag-test") && line.contains("flag --state-dir"), "{line}");
}

#[test]
fn help_documents_exit_status() {
    let env = Env::new();
    for args in
        [&["health", "check", "--help"][..], &["history", "--help"], &["journal", "verify", "--help"], &["--help"]]
    {
        let run = env.run(args);
        run.expect_code(0);
        assert!(run.stdout.contains("EXIT STATUS"), "{args:?}:\n{}", run.stdout);
    }
}

/// A relative `state_dir` in the config file means the file's directory: a `disable` run from one
/// directory and a `health check` from another share one journal (and so one disable window).
#[test]
fn relative_state_dir_is_one_journal_from_any_working_directory() {
    let mut env = Env::new();
    let config = env.write_config("state_dir = \"st\"\n");
    let (a, b) = (env.home.path().join("a"), env.home.path().join("b"));
    std::fs::create_dir_all(&a).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    env.paste(&format!("cd {} && ifctl disable --for 1h --reason maintenance", a.display())).expect_code(0);
    let run = env.paste(&format!("cd {} && ifctl --output json health check -c redis", b.display()));
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["components"][0]["recovery"]["disabled"]["reason"], "maintenance", "{report:#}");
    assert!(config.parent().unwrap().join("st/journal.jsonl").exists());
    assert!(!a.join("st").exists() && !b.join("st").exists());
    let shown = env.paste(&format!("cd {} && ifctl config show", b.display()));
    assert!(shown.stdout.contains(&config.parent().unwrap().join("st").display().to_string()), "{}", shown.stdout);
    // Reached through a link from elsewhere, it still anchors where it lives: one journal.
    let link = a.join("linked.toml");
    std::os::unix::fs::symlink(&config, &link).unwrap();
    let run = env.paste(&format!("cd {} && ifctl --config {} journal note via-link", b.display(), link.display()));
    run.expect_code(0);
    assert!(harness_read(&config.parent().unwrap().join("st/journal.jsonl")).contains("via-link"));
    assert!(!a.join("st").exists());
}

fn harness_read(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// State is private: the state dir a first `snapshot create` makes is 0700, the snapshot 0600; a
/// config file others can write (it names commands run by themselves) is refused.
#[test]
fn state_is_private_and_a_writable_config_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let chroma = crate::harness::chroma();
    crate::harness::seed_collection(chroma.port, "notes_alpha", 3);
    let mut env = Env::new();
    env.set("IFCTL_CHROMADB_URL", format!("http://127.0.0.1:{}", chroma.port))
        .set("IFCTL_CHROMADB_COLLECTIONS", "notes_alpha");
    env.run(&["snapshot", "create", "--name", "first"]).expect_code(0);
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&env.state_dir()), 0o700);
    assert_eq!(mode(&env.state_dir().join("snapshots")), 0o700);
    assert_eq!(mode(&env.state_dir().join("snapshots/first.tar.gz")), 0o600);
    let config = env.write_config("[recovery.redis]\nrestart_command = \"true\"\n");
    // In a directory others can write, they could replace it.
    let dir = config.parent().unwrap();
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    let run = env.run(&["health", "check", "-c", "system"]);
    run.expect_code(3);
    assert!(run.stderr.contains("which others can write"), "{}", run.stderr);
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    for (bits, who) in [(0o666, "every user"), (0o664, "its group")] {
        std::fs::set_permissions(&config, std::fs::Permissions::from_mode(bits)).unwrap();
        let run = env.run(&["health", "check", "-c", "system"]);
        run.expect_code(3);
        assert!(
            run.stderr.contains(&format!("is writable by {who}")) && run.stderr.contains("chmod go-w"),
            "{}",
            run.stderr
        );
    }
}

/// A typo in `needs_approval` is a configuration error naming file, line and key — not a silent
/// "allowed now" that lets serve flush Redis by itself.
#[test]
fn a_misspelled_approval_is_a_config_error_not_an_open_gate() {
    let mut env = Env::new();
    let file = env.write_config("[recovery]\nneeds_approval = [\n  \"redis.flush-unexpiring\",\n]\n");
    let run = env.run(&["recover", "-c", "redis", "--strategy", "flush_unexpiring", "--dry-run"]);
    run.expect_code(2);
    assert!(
        run.stderr.contains(&format!("config file `{}` (line 3)", file.display()))
            && run.stderr.contains("recovery.needs_approval[0]")
            && run.stderr.contains("redis.flush_unexpiring"),
        "{}",
        run.stderr
    );
    assert!(!run.stdout.contains("allowed now"));
}
