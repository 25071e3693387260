//! Man pages and completions are generated from the CLI and committed; this fails when they drift.
//! Regenerate with `scripts/gen-docs`.

use std::path::Path;

use crate::harness::Env;

const SHELLS: [(&str, &str); 3] = [("bash", "ifctl.bash"), ("zsh", "_ifctl"), ("fish", "ifctl.fish")];

#[test]
fn completions_match_the_committed_files() {
    let env = Env::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (shell, file) in SHELLS {
        let run = env.run(&["completions", shell]);
        run.expect_code(0);
        let committed = std::fs::read_to_string(root.join("completions").join(file)).unwrap_or_default();
        assert!(committed == run.stdout, "completions/{file} is stale: run scripts/gen-docs");
    }
}

#[test]
fn man_pages_match_the_committed_files() {
    let env = Env::new();
    let out = tempfile::tempdir().unwrap();
    env.run(&["man", out.path().to_str().unwrap()]).expect_code(0);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("man");
    let names = |dir: &Path| {
        let mut names: Vec<String> =
            std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        names
    };
    assert_eq!(names(out.path()), names(&root), "man/ has other pages: run scripts/gen-docs");
    for name in names(out.path()) {
        let fresh = std::fs::read(out.path().join(&name)).unwrap();
        let committed = std::fs::read(root.join(&name)).unwrap();
        assert!(fresh == committed, "man/{name} is stale: run scripts/gen-docs");
    }
}

/// The monitoring kit: alert rules pass `promtool check rules` and their unit tests, and the
/// dashboard is JSON whose queries use only metrics ifctl exports.
#[test]
fn monitoring_kit_passes_promtool() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy");
    let promtool = std::env::var_os("IFCTL_TEST_PROMTOOL").unwrap_or_else(|| "promtool".into());
    for args in [&["check", "rules", "ifctl-alerts.yml"][..], &["test", "rules", "ifctl-alerts.test.yml"]] {
        let out =
            std::process::Command::new(&promtool).args(args).current_dir(root.join("prometheus")).output().unwrap();
        assert!(
            out.status.success(),
            "promtool {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let dashboard: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("grafana/ifctl-dashboard.json")).unwrap()).unwrap();
    // Every metric name is written in the health and serve sources (measures get a unit suffix).
    let mut source = String::new();
    for dir in ["src/health", "src/serve"] {
        for entry in std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(dir)).unwrap() {
            source.push_str(&std::fs::read_to_string(entry.unwrap().path()).unwrap());
        }
    }
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().unwrap() {
            let expr = target["expr"].as_str().unwrap();
            for word in expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
                if word.starts_with("ifctl_") || word.starts_with("process_") {
                    let family =
                        word.trim_end_matches("_seconds").trim_end_matches("_ratio").trim_end_matches("_bytes");
                    let name = family.trim_start_matches("ifctl_");
                    assert!(
                        source.contains(word) || source.contains(name),
                        "dashboard uses `{word}`, which ifctl does not export"
                    );
                }
            }
        }
    }
}

#[test]
fn the_journal_doc_shows_the_verifier_the_tests_run() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(root.join("docs/journal.md")).unwrap();
    let program = std::fs::read_to_string(root.join("scripts/verify-journal.py")).unwrap();
    assert!(doc.contains(&program), "docs/journal.md must show scripts/verify-journal.py verbatim");
}

/// The README's configuration example is a config ifctl accepts as it stands, recovery sections
/// included; `recover --dry-run` can plan every strategy it configures.
#[test]
fn readme_config_example_is_accepted() {
    let mut env = Env::new();
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let start = readme.find("```toml\nstate_dir").expect("the README's config example") + "```toml\n".len();
    let block = &readme[start..start + readme[start..].find("```").unwrap()];
    let dir = tempfile::tempdir().unwrap();
    let text = block.replace("/var/lib/ifctl", &dir.path().display().to_string());
    let path = env.write_config(&text);
    env.unset("IFCTL_REDIS_URL").unset("IFCTL_CHROMADB_URL").unset("IFCTL_OPENWEBUI_URL");
    let run = env.run(&["--output", "json", "config", "show"]);
    run.expect_code(0);
    assert!(run.stdout.contains("systemctl restart redis-server"), "{}", run.stdout);
    for strategy in ["restart", "flush_unexpiring"] {
        env.run(&["--config", path.to_str().unwrap(), "recover", "-c", "redis", "--strategy", strategy, "--dry-run"])
            .expect_code(0);
    }
}
