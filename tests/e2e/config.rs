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
