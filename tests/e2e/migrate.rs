//! `migrate` and `validate` end to end on a real Chroma: the reference spec on data shaped like
//! the fixture, kill -9 and --resume, injected failures and rollback, the offline dry run.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::harness::{self, Env, Server};

const SCOPE: &str = "/api/v2/tenants/default_tenant/databases/default_database";
const COLLECTIONS: [(&str, usize); 4] =
    [("sergio_personality", 420), ("sergio_rhetorical", 360), ("sergio_humor", 240), ("sergio_corpus", 300)];

fn spec_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/migration/sergio-v2.toml")
}

fn api(port: u16, method: &str, path: &str, body: Option<Value>) -> Value {
    let body = body.map(|b| b.to_string());
    let (status, text) = harness::http(port, method, &format!("{SCOPE}{path}"), body.as_deref(), None).unwrap();
    assert!((200..300).contains(&status), "{method} {path} -> {status}: {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

fn collection_id(port: u16, name: &str) -> String {
    api(port, "GET", &format!("/collections/{name}"), None)["id"].as_str().unwrap().to_string()
}

/// The four collections with v1.0 metadata like the shared fixture's (l2, 16-d, deterministic).
fn seed_v1(port: u16) {
    let categories = ["values", "argument", "pun", "essay"];
    for (c, (name, rows)) in COLLECTIONS.iter().enumerate() {
        let created = api(
            port,
            "POST",
            "/collections",
            Some(json!({"name": name, "metadata": {"schema_version": "v1.0", "owner": "sergio"},
                        "configuration": {"hnsw": {"space": "l2"}}})),
        );
        let id = created["id"].as_str().unwrap().to_string();
        let mut seed = 0x2545f491u32 + c as u32;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            seed
        };
        for start in (0..*rows).step_by(200) {
            let end = (start + 200).min(*rows);
            let ids: Vec<String> = (start..end).map(|i| format!("{}-{i:06}", &name[7..11])).collect();
            let embeddings: Vec<Vec<f32>> =
                (start..end).map(|_| (0..16).map(|_| (next() as f32 / u32::MAX as f32) - 0.5).collect()).collect();
            let documents: Vec<String> =
                (start..end).map(|i| format!("doc {i} of {name}: {}", "word ".repeat(i % 17 + 3))).collect();
            let metadatas: Vec<Value> = (start..end)
                .map(|i| {
                    let source = ["podcast", "blog", "talk"][i % 3];
                    let tags = ["ai,madrid", "coffee", "books,ethics,writing"][i % 3];
                    json!({"schema_version": "v1.0", "source": source, "speaker": "sergio",
                           "category": format!("{}-{}", categories[c], i % 4),
                           "created_at": format!("2022-0{}-1{}T10:00:00Z", i % 9 + 1, i % 10),
                           "tags": tags, "word_count": i % 17 + 3 + 5,
                           "lang": "en", "confidence": 0.75, "reviewed": i % 2 == 0})
                })
                .collect();
            api(
                port,
                "POST",
                &format!("/collections/{id}/add"),
                Some(json!({"ids": ids, "embeddings": embeddings, "documents": documents, "metadatas": metadatas})),
            );
        }
    }
}

fn stack() -> (Server, Env) {
    let chroma = harness::chroma();
    seed_v1(chroma.port);
    let mut env = Env::new();
    env.set("IFCTL_CHROMADB_URL", format!("http://127.0.0.1:{}", chroma.port));
    (chroma, env)
}

fn tools(args: &[&str]) -> std::process::Output {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e/snapshot_tools.py");
    std::process::Command::new(harness::venv().join("bin").join("python")).arg(script).args(args).output().unwrap()
}

fn snapshot(env: &Env, name: &str) -> Value {
    let run = env.run(&["--output", "json", "snapshot", "create", "--name", name]);
    run.expect_code(0);
    run.json()
}

fn unpack(path: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    assert!(
        std::process::Command::new("tar").arg("xzf").arg(path).arg("-C").arg(dir.path()).status().unwrap().success()
    );
    dir
}

/// `ifctl` with these arguments in the background (stderr captured), once its first import
/// checkpoint is journaled.
fn migrating(env: &Env, args: &[&str]) -> std::process::Child {
    let child = env.command(args).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let started = Instant::now();
    while !harness::read(&env.journal()).contains("\"progress\"") {
        assert!(started.elapsed() < Duration::from_secs(60), "no checkpoint written");
        std::thread::sleep(Duration::from_millis(1));
    }
    child
}

/// Pauses a running migration, deletes 3 rows from its staging collection and lets it go on: its
/// validation then finds ids missing and it rolls back.
fn delete_staging_rows_behind_its_back(port: u16, child: &std::process::Child) {
    let pid = rustix::process::Pid::from_raw(child.id() as i32).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::STOP).unwrap();
    let staging = api(port, "GET", "/collections", None)
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"].as_str().unwrap().contains("__ifctl_migrate_"))
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let deleted = api(port, "POST", &format!("/collections/{staging}/get"), Some(json!({"limit": 3, "include": []})));
    api(port, "POST", &format!("/collections/{staging}/delete"), Some(json!({"ids": deleted["ids"]})));
    rustix::process::kill_process(pid, rustix::process::Signal::CONT).unwrap();
}

/// No collection of ifctl's own (staging, old copies) is left in Chroma; `context` names the case.
fn assert_no_leftovers(port: u16, context: &str) {
    let all = api(port, "GET", "/collections", None);
    assert!(
        all.as_array().unwrap().iter().all(|c| !c["name"].as_str().unwrap().contains("__ifctl_")),
        "{context}: {all}"
    );
}

fn all_metadata(port: u16, name: &str) -> Vec<(String, Value)> {
    let id = collection_id(port, name);
    let got = api(port, "POST", &format!("/collections/{id}/get"), Some(json!({"include": ["metadatas"]})));
    let mut rows: Vec<(String, Value)> = got["ids"]
        .as_array()
        .unwrap()
        .iter()
        .zip(got["metadatas"].as_array().unwrap())
        .map(|(i, m)| (i.as_str().unwrap().to_string(), m.clone()))
        .collect();
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    rows
}

#[test]
fn reference_spec_migrates_and_validates() {
    let (chroma, env) = stack();
    let spec = spec_path();
    let spec = spec.to_str().unwrap();
    let before = snapshot(&env, "before");

    let dry = env.run(&["migrate", "--spec", spec, "--dry-run"]);
    dry.expect_code(0);
    assert!(
        dry.stdout
            .contains("Source keys dropped (no target field maps them): confidence, lang, reviewed, schema_version."),
        "{}",
        dry.stdout
    );
    assert!(dry.stdout.contains("nothing was changed"), "{}", dry.stdout);
    assert_eq!(all_metadata(chroma.port, "sergio_humor")[0].1["schema_version"], "v1.0", "the dry run changed nothing");

    env.run(&["migrate", "--spec", spec]).expect_code(2); // stdin is not a terminal, no --yes
    let run = env.run(&["--output", "json", "migrate", "--spec", spec, "--yes", "--batch-size", "100"]);
    run.expect_code(0);
    let finished = run.json();
    assert_eq!(finished["validation"]["passed"], true, "{finished:#}");
    assert_eq!(finished["validation"]["checks"].as_array().unwrap().len(), 8);
    let nn = &finished["validation"]["checks"][5];
    assert_eq!(nn["name"], "nearest_neighbour_overlap");
    assert!(nn["detail"].as_str().unwrap().contains("(source "), "before vs after while the source exists: {nn:#}");

    // Every row has the 12 fields with the right types.
    let fields = [
        "source_file",
        "speaker",
        "category",
        "rhetorical_device",
        "humor_type",
        "timestamp",
        "word_count",
        "citation_id",
        "council_session",
        "tags",
        "version",
        "migrated_from",
    ];
    for (name, rows) in COLLECTIONS {
        let all = all_metadata(chroma.port, name);
        assert_eq!(all.len(), rows);
        for (id, m) in &all {
            let keys: Vec<&str> = m.as_object().unwrap().keys().map(String::as_str).collect();
            let mut sorted = fields.to_vec();
            sorted.sort();
            assert_eq!(keys, sorted, "{name}/{id}: {m}");
            assert!(m["timestamp"].is_i64() && m["word_count"].is_i64(), "{m}");
            assert!(m["tags"].as_array().unwrap().iter().all(Value::is_string), "{m}");
            assert!(m["citation_id"].as_str().unwrap().starts_with("if://citation/"), "{m}");
            assert_eq!((m["version"].as_str(), m["migrated_from"].as_str()), (Some("2.0"), Some("1.0")));
        }
    }
    let humor = all_metadata(chroma.port, "sergio_humor");
    assert!(humor[0].1["humor_type"].as_str().unwrap().starts_with("pun-"), "per-collection override: {}", humor[0].1);
    assert_eq!(all_metadata(chroma.port, "sergio_corpus")[0].1["humor_type"], "none");
    let coll = api(chroma.port, "GET", "/collections/sergio_humor", None);
    assert_eq!(coll["metadata"]["schema_version"], "v2.0");
    assert_eq!(coll["configuration_json"]["hnsw"]["space"], "l2");

    // Ids, documents and embeddings are unchanged, bit for bit.
    let after = snapshot(&env, "after");
    let (b, a) = (unpack(before["path"].as_str().unwrap()), unpack(after["path"].as_str().unwrap()));
    for (name, _) in COLLECTIONS {
        let out = tools(&[
            "compare-except-metadata",
            b.path().join(format!("before/collections/{name}.parquet")).to_str().unwrap(),
            a.path().join(format!("after/collections/{name}.parquet")).to_str().unwrap(),
            "0",
        ]);
        assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
    }

    let report_path = env.home.path().join("report.json");
    let run = env.run(&["validate", "--spec", spec, "--report", report_path.to_str().unwrap()]);
    run.expect_code(0);
    assert_eq!(run.stdout.matches('✓').count(), 8, "{}", run.stdout);
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&report_path).unwrap()).unwrap();
    assert_eq!(report["passed"], true);
    let kinds: Vec<String> = env
        .run(&["--output", "json", "history", "--kind", "migration", "--kind", "validation"])
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(kinds.first().map(String::as_str), Some("migration.started"));
    assert!(
        kinds.contains(&"migration.checkpoint".to_string()) && kinds.contains(&"migration.finished".to_string()),
        "{kinds:?}"
    );
    assert_eq!(kinds.last().map(String::as_str), Some("validation.report"));
    let started = env.run(&["--output", "json", "history", "--kind", "migration.started"]).json();
    assert!(started[0]["details"]["snapshot"].as_str().unwrap().contains("pre-migrate-"), "the snapshot is named");
}

#[test]
fn killed_import_resumes_to_exactly_a_clean_runs_result() {
    let (chroma_a, env_a) = stack();
    let (_chroma_b, env_b) = stack();
    let spec = spec_path();
    let spec = spec.to_str().unwrap();
    let mut child =
        migrating(&env_a, &["migrate", "--spec", spec, "--yes", "--batch-size", "40", "--checkpoint-every", "80"]);
    child.kill().unwrap();
    child.wait().unwrap();
    let staging: Vec<String> = api(chroma_a.port, "GET", "/collections", None)
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .filter(|n| n.contains("__ifctl_migrate_"))
        .collect();
    assert!(!staging.is_empty(), "killed mid-import");
    env_a.run(&["migrate", "--spec", spec, "--yes"]).expect_code(2); // a checkpoint is waiting
    let resumed = env_a.run(&["migrate", "--spec", spec, "--resume", "--yes"]);
    resumed.expect_code(0);
    env_b.run(&["migrate", "--spec", spec, "--yes"]).expect_code(0);

    // Same ids, metadata and embeddings, row for row: the exports are byte-identical.
    let (a, b) = (snapshot(&env_a, "a"), snapshot(&env_b, "b"));
    for (name, _) in COLLECTIONS {
        let sha = |s: &Value| {
            s["collections"].as_array().unwrap().iter().find(|c| c["name"] == name).unwrap()["sha256"].clone()
        };
        assert_eq!(sha(&a), sha(&b), "{name} differs between the resumed and the clean run");
    }
    assert_no_leftovers(chroma_a.port, "");
}

#[test]
fn injected_failures_roll_back_to_the_original() {
    let (chroma, env) = stack();
    let original = all_metadata(chroma.port, "sergio_rhetorical");
    // 1. A row that violates a required field: nothing is imported, exit 4.
    let id = collection_id(chroma.port, "sergio_rhetorical");
    api(
        chroma.port,
        "POST",
        &format!("/collections/{id}/update"),
        Some(json!({"ids": ["rhet-000007"], "metadatas": [{"created_at": null}]})),
    );
    let broken = all_metadata(chroma.port, "sergio_rhetorical");
    let spec = spec_path();
    let spec = spec.to_str().unwrap();
    let run = env.run(&["migrate", "--spec", spec, "--yes"]);
    run.expect_code(4);
    assert!(run.stderr.contains("rhet-000007") && run.stderr.contains("timestamp"), "{}", run.stderr);
    assert_eq!(all_metadata(chroma.port, "sergio_rhetorical"), broken, "unchanged");
    let dry = env.run(&["migrate", "--spec", spec, "--dry-run"]);
    dry.expect_code(4);
    assert!(dry.stdout.contains("Would fail: `sergio_rhetorical` row `rhet-000007`"), "{}", dry.stdout);

    // Allowed by --max-quarantine: migrated without that row, which the report lists.
    let run = env.run(&["--output", "json", "migrate", "--spec", spec, "--yes", "--max-quarantine", "1"]);
    run.expect_code(0);
    let finished = run.json();
    let rhet =
        finished["collections"].as_array().unwrap().iter().find(|c| c["name"] == "sergio_rhetorical").unwrap().clone();
    assert_eq!(rhet["quarantined"][0]["id"], "rhet-000007");
    assert_eq!(all_metadata(chroma.port, "sergio_rhetorical").len(), original.len() - 1);
    env.run(&["validate", "--spec", spec]).expect_code(0);
    let _ = original;
}

#[test]
fn rows_deleted_from_the_target_mid_import_trigger_rollback() {
    let (chroma, env) = stack();
    let before: Vec<Vec<(String, Value)>> = COLLECTIONS.iter().map(|(n, _)| all_metadata(chroma.port, n)).collect();
    let spec = spec_path();
    let spec = spec.to_str().unwrap();
    let child =
        migrating(&env, &["migrate", "--spec", spec, "--yes", "--batch-size", "40", "--checkpoint-every", "40"]);
    delete_staging_rows_behind_its_back(chroma.port, &child);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(stderr.contains("rolled back") && stderr.contains("id_sets_equal"), "{stderr}");
    let after: Vec<Vec<(String, Value)>> = COLLECTIONS.iter().map(|(n, _)| all_metadata(chroma.port, n)).collect();
    assert_eq!(before, after, "the original collections are as before");
    assert_no_leftovers(chroma.port, "");
    let rolled = env.run(&["--output", "json", "history", "--kind", "migration.rolled_back"]).json();
    assert!(rolled[0]["details"]["reason"].as_str().unwrap().contains("id_sets_equal"), "{rolled:#}");
}

/// A migration killed (SIGKILL) inside its rollback — after the rollback is recorded, and after
/// the staging collections are dropped — is not migrated on by the next run: a plain run refuses
/// and says the rollback is unfinished, `--resume` finishes the rollback (exit 4), and the
/// originals are as before with nothing left over.
#[test]
fn a_rollback_killed_halfway_is_finished_by_resume() {
    use std::os::unix::process::ExitStatusExt;
    let spec = spec_path();
    let spec = spec.to_str().unwrap();
    for point in ["rollback.marked", "rollback.dropped"] {
        let (chroma, mut env) = stack();
        let before: Vec<Vec<(String, Value)>> = COLLECTIONS.iter().map(|(n, _)| all_metadata(chroma.port, n)).collect();
        env.set("IFCTL_TEST_CRASH_AT", point);
        let child =
            migrating(&env, &["migrate", "--spec", spec, "--yes", "--batch-size", "40", "--checkpoint-every", "40"]);
        env.unset("IFCTL_TEST_CRASH_AT");
        // Rows deleted from its staging collection behind its back make validation fail.
        delete_staging_rows_behind_its_back(chroma.port, &child);
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.signal(), Some(9), "{point}: {}", String::from_utf8_lossy(&out.stderr));

        let plain = env.run(&["migrate", "--spec", spec, "--yes"]);
        plain.expect_code(2);
        assert!(plain.stderr.contains("rollback did not finish"), "{point}: {}", plain.stderr);

        let resumed = env.run(&["migrate", "--spec", spec, "--resume", "--yes"]);
        resumed.expect_code(4);
        assert!(
            resumed.stderr.contains("finishing the rollback")
                && resumed.stderr.contains("rolled back")
                && resumed.stderr.contains("id_sets_equal"),
            "{point}: {}",
            resumed.stderr
        );
        let after: Vec<Vec<(String, Value)>> = COLLECTIONS.iter().map(|(n, _)| all_metadata(chroma.port, n)).collect();
        assert_eq!(before, after, "{point}: the original collections are as before");
        assert_no_leftovers(chroma.port, point);
        let rolled = env.run(&["--output", "json", "history", "--kind", "migration.rolled_back"]).json();
        assert_eq!(rolled.as_array().unwrap().len(), 1, "{point}: {rolled:#}");
        assert_eq!(rolled[0]["outcome"], "ok", "{point}: {rolled:#}");
        // The checkpoint is gone and the locks are free: a new run migrates.
        env.run(&["migrate", "--spec", spec, "--resume", "--yes"]).expect_code(2);
        env.run(&["migrate", "--spec", spec, "--yes"]).expect_code(0);
    }
}

#[test]
fn offline_dry_run_from_a_snapshot_and_spec_errors() {
    let (chroma, env) = stack();
    let snap = snapshot(&env, "ci");
    let path = snap["path"].as_str().unwrap().to_string();
    drop(chroma);
    let spec = spec_path();
    let run = env.run(&[
        "--output",
        "json",
        "migrate",
        "--spec",
        spec.to_str().unwrap(),
        "--dry-run",
        "--from-snapshot",
        &path,
    ]);
    run.expect_code(0);
    let plan = run.json();
    assert_eq!(plan["offline"], true);
    assert_eq!(plan["plan"]["collections"].as_array().unwrap().len(), 4);
    assert_eq!(plan["plan"]["collections"][0]["failed"], 0);

    let bad = env.home.path().join("bad.toml");
    std::fs::write(&bad, "version = 1\n[fields.x]\nfrom = \"a\"\nvalue = 3\n").unwrap();
    let run = env.run(&["migrate", "--spec", bad.to_str().unwrap(), "--dry-run", "--from-snapshot", &path]);
    run.expect_code(2);
    assert!(run.stderr.contains("fields.x") && run.stderr.contains("only one of"), "{}", run.stderr);
    std::fs::write(&bad, "version = 1\n[fields.x]\nfrom = \"a\"\ntype = \"date\"\n").unwrap();
    let run = env.run(&["migrate", "--spec", bad.to_str().unwrap(), "--dry-run", "--from-snapshot", &path]);
    run.expect_code(2);
    assert!(run.stderr.contains("fields.x") && run.stderr.contains("unknown variant"), "{}", run.stderr);
}

/// A writer adds 60 rows to `sergio_humor`, rewrites one and deletes another while `migrate`
/// runs: the migration carries every change over (transformed to the new schema) and exits 0
/// with nothing lost; the journal says what was carried.
#[test]
fn rows_written_during_the_migration_are_carried_over() {
    let (chroma, env) = stack();
    let spec = spec_path();
    let spec = spec.to_str().unwrap();
    let child =
        migrating(&env, &["migrate", "--spec", spec, "--yes", "--batch-size", "40", "--checkpoint-every", "40"]);
    // The writer: while the import runs, after the pre-migration snapshot.
    let humor = collection_id(chroma.port, "sergio_humor");
    let ids: Vec<String> = (0..60).map(|i| format!("late-{i:03}")).collect();
    let embeddings: Vec<Vec<f32>> = (0..60).map(|i| (0..16).map(|d| ((i * 16 + d) as f32).sin()).collect()).collect();
    let documents: Vec<String> = (0..60).map(|i| format!("written during the migration {i}")).collect();
    let metadatas: Vec<Value> = (0..60)
        .map(|i| {
            json!({"schema_version": "v1.0", "source": "blog", "speaker": "sergio", "category": "pun-late",
                   "created_at": "2026-11-25T10:00:00Z", "tags": "late,writer", "word_count": 5,
                   "lang": "en", "confidence": 0.5, "reviewed": i % 2 == 0})
        })
        .collect();
    api(
        chroma.port,
        "POST",
        &format!("/collections/{humor}/add"),
        Some(json!({"ids": ids, "embeddings": embeddings, "documents": documents, "metadatas": metadatas})),
    );
    api(
        chroma.port,
        "POST",
        &format!("/collections/{humor}/update"),
        Some(json!({"ids": ["humo-000001"], "documents": ["rewritten during the migration"]})),
    );
    api(chroma.port, "POST", &format!("/collections/{humor}/delete"), Some(json!({"ids": ["humo-000002"]})));
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");

    let rows = all_metadata(chroma.port, "sergio_humor");
    assert_eq!(rows.len(), 240 + 60 - 1, "nothing lost, the deletion kept");
    let late: Vec<&(String, Value)> = rows.iter().filter(|(id, _)| id.starts_with("late-")).collect();
    assert_eq!(late.len(), 60);
    assert!(late.iter().all(|(_, m)| m["version"] == "2.0" && m["migrated_from"] == "1.0"), "{:?}", late[0]);
    assert!(rows.iter().all(|(id, _)| id != "humo-000002"));
    let id = collection_id(chroma.port, "sergio_humor");
    let got = api(
        chroma.port,
        "POST",
        &format!("/collections/{id}/get"),
        Some(json!({"ids": ["humo-000001"], "include": ["documents"]})),
    );
    assert_eq!(got["documents"][0], "rewritten during the migration");
    let carried = env.run(&["--output", "json", "history", "--kind", "migration.carried_over"]).json();
    let total: u64 = carried
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["details"]["changed"].as_u64().unwrap() + e["details"]["deleted"].as_u64().unwrap())
        .sum();
    assert_eq!(total, 62, "{carried:#}");
}

/// A writer that never stops: the migration carries changes over for two rounds, then stops
/// with exit 4 naming rows that changed, swaps nothing and leaves the sources as they are.
#[test]
fn a_source_that_keeps_changing_stops_the_migration_untouched() {
    let (chroma, env) = stack();
    let spec = spec_path();
    let spec = spec.to_str().unwrap();
    let humor = collection_id(chroma.port, "sergio_humor");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let child = env
        .command(&["migrate", "--spec", spec, "--yes", "--batch-size", "100"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while !harness::read(&env.journal()).contains("migration.started") {
        assert!(started.elapsed() < Duration::from_secs(60), "migration did not start");
        std::thread::sleep(Duration::from_millis(1));
    }
    let writer = {
        let stop = stop.clone();
        let port = chroma.port;
        std::thread::spawn(move || {
            let mut i = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let emb: Vec<f32> = (0..16).map(|d| (i * 16 + d) as f32 / 1000.0).collect();
                let body = json!({"ids": [format!("busy-{i:05}")], "embeddings": [emb], "documents": ["busy"],
                    "metadatas": [{"schema_version": "v1.0", "source": "blog", "speaker": "sergio", "category": "pun-busy",
                        "created_at": "2026-11-25T10:00:00Z", "tags": "busy", "word_count": 1, "lang": "en",
                        "confidence": 0.5, "reviewed": true}]});
                let _ = harness::http(
                    port,
                    "POST",
                    &format!("{SCOPE}/collections/{humor}/add"),
                    Some(&body.to_string()),
                    None,
                );
                i += 1;
                std::thread::sleep(Duration::from_millis(10));
            }
            i
        })
    };
    let out = child.wait_with_output().unwrap();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let written = writer.join().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(stderr.contains("still being written") && stderr.contains("busy-"), "{stderr}");
    let rows = all_metadata(chroma.port, "sergio_humor");
    assert_eq!(rows.len(), 240 + written, "every row the writer added is in the untouched source");
    assert!(rows.iter().all(|(_, m)| m["schema_version"] == "v1.0"), "nothing was swapped");
    assert_no_leftovers(chroma.port, "");
}

/// A migration killed (SIGKILL, by the test build's crash points) at every phase boundary —
/// after the imports, around each rename of the swap, before and after the checkpoint records
/// it — resumes with `--resume` to exactly what an uninterrupted run makes, nothing left over.
#[test]
fn migration_killed_at_every_phase_boundary_resumes_to_a_clean_runs_result() {
    use std::os::unix::process::ExitStatusExt;
    let spec = spec_path();
    let spec = spec.to_str().unwrap();
    let (_clean_chroma, clean_env) = stack();
    clean_env.run(&["migrate", "--spec", spec, "--yes"]).expect_code(0);
    let clean = snapshot(&clean_env, "clean");
    let sha = |s: &Value, name: &str| {
        s["collections"].as_array().unwrap().iter().find(|c| c["name"] == name).unwrap()["sha256"].clone()
    };
    for point in [
        "migrate.imported",
        "migration.swap.journaled",
        "migration.swap.between_renames",
        "migration.swap.renamed",
        "migrate.swapped_unsaved",
        "migrate.swap_saved",
    ] {
        let (chroma, mut env) = stack();
        env.set("IFCTL_TEST_CRASH_AT", point);
        let crashed = env.command(&["migrate", "--spec", spec, "--yes"]).output().unwrap();
        env.unset("IFCTL_TEST_CRASH_AT");
        assert_eq!(crashed.status.signal(), Some(9), "{point}: {}", String::from_utf8_lossy(&crashed.stderr));
        let resumed = env.run(&["migrate", "--spec", spec, "--resume", "--yes"]);
        resumed.expect_code(0);
        let after = snapshot(&env, "after");
        for (name, _) in COLLECTIONS {
            assert_eq!(sha(&after, name), sha(&clean, name), "{point}: `{name}` differs from a clean run");
        }
        assert_no_leftovers(chroma.port, point);
    }
}

/// Migrations are per target: one killed mid-import on `prod` leaves its checkpoint in prod's own
/// directory; `staging`'s migration — same spec, so the same staging collection names — runs
/// meanwhile as if nothing waited; prod resumes to a migration that validates (staging's
/// `migration.swap` events once made prod's resume take collections it had not imported yet for
/// swapped, found by this test in CI); every migration event names its target.
#[test]
fn a_waiting_checkpoint_belongs_to_its_target_only() {
    let (prod, staging) = (harness::chroma(), harness::chroma());
    seed_v1(prod.port);
    seed_v1(staging.port);
    let mut env = Env::new();
    env.unset("IFCTL_CHROMADB_URL");
    env.write_config(&format!(
        "[targets.prod.chromadb]\nurl = \"http://127.0.0.1:{}\"\n[targets.staging.chromadb]\nurl = \"http://127.0.0.1:{}\"\n",
        prod.port, staging.port
    ));
    let spec = spec_path();
    let spec = spec.to_str().unwrap();
    let args =
        ["--target", "prod", "migrate", "--spec", spec, "--yes", "--batch-size", "40", "--checkpoint-every", "80"];
    let mut child = migrating(&env, &args);
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(env.state_dir().join("targets/prod/migrations/checkpoint.json").exists());
    assert!(!env.state_dir().join("migrations/checkpoint.json").exists());

    let other = env.run(&["--target", "staging", "migrate", "--spec", spec, "--yes"]);
    other.expect_code(0);
    assert!(other.stderr.contains("Target `staging`"), "{}", other.stderr);
    env.run(&["--target", "prod", "migrate", "--spec", spec, "--yes"]).expect_code(2); // prod's waits
    env.run(&["--target", "prod", "migrate", "--spec", spec, "--resume", "--yes"]).expect_code(0);
    assert_no_leftovers(prod.port, "prod");
    assert_no_leftovers(staging.port, "staging");
    let events: Vec<Value> = harness::read(&env.journal()).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let migrations: Vec<&Value> =
        events.iter().filter(|e| e["kind"].as_str().unwrap().starts_with("migration.")).collect();
    assert!(migrations.len() >= 4, "{migrations:#?}");
    assert!(
        migrations.iter().all(|e| e["target"] == "prod" || e["target"] == "staging"),
        "every migration event names its target: {migrations:#?}"
    );
    let done = |t: &str| {
        migrations.iter().any(|e| e["target"] == t && e["kind"] == "migration.finished" && e["outcome"] == "ok")
    };
    assert!(done("prod") && done("staging"), "{migrations:#?}");
}
