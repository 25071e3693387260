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
}

/// Metric names and their label names in a Prometheus text exposition.
fn scraped(text: &str) -> std::collections::BTreeMap<String, std::collections::BTreeSet<String>> {
    let mut metrics: std::collections::BTreeMap<String, std::collections::BTreeSet<String>> = Default::default();
    for line in text.lines().filter(|l| !l.starts_with('#') && !l.is_empty()) {
        let name_end = line.find(['{', ' ']).unwrap_or(line.len());
        let labels = metrics.entry(line[..name_end].to_string()).or_default();
        if let Some(body) = line[name_end..].strip_prefix('{').and_then(|b| b.split_once('}')).map(|(b, _)| b) {
            // Label values here hold no `,` or `=` but inside quotes; split on `",`.
            for pair in body.split("\",").filter(|p| !p.is_empty()) {
                labels.insert(pair.split('=').next().unwrap().to_string());
            }
        }
    }
    metrics
}

/// Every metric a PromQL expression selects, with the label names it matches on or groups by.
fn selected(expr: &str) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    let grouped: Vec<String> = ["by (", "by("]
        .iter()
        .flat_map(|k| expr.match_indices(k).map(|(i, _)| &expr[i + k.len()..]))
        .flat_map(|rest| rest[..rest.find(')').unwrap()].split(',').map(|l| l.trim().to_string()).collect::<Vec<_>>())
        .collect();
    let bytes = expr.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let word_start = i;
        while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
            i += 1;
        }
        let word = &expr[word_start..i];
        if word.starts_with("ifctl_") || word.starts_with("process_") {
            let mut labels = grouped.clone();
            if expr[i..].starts_with('{') {
                let body = &expr[i + 1..i + expr[i..].find('}').unwrap()];
                labels.extend(body.split(',').map(|m| m.split(['=', '!', '~']).next().unwrap().trim().to_string()));
            }
            out.push((word.to_string(), labels));
        }
        i = i.max(word_start + 1);
    }
    out
}

/// Every query of the Grafana dashboard and every alert rule selects metrics and labels that a
/// real `/metrics` scrape of `serve` has (Prometheus adds `job` and `instance`) — a serve of a
/// config with a named target, so per-target metrics carry `target`.
#[test]
fn dashboard_and_alert_queries_match_a_real_scrape() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy");
    let redis = crate::harness::redis();
    let chroma = crate::harness::chroma();
    crate::harness::seed_collection(chroma.port, "notes_alpha", 5);
    let openwebui = crate::harness::closed_port();
    let mut env = Env::new();
    for var in ["IFCTL_REDIS_URL", "IFCTL_CHROMADB_URL", "IFCTL_OPENWEBUI_URL"] {
        env.unset(var);
    }
    env.write_config(&format!(
        "[targets.local]\nredis = {{ url = \"redis://127.0.0.1:{}\" }}\nchromadb = {{ url = \"http://127.0.0.1:{}\", expected_collections = [\"notes_alpha\"] }}\nopenwebui = {{ url = \"http://127.0.0.1:{}\" }}\nsystem = {{ disk_paths = [\"/\"] }}\n",
        redis.port, chroma.port, openwebui.port
    ));
    env.run(&["--target", "local", "snapshot", "create"]).expect_code(0);
    let port = crate::harness::free_port();
    // OpenWebUI is down (a closed port): serve's attempts fill the recovery families.
    let mut serve = env.spawn_quiet(&["serve", "--listen", &format!("127.0.0.1:{port}"), "--interval", "300ms"]);
    let started = std::time::Instant::now();
    let text = loop {
        if let Some((200, text)) = crate::harness::http_get(port, "/metrics") {
            if text.contains("ifctl_recovery_attempts_total{") && text.contains("ifctl_chromadb_collection_records{") {
                break text;
            }
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(30), "no full scrape");
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    let _ = serve.0.kill();
    let metrics = scraped(&text);
    let dashboard: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("grafana/ifctl-dashboard.json")).unwrap()).unwrap();
    let mut exprs: Vec<String> = dashboard["panels"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["targets"].as_array().unwrap().iter().map(|t| t["expr"].as_str().unwrap().to_string()))
        .collect();
    let rules = std::fs::read_to_string(root.join("prometheus/ifctl-alerts.yml")).unwrap();
    exprs.extend(rules.lines().filter_map(|l| l.trim().strip_prefix("expr:")).map(|e| e.trim().to_string()));
    let mut checked = 0;
    for expr in &exprs {
        for (metric, labels) in selected(expr) {
            let have = metrics
                .get(&metric)
                .unwrap_or_else(|| panic!("`{expr}` selects `{metric}`, not in the scrape:\n{text}"));
            for label in labels.iter().filter(|l| !["job", "instance"].contains(&l.as_str())) {
                assert!(
                    have.contains(label),
                    "`{expr}` uses label `{label}`, which `{metric}` does not have: {have:?}"
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 20, "only {checked} selectors found in {} expressions", exprs.len());
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

/// Whatever a label holds — a collection name, a disk path, a reason with quotes, backslashes,
/// newlines or any Unicode — the Prometheus exposition passes `promtool check metrics`.
#[test]
fn prometheus_output_with_random_label_values_passes_promtool() {
    use ifctl::config::Component;
    use ifctl::health::{ComponentReport, HealthReport, Measure, Unit, render};
    use proptest::strategy::{Strategy, ValueTree};
    let promtool = std::env::var_os("IFCTL_TEST_PROMTOOL").unwrap_or_else(|| "promtool".into());
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let labels = proptest::prop_oneof![
        proptest::string::string_regex(".{0,40}").unwrap(),
        proptest::string::string_regex("[\"\\\\\n{}=,#]{0,12}").unwrap(),
        proptest::string::string_regex("\\PC{0,20}").unwrap(),
    ];
    for round in 0..24 {
        let mut components = Vec::new();
        for component in Component::ALL {
            let mut report = ComponentReport::new(component, true);
            for i in 0..3 {
                let value = labels.new_tree(&mut runner).unwrap().current();
                report.measures.push(
                    Measure::new("chromadb_collection_records", "Records.", (round * 10 + i) as f64, Unit::Count)
                        .label("collection", value),
                );
            }
            report.reason = Some(labels.new_tree(&mut runner).unwrap().current());
            components.push(report);
        }
        let text = render::prometheus(&HealthReport::new(components, chrono::Utc::now(), 1.0));
        // Two targets' texts merged: every family once, every sample labelled `target`.
        let fleet = render::prometheus_fleet(&[("prod", text.clone()), ("staging.eu-1", text.clone())]);
        assert_eq!(fleet.matches("# TYPE ifctl_component_status ").count(), 1, "{fleet}");
        let samples = |t: &str| t.lines().filter(|l| !l.starts_with('#') && !l.is_empty()).count();
        assert_eq!(samples(&fleet), 2 * samples(&text));
        assert!(
            fleet
                .lines()
                .filter(|l| !l.starts_with('#'))
                .all(|l| l.contains("{target=\"prod\"") || l.contains("{target=\"staging.eu-1\"")),
            "{fleet}"
        );
        for text in [text, fleet] {
            let mut check = std::process::Command::new(&promtool)
                .args(["check", "metrics"])
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            use std::io::Write;
            check.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
            let out = check.wait_with_output().unwrap();
            let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
            // promtool exits 1 for lint warnings too; only parse errors matter here.
            assert!(out.status.success() || !said.contains("error"), "round {round}: {said}\n{text}");
        }
    }
}

/// The `ifctl` invocations in the runbooks' `sh` blocks, with placeholders filled in, as argv.
fn runbook_commands() -> Vec<(String, Vec<String>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks");
    let mut out = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().flatten().map(|e| e.path()).collect();
    files.sort();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let mut in_sh = false;
        for line in text.lines() {
            if line.starts_with("```") {
                in_sh = line == "```sh" && !in_sh;
                continue;
            }
            if !in_sh {
                continue;
            }
            // Each `ifctl …` up to a pipe, `;`, `&&`, `)` or a comment; `"$(…)"` stands for one word.
            let mut line = line.to_string();
            while let Some(start) = line.find("\"$(ifctl --output json snapshot list") {
                let Some(len) = line[start..].find("')\"") else { break };
                line.replace_range(start..start + len + 3, "snap-x");
            }
            for (at, _) in line.match_indices("ifctl ") {
                if at > 0 && !line[..at].ends_with([' ', '(', '"']) {
                    continue;
                }
                let rest = &line[at..];
                let end = rest.find(['|', ';', '#', ')']).unwrap_or(rest.len());
                let end = rest[..end].find("&&").unwrap_or(end);
                let words = shell_words(rest[..end].trim())
                    .into_iter()
                    .map(|w| match w.as_str() {
                        "<id>" => "0190a0c8-0000-7000-8000-000000000000".to_string(),
                        "<seq>" => "42".to_string(),
                        _ => w,
                    })
                    .collect::<Vec<_>>();
                out.push((format!("{}: {}", file.file_name().unwrap().to_string_lossy(), rest[..end].trim()), words));
            }
        }
    }
    out
}

/// Words of a simple shell command line: spaces split, single and double quotes group.
fn shell_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut quote: Option<char> = None;
    for c in text.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.get_or_insert_with(String::new).push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                word.get_or_insert_with(String::new);
            }
            (None, c) if c.is_whitespace() => words.extend(word.take()),
            (None, c) => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    words
}

/// Runbooks cannot rot unnoticed: every `ifctl` command in their `sh` blocks parses as the CLI
/// stands (subcommands, flags, values), and the ones that only read or record — health checks,
/// history, config, journal, snapshot list, dry runs (a migration's included), disable/enable — run
/// against a real Redis and Chroma without a usage error. Long-running (`serve`, `watch`,
/// `--follow`), destructive and context-bound ones (`validate` after a migration, example snapshot
/// names and action ids) are checked for syntax only.
#[test]
fn runbook_commands_parse_and_the_safe_ones_run() {
    use clap::Parser;
    let commands = runbook_commands();
    assert!(commands.len() >= 50, "found only {} commands", commands.len());
    for (shown, argv) in &commands {
        if let Err(e) = ifctl::cli::Cli::try_parse_from(argv) {
            panic!("{shown}: {}", e.render());
        }
    }
    let redis = crate::harness::redis();
    let chroma = crate::harness::chroma();
    let sergio = ["sergio_personality", "sergio_rhetorical", "sergio_humor", "sergio_corpus"];
    for name in sergio {
        crate::harness::seed_collection(chroma.port, name, 5);
    }
    let mut env = Env::new();
    env.set("IFCTL_REDIS_URL", format!("redis://127.0.0.1:{}", redis.port))
        .set("IFCTL_CHROMADB_URL", format!("http://127.0.0.1:{}", chroma.port))
        .set("IFCTL_CHROMADB_COLLECTIONS", sergio.join(","));
    // The runbooks' bucket.
    let moto = crate::harness::moto();
    assert_eq!(crate::harness::s3(moto.port, "PUT", "/backups", None).0, 200);
    crate::harness::use_moto(&mut env, moto.port);
    // Configured the way the runbooks assume: one named target, `prod`, chosen by default (the
    // per-stack variables above apply to it), so `--target prod` and `--all-targets` lines run too.
    let logs = env.home.path().join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    env.write_config(&format!(
        "default_target = \"prod\"\n[targets.prod]\n[recovery.redis]\nrestart_command = \"true\"\n[recovery.openwebui]\nprimary_model = \"m1\"\n\
         [recovery.system]\ncleanup_paths = [{{ path = \"{}\", older_than = \"7d\" }}]\n",
        logs.display()
    ));
    let safe = |words: &[String]| {
        let line = words.join(" ");
        let read_only = ["health check", "history", "config show", "journal ", "snapshot list", "approve --list"]
            .iter()
            .any(|p| line.contains(p))
            || line.contains("--dry-run")
            || line.starts_with("ifctl disable")
            || line.starts_with("ifctl enable");
        read_only && !line.contains("--follow") && !line.contains("snapshot restore")
    };
    let mut ran = 0;
    for (shown, argv) in commands.iter().filter(|(_, w)| safe(w)) {
        let args: Vec<&str> = argv[1..].iter().map(String::as_str).collect();
        let run = env.run(&args);
        // `health` exits 0–2 for the status it sees (OpenWebUI is not running here) and 3 for a
        // usage or config error; everything else exits 2 for those.
        let usable = if args.contains(&"health") { run.code <= 2 } else { run.code != 2 && run.code != 101 };
        assert!(usable, "{shown}: exit {}\n{}", run.code, run.stderr);
        ran += 1;
    }
    assert!(ran >= 25, "only {ran} runbook commands ran");
}

/// A fenced block of a runbook: its language tag, whether a `<!-- illustrative: … -->` line
/// just before it exempts it, and its lines.
struct Block {
    at: String,
    lang: String,
    illustrative: bool,
    lines: Vec<String>,
}

fn runbook_blocks() -> Vec<Block> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks");
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().flatten().map(|e| e.path()).collect();
    files.sort();
    let mut blocks = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let mut open: Option<Block> = None;
        let mut previous = "";
        for (n, line) in text.lines().enumerate() {
            match (&mut open, line.strip_prefix("```")) {
                (None, Some(lang)) => {
                    open = Some(Block {
                        at: format!("{}:{}", file.file_name().unwrap().to_string_lossy(), n + 1),
                        lang: lang.to_string(),
                        illustrative: previous.starts_with("<!-- illustrative:"),
                        lines: Vec::new(),
                    })
                }
                (Some(_), Some(_)) => blocks.push(open.take().unwrap()),
                (Some(block), None) => block.lines.push(line.to_string()),
                (None, None) => {}
            }
            if !line.trim().is_empty() {
                previous = line;
            }
        }
    }
    blocks
}

/// Every command block of the runbooks runs, or says why it cannot (`<!-- illustrative: why -->`
/// on the line before it): a block of `sh` with any command other than `ifctl` runs whole in bash
/// against a real Redis, Chroma, OpenWebUI and a running `ifctl serve`, and no such command may
/// fail (the `ifctl` lines are checked by the test above and may exit with a status); a
/// `crontab` block's commands run the same way. Untagged blocks are not allowed.
#[test]
fn runbook_blocks_run_or_are_marked_illustrative() {
    let blocks = runbook_blocks();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let redis = crate::harness::redis();
    let chroma = crate::harness::chroma();
    let sergio = ["sergio_personality", "sergio_rhetorical", "sergio_humor", "sergio_corpus"];
    for name in sergio {
        crate::harness::seed_collection(chroma.port, name, 5);
    }
    let openwebui = crate::harness::openwebui(Some(redis.port), None);
    let mut env = Env::new();
    env.set("IFCTL_REDIS_URL", format!("redis://127.0.0.1:{}", redis.port))
        .set("IFCTL_CHROMADB_URL", format!("http://127.0.0.1:{}", chroma.port))
        .set("IFCTL_OPENWEBUI_URL", format!("http://127.0.0.1:{}", openwebui.port))
        .set("IFCTL_CHROMADB_COLLECTIONS", sergio.join(","));
    env.run(&["snapshot", "create", "--name", "runbook"]).expect_code(0);
    // The runbooks' bucket, with one snapshot in it.
    let moto = crate::harness::moto();
    assert_eq!(crate::harness::s3(moto.port, "PUT", "/backups", None).0, 200);
    crate::harness::use_moto(&mut env, moto.port);
    env.run(&["snapshot", "create", "--name", "offsite", "--repo", "s3://backups/ifctl"]).expect_code(0);
    let port = crate::harness::free_port();
    let _serve = env.spawn_quiet(&["serve", "--listen", &format!("127.0.0.1:{port}"), "--interval", "1s"]);
    let started = std::time::Instant::now();
    while crate::harness::http_get(port, "/livez").is_none() {
        assert!(started.elapsed() < std::time::Duration::from_secs(20), "serve did not start");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let scratch = tempfile::tempdir().unwrap();
    let python = crate::harness::venv().join("bin"); // `python3` with pyarrow, as the runbook says
    let mut ran = 0;
    for block in &blocks {
        assert!(
            block.illustrative || ["sh", "crontab"].contains(&block.lang.as_str()),
            "{}: a block tagged `{}`: tag it `sh` or `crontab`, or mark it illustrative",
            block.at,
            block.lang
        );
        let commands: Vec<String> = block
            .lines
            .iter()
            .map(|l| l.trim())
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            // A crontab line: five time fields, then the command.
            .map(|l| {
                if block.lang == "crontab" {
                    l.splitn(6, ' ').last().unwrap().trim().to_string()
                } else {
                    l.to_string()
                }
            })
            .collect();
        // `sh` blocks of `ifctl` alone are the test above's; crontab lines always run here.
        if block.illustrative || (block.lang == "sh" && commands.iter().all(|c| c.starts_with("ifctl "))) {
            continue;
        }
        // What never ends by itself (`--follow`, `watch`, `serve`) is left out: the test above
        // checks its syntax.
        let endless = |c: &&String| {
            c.starts_with("ifctl ") && (c.contains("--follow") || c.contains("health watch") || c.contains(" serve"))
        };
        let script = commands
            .iter()
            .filter(|c| !endless(c))
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
            .replace("localhost:9109", &format!("127.0.0.1:{port}"))
            .replace("<pid>", "$$")
            .replace("/var/lib/node_exporter/textfile", &scratch.path().display().to_string())
            .replace("/tmp/inspect", &scratch.path().join("inspect").display().to_string())
            .replace("/tmp/validation.json", &scratch.path().join("validation.json").display().to_string())
            .replace("/etc/ifctl/snapshot-key.txt", &scratch.path().join("snapshot-key.txt").display().to_string());
        let traced = format!(
            // `grep` finding nothing (exit 1) is an answer, not a failure.
            "cd '{}' || exit 1\nset -o pipefail\ntrap 'rc=$?; case \"$BASH_COMMAND\" in ifctl\\ *) ;; grep\\ *) [ $rc = 1 ] || echo \"FAILED: $BASH_COMMAND\" >&2 ;; *) echo \"FAILED: $BASH_COMMAND\" >&2 ;; esac' ERR\n{script}\n",
            root.display()
        );
        let run = env.shell("bash", &traced, std::slice::from_ref(&python));
        assert!(
            !run.stderr.contains("FAILED:"),
            "{}: a command failed\n{}\n--- stdout\n{}",
            block.at,
            run.stderr,
            run.stdout
        );
        ran += 1;
    }
    assert!(ran >= 6, "only {ran} runbook blocks ran");
    // The nightly off-host line really ran: a new snapshot in the bucket, pruned by day.
    let listed = env.run(&["--output", "json", "snapshot", "list", "--repo", "s3://backups/ifctl"]).json();
    let names: Vec<&str> = listed.as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert!(names.len() == 1 && names[0].starts_with("snap-"), "{names:?}");
}
