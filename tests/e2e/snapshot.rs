//! Snapshots end to end against a real Chroma: round trips, integrity, hostile archives, crashes.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::harness::{self, Env, Server};

const SCOPE: &str = "/api/v2/tenants/default_tenant/databases/default_database";

fn chroma_env() -> (Server, Env) {
    let chroma = harness::chroma();
    let mut env = Env::new();
    env.set("IFCTL_CHROMADB_URL", format!("http://127.0.0.1:{}", chroma.port));
    (chroma, env)
}

fn api(port: u16, method: &str, path: &str, body: Option<Value>) -> Value {
    let body = body.map(|b| b.to_string());
    let (status, text) = harness::http(port, method, &format!("{SCOPE}{path}"), body.as_deref(), None).unwrap();
    assert!((200..300).contains(&status), "{method} {path} -> {status}: {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// A collection with every metadata type, null documents, uris and its own HNSW settings.
pub fn make_collection(port: u16, name: &str, space: &str, rows: usize, dim: usize) -> String {
    let created = api(
        port,
        "POST",
        "/collections",
        Some(json!({"name": name, "metadata": {"owner": "ifctl-test", "rank": 3, "ratio": 0.25, "live": true},
            "configuration": {"hnsw": {"space": space, "ef_construction": 120, "max_neighbors": 12, "ef_search": 60}}})),
    );
    let id = created["id"].as_str().unwrap().to_string();
    let mut seed = 0x9e3779b9u32 ^ name.len() as u32;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        (seed as f32 / u32::MAX as f32) * 2.0 - 1.0
    };
    for start in (0..rows).step_by(500) {
        let end = (start + 500).min(rows);
        let ids: Vec<String> = (start..end).map(|i| format!("{name}-{i:05}")).collect();
        let embeddings: Vec<Vec<f32>> = (start..end).map(|_| (0..dim).map(|_| next()).collect()).collect();
        let documents: Vec<Value> = (start..end)
            .map(|i| if i % 7 == 3 { Value::Null } else { json!(format!("document {i} ünïcödé “quoted” 😂")) })
            .collect();
        let metadatas: Vec<Value> = (start..end)
            .map(|i| {
                if i % 11 == 5 {
                    Value::Null
                } else {
                    json!({"n": i, "big": 1u64 << 40, "score": i as f64 / 8.0, "flag": i % 2 == 0,
                           "label": format!("l{}", i % 5), "tags": ["x", format!("t{}", i % 3)]})
                }
            })
            .collect();
        let uris: Vec<Value> =
            (start..end).map(|i| if i % 13 == 0 { json!(format!("s3://bucket/{i}")) } else { Value::Null }).collect();
        api(
            port,
            "POST",
            &format!("/collections/{id}/add"),
            Some(
                json!({"ids": ids, "embeddings": embeddings, "documents": documents, "metadatas": metadatas, "uris": uris}),
            ),
        );
    }
    id
}

fn collection(port: u16, name: &str) -> Option<Value> {
    let (status, text) = harness::http(port, "GET", &format!("{SCOPE}/collections/{name}"), None, None).unwrap();
    (status == 200).then(|| serde_json::from_str(&text).unwrap())
}

pub fn count(port: u16, name: &str) -> u64 {
    let id = collection(port, name).unwrap()["id"].as_str().unwrap().to_string();
    api(port, "GET", &format!("/collections/{id}/count"), None).as_u64().unwrap()
}

fn python() -> PathBuf {
    harness::venv().join("bin").join("python")
}

fn tools(args: &[&str]) -> std::process::Output {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e/snapshot_tools.py");
    std::process::Command::new(python()).arg(script).args(args).output().unwrap()
}

fn unpack(archive: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let status = std::process::Command::new("tar").arg("xzf").arg(archive).arg("-C").arg(dir.path()).status().unwrap();
    assert!(status.success());
    dir
}

fn create(env: &Env, name: &str, extra: &[&str]) -> Value {
    let mut args = vec!["--output", "json", "snapshot", "create", "--name", name];
    args.extend_from_slice(extra);
    let run = env.run(&args);
    run.expect_code(0);
    run.json()
}

#[test]
fn create_restore_round_trips_everything() {
    let (chroma, env) = chroma_env();
    let port = chroma.port;
    for (name, space) in [("rt_l2", "l2"), ("rt_ip", "ip"), ("rt_cos", "cosine")] {
        make_collection(port, name, space, 1200, 16);
    }
    make_collection(port, "rt_empty", "l2", 0, 16);
    let first = create(&env, "first", &[]);
    assert_eq!(first["rows"], 3600);
    let archive = PathBuf::from(first["path"].as_str().unwrap());
    assert!(archive.ends_with("snapshots/first.tar.gz"), "{archive:?}");

    // The archive unpacks with plain tar; sha256sum -c passes; pyarrow reads the documented schema.
    let dir = unpack(&archive);
    let root = dir.path().join("first");
    let check =
        std::process::Command::new("sha256sum").arg("-c").arg("checksums.sha256").current_dir(&root).output().unwrap();
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stdout));
    assert_eq!(String::from_utf8_lossy(&check.stdout).matches(": OK").count(), 5);
    let out = tools(&["schema", root.join("collections/rt_l2.parquet").to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let schema: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(schema["rows"], 1200);
    assert_eq!(
        schema["fields"],
        json!({"id": "string", "document": "string", "metadata": "string", "uri": "string",
               "embedding": "fixed_size_list<item: float not null>[16]"})
    );
    assert_eq!(schema["nullable"]["id"], false);
    let manifest: Value = serde_json::from_str(&std::fs::read_to_string(root.join("metadata.json")).unwrap()).unwrap();
    let l2 = manifest["collections"].as_array().unwrap().iter().find(|c| c["name"] == "rt_l2").unwrap();
    assert_eq!(l2["configuration"]["hnsw"]["ef_construction"], 120);
    assert_eq!(l2["metadata"], json!({"owner": "ifctl-test", "rank": 3, "ratio": 0.25, "live": true}));

    // Damage the live data, then restore.
    let l2_id = collection(port, "rt_l2").unwrap()["id"].as_str().unwrap().to_string();
    api(port, "POST", &format!("/collections/{l2_id}/delete"), Some(json!({"ids": ["rt_l2-00003", "rt_l2-00700"]})));
    api(port, "DELETE", "/collections/rt_cos", None);
    api(
        port,
        "POST",
        &format!("/collections/{l2_id}/update"),
        Some(json!({"ids": ["rt_l2-00010"], "metadatas": [{"n": "tampered"}]})),
    );
    let run = env.run(&["--output", "json", "snapshot", "restore", "first", "--yes"]);
    run.expect_code(0);
    let restored = run.json();
    let results = restored["collections"].as_array().unwrap();
    assert_eq!(results.len(), 4);
    let cos = results.iter().find(|r| r["name"] == "rt_cos").unwrap();
    assert_eq!((cos["before"].clone(), cos["after"].clone()), (Value::Null, json!(1200)));
    let l2r = results.iter().find(|r| r["name"] == "rt_l2").unwrap();
    assert_eq!((l2r["before"].as_u64(), l2r["after"].as_u64()), (Some(1198), Some(1200)));
    assert!(restored["backup"]["name"].as_str().unwrap().starts_with("pre-restore-"));

    // Configuration and collection metadata are back.
    let cos_now = collection(port, "rt_cos").unwrap();
    assert_eq!(cos_now["configuration_json"]["hnsw"]["space"], "cosine");
    assert_eq!(cos_now["configuration_json"]["hnsw"]["max_neighbors"], 12);
    assert_eq!(cos_now["metadata"]["ratio"], 0.25);
    assert_eq!(count(port, "rt_empty"), 0);

    // A second export equals the first: l2/ip bit for bit (same file hash), cosine within
    // the server's own perturbation; ids, documents, metadata and uris exactly.
    let second = create(&env, "second", &[]);
    let sha = |snap: &Value, name: &str| -> String {
        snap["collections"].as_array().unwrap().iter().find(|c| c["name"] == name).unwrap()["sha256"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let dir2 = unpack(Path::new(second["path"].as_str().unwrap()));
    for name in ["rt_l2", "rt_ip", "rt_cos"] {
        let atol = if name == "rt_cos" { "1e-6" } else { "0" };
        let a = root.join(format!("collections/{name}.parquet"));
        let b = dir2.path().join(format!("second/collections/{name}.parquet"));
        let out = tools(&["compare", a.to_str().unwrap(), b.to_str().unwrap(), atol]);
        assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
    }
    assert_eq!(sha(&first, "rt_l2"), sha(&second, "rt_l2"), "a re-export of restored l2 data is byte-identical");
    assert_eq!(sha(&first, "rt_ip"), sha(&second, "rt_ip"));

    // --deep restores into scratch collections, compares, and removes them.
    let deep = env.run(&["--output", "json", "snapshot", "verify", "second", "--deep"]);
    deep.expect_code(0);
    let checks = deep.json()["deep"].as_array().unwrap().clone();
    assert_eq!(checks.len(), 4);
    let l2 = checks.iter().find(|c| c["name"] == "rt_l2").unwrap();
    assert_eq!((l2["max_embedding_diff"].as_f64(), l2["tolerance"].as_f64()), (Some(0.0), Some(0.0)));
    let all = api(port, "GET", "/collections", None);
    assert!(all.as_array().unwrap().iter().all(|c| !c["name"].as_str().unwrap().contains("__ifctl_")), "{all}");

    let history = env.run(&["--output", "json", "history", "--kind", "snapshot"]).json();
    let kinds: Vec<&str> = history.as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"snapshot.created") && kinds.contains(&"snapshot.restored"), "{kinds:?}");
    assert_eq!(kinds.iter().filter(|k| **k == "snapshot.collection_restored").count(), 4);
    env.run(&["journal", "verify"]).expect_code(0);
}

#[test]
fn corrupt_archives_change_nothing_and_exit_4() {
    let (chroma, env) = chroma_env();
    make_collection(chroma.port, "keep_me", "l2", 300, 8);
    let snap = create(&env, "good", &[]);
    let good = PathBuf::from(snap["path"].as_str().unwrap());
    api(chroma.port, "POST", "/collections", Some(json!({"name": "keep_me_too"})));
    let before = count(chroma.port, "keep_me");
    let dir = tempfile::tempdir().unwrap();

    // A flipped bit inside a member (re-packed, so gzip is valid): the checksum catches it.
    let flipped = dir.path().join("flipped.tar.gz");
    let out = tools(&["hostile", "flip", good.to_str().unwrap(), flipped.to_str().unwrap(), "/nonexistent"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let run = env.run(&["snapshot", "restore", flipped.to_str().unwrap(), "--yes"]);
    run.expect_code(4);
    assert!(run.stderr.contains("checksum mismatch for `collections/keep_me.parquet`"), "{}", run.stderr);

    // The same for the manifest and for the checksums file itself.
    for kind in ["flip-metadata", "flip-checksums"] {
        let archive = dir.path().join(format!("{kind}.tar.gz"));
        let out = tools(&["hostile", kind, good.to_str().unwrap(), archive.to_str().unwrap(), "/nonexistent"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let run = env.run(&["snapshot", "restore", archive.to_str().unwrap(), "--yes"]);
        run.expect_code(4);
        assert!(run.stderr.contains("error:"), "{kind}: {}", run.stderr);
    }

    // A flipped byte in the compressed stream.
    let mut bytes = std::fs::read(&good).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0x40;
    let raw = dir.path().join("raw.tar.gz");
    std::fs::write(&raw, bytes).unwrap();
    let run = env.run(&["snapshot", "verify", raw.to_str().unwrap()]);
    run.expect_code(4);
    env.run(&["snapshot", "restore", raw.to_str().unwrap(), "--yes"]).expect_code(4);

    assert_eq!(count(chroma.port, "keep_me"), before, "the live collection is untouched");
    let names: Vec<String> = api(chroma.port, "GET", "/collections", None)
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect();
    assert!(names.iter().all(|n| !n.contains("__ifctl_")), "no staging left: {names:?}");
    let restored = env.run(&["--output", "json", "history", "--kind", "snapshot.restore_started"]).json();
    assert!(restored.as_array().unwrap().is_empty(), "nothing was even started");
}

#[test]
fn hostile_archives_are_rejected_without_writing_outside() {
    let (chroma, env) = chroma_env();
    make_collection(chroma.port, "target", "l2", 50, 4);
    let snap = create(&env, "base", &[]);
    let good = snap["path"].as_str().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    for kind in ["absolute", "dotdot", "symlink", "hardlink", "device", "oversize", "bomb"] {
        let outside = std::env::temp_dir().join(format!("ifctl-evil-{kind}-{}", std::process::id()));
        let _ = std::fs::remove_file(&outside);
        let archive = dir.path().join(format!("{kind}.tar.gz"));
        let out = tools(&["hostile", kind, &good, archive.to_str().unwrap(), outside.to_str().unwrap()]);
        assert!(out.status.success(), "{kind}: {}", String::from_utf8_lossy(&out.stderr));
        let started = Instant::now();
        let run = env.run(&["snapshot", "verify", archive.to_str().unwrap()]);
        run.expect_code(4);
        assert!(started.elapsed() < Duration::from_secs(20), "{kind} took {:?}", started.elapsed());
        let expected = match kind {
            "absolute" | "dotdot" => "unsafe path",
            "symlink" => "symbolic link",
            "hardlink" => "hard link",
            "device" => "character device",
            "oversize" => "the manifest declares",
            _ => "decompression limit",
        };
        assert!(run.stderr.contains(expected), "{kind}: {}", run.stderr);
        assert!(!outside.exists(), "{kind} wrote outside the private dir");
        env.run(&["snapshot", "restore", archive.to_str().unwrap(), "--yes"]).expect_code(4);
    }
    // Checksums all match, but a record's metadata is not one JSON object (invalid, or text that
    // would add `uris` the archive's uri column does not hold): verify refuses, restore too.
    for kind in ["metadata-invalid", "metadata-inject"] {
        let archive = dir.path().join(format!("{kind}.tar.gz"));
        let out = tools(&["hostile", kind, &good, archive.to_str().unwrap(), "/nonexistent"]);
        assert!(out.status.success(), "{kind}: {}", String::from_utf8_lossy(&out.stderr));
        let run = env.run(&["snapshot", "verify", archive.to_str().unwrap()]);
        run.expect_code(4);
        assert!(run.stderr.contains("metadata is not one JSON object"), "{kind}: {}", run.stderr);
        env.run(&["snapshot", "restore", archive.to_str().unwrap(), "--yes"]).expect_code(4);
    }
    assert_eq!(count(chroma.port, "target"), 50);
    let leftovers: Vec<_> = std::fs::read_dir(env.state_dir().join("tmp")).unwrap().collect();
    assert!(leftovers.is_empty(), "private unpack dirs are removed: {leftovers:?}");
}

#[test]
fn list_prune_and_refusals() {
    let (chroma, env) = chroma_env();
    make_collection(chroma.port, "small", "l2", 20, 4);
    for name in ["s1", "s2", "s3"] {
        create(&env, name, &["--collection", "small"]);
    }
    let listed = env.run(&["--output", "json", "snapshot", "list"]).json();
    let names: Vec<&str> = listed.as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["s1", "s2", "s3"]);
    assert_eq!(listed[0]["rows"], 20);
    assert_eq!(listed[0]["checksums"], true);

    let run = env.run(&["snapshot", "create", "--name", "s1"]);
    run.expect_code(2);
    assert!(run.stderr.contains("already exists"), "{}", run.stderr);
    env.run(&["snapshot", "create", "--name", "../escape"]).expect_code(2);
    env.run(&["snapshot", "create", "--collection", "nope"]).expect_code(2);

    // stdin is not a terminal: refuse without --yes.
    let run = env.run(&["snapshot", "restore", "s1"]);
    run.expect_code(2);
    assert!(run.stderr.contains("stdin is not a terminal"), "{}", run.stderr);
    let run = env.run(&["snapshot", "restore", "s1", "--dry-run"]);
    run.expect_code(0);
    assert!(run.stdout.contains("small") && run.stdout.contains("replace"), "{}", run.stdout);

    env.run(&["snapshot", "prune"]).expect_code(2);
    let run = env.run(&["--output", "json", "snapshot", "prune", "--keep-last", "1", "--dry-run"]);
    run.expect_code(0);
    assert_eq!(std::fs::read_dir(env.state_dir().join("snapshots")).unwrap().count(), 4, "3 snapshots + lock file");
    env.run(&["snapshot", "prune", "--keep-last", "1"]).expect_code(0);
    let listed = env.run(&["--output", "json", "snapshot", "list"]).json();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["name"], "s3");
    let pruned = env.run(&["--output", "json", "history", "--kind", "snapshot.pruned"]).json();
    assert_eq!(pruned[0]["details"]["deleted"], json!(["s1", "s2"]));

    // Automatic names never collide, even within one second.
    let first = env.run(&["--output", "json", "snapshot", "create"]).json();
    let second = env.run(&["--output", "json", "snapshot", "create"]).json();
    assert_ne!(first["name"], second["name"]);
    assert!(first["name"].as_str().unwrap().starts_with("snap-"));

    // Chroma down: exit 3.
    drop(chroma);
    env.run(&["snapshot", "create", "--name", "down"]).expect_code(3);
}

#[test]
fn second_create_is_refused_while_the_first_holds_the_lock() {
    let (chroma, env) = chroma_env();
    make_collection(chroma.port, "locked", "l2", 2000, 64);
    let mut first = env
        .command(&["snapshot", "create", "--name", "one"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let lock = env.state_dir().join("snapshots/.ifctl-snapshot.lock");
    let started = Instant::now();
    while !std::fs::read_to_string(&lock).unwrap_or_default().contains(&first.id().to_string()) {
        assert!(started.elapsed() < Duration::from_secs(10), "the first create never took the lock");
        std::thread::sleep(Duration::from_millis(5));
    }
    let pid = rustix::process::Pid::from_raw(first.id() as i32).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::STOP).unwrap();
    let run = env.run(&["snapshot", "create", "--name", "two"]);
    run.expect_code(6);
    assert!(run.stderr.contains(&format!("pid {}", first.id())) && run.stderr.contains("--wait"), "{}", run.stderr);
    rustix::process::kill_process(pid, rustix::process::Signal::CONT).unwrap();
    let waited = env.run(&["snapshot", "create", "--name", "two", "--wait"]);
    waited.expect_code(0);
    assert!(first.wait().unwrap().success());
}

#[test]
fn kill_during_create_leaves_no_snapshot() {
    let (chroma, env) = chroma_env();
    make_collection(chroma.port, "big", "l2", 4000, 128);
    let mut child = env.command(&["snapshot", "create", "--name", "crashed", "--page-size", "200"]).spawn().unwrap();
    let dest = env.state_dir().join("snapshots");
    let started = Instant::now();
    // Kill it once its work dir exists, mid-export.
    loop {
        let busy = std::fs::read_dir(&dest)
            .map(|d| d.flatten().any(|e| e.file_name().to_string_lossy().starts_with(".ifctl-tmp-")))
            .unwrap_or(false);
        if busy || started.elapsed() > Duration::from_secs(20) {
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    std::thread::sleep(Duration::from_millis(20));
    child.kill().unwrap();
    child.wait().unwrap();
    let listed = env.run(&["--output", "json", "snapshot", "list"]).json();
    assert_eq!(listed, json!([]), "a killed create leaves nothing that looks like a snapshot");
    assert!(!dest.join("crashed.tar.gz").exists());
    // The next create (under the lock) cleans the leftovers and succeeds under the same name.
    create(&env, "crashed", &[]);
    let names: Vec<String> =
        std::fs::read_dir(&dest).unwrap().flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    assert!(names.iter().all(|n| !n.starts_with(".ifctl-tmp-") && !n.ends_with(".partial")), "{names:?}");
}

#[test]
fn kill_during_restore_leaves_each_collection_whole() {
    let (chroma, env) = chroma_env();
    make_collection(chroma.port, "first_c", "l2", 1500, 32);
    make_collection(chroma.port, "second_c", "l2", 3000, 32);
    create(&env, "base", &[]);
    // Change the live data so "as it was" and "restored" differ.
    for name in ["first_c", "second_c"] {
        let id = collection(chroma.port, name).unwrap()["id"].as_str().unwrap().to_string();
        api(chroma.port, "POST", &format!("/collections/{id}/delete"), Some(json!({"ids": [format!("{name}-00001")]})));
    }
    let mut child = env
        .command(&["snapshot", "restore", "base", "--yes", "--no-backup", "--batch-size", "100"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill it once the first collection is swapped in, while the second is loading.
    let started = Instant::now();
    loop {
        if harness::read(&env.journal()).contains("\"first_c\"")
            && harness::read(&env.journal()).contains("collection_restored")
        {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "restore made no progress");
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(300));
    child.kill().unwrap();
    child.wait().unwrap();

    let restored = env.run(&["--output", "json", "history", "--kind", "snapshot.collection_restored"]).json();
    let said: Vec<&str> =
        restored.as_array().unwrap().iter().map(|e| e["details"]["collection"].as_str().unwrap()).collect();
    assert_eq!(said, vec!["first_c"], "the journal says which collection was restored");
    assert_eq!(count(chroma.port, "first_c"), 1500, "restored");
    assert_eq!(count(chroma.port, "second_c"), 2999, "as it was");

    // The staging leftover is reported, then cleaned by the next restore, which completes.
    let dry = env.run(&["snapshot", "restore", "base", "--dry-run"]);
    dry.expect_code(0);
    assert!(dry.stdout.contains("second_c__ifctl_staging_"), "{}", dry.stdout);
    env.run(&["snapshot", "restore", "base", "--yes", "--no-backup"]).expect_code(0);
    assert_eq!(count(chroma.port, "second_c"), 3000);
    let all = api(chroma.port, "GET", "/collections", None);
    assert!(all.as_array().unwrap().iter().all(|c| !c["name"].as_str().unwrap().contains("__ifctl_")), "{all}");
}

/// Random f64 metadata (every magnitude: typical values, subnormals, ±1e±300, 0.1+0.2 …) comes
/// back through create → restore exactly as Chroma holds it; before serde_json's
/// `float_roundtrip`, ifctl's own parsing moved about one held value in 300 by an ulp.
///
/// Chroma's own text-to-float conversion moves ~10% of the floats a client sends (any client:
/// measured with JSON written by Python too) and, for extreme magnitudes, ~2% of the values it
/// already holds when they are written again. So the test holds ifctl to the exact values for
/// typical magnitudes, and for all values to exactly what Chroma makes of the same values written
/// by another client: ifctl adds no error of its own. The snapshot also records the journal's
/// head, which `journal verify` then checks as an anchor.
#[test]
fn float_metadata_round_trips_bit_for_bit() {
    use proptest::strategy::{Strategy, ValueTree};
    let (chroma, env) = chroma_env();
    env.run(&["journal", "note", "before the snapshot"]).expect_code(0);
    env.run(&["journal", "note", "still before the snapshot"]).expect_code(0);
    let typical = proptest::prop_oneof![
        0.0f64..1.0,
        (-6i32..6, -10.0f64..10.0).prop_map(|(e, m)| m * 10f64.powi(e)),
        proptest::strategy::Just(0.1 + 0.2),
        proptest::strategy::Just(3.012308262564835e-09),
        proptest::strategy::Just(2123.8429889999998),
    ];
    let extreme = proptest::prop_oneof![
        proptest::num::f64::NORMAL | proptest::num::f64::SUBNORMAL | proptest::num::f64::ZERO,
        (-300i32..300, -10.0f64..10.0).prop_map(|(e, m)| m * 10f64.powi(e)),
    ];
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let rows = 600;
    // Columns a, b: typical magnitudes; c, d: any.
    let values: Vec<[f64; 4]> = (0..rows)
        .map(|_| {
            let mut t = || typical.new_tree(&mut runner).unwrap().current();
            let (a, b) = (t(), t());
            let mut x = || extreme.new_tree(&mut runner).unwrap().current();
            [a, b, x(), x()]
        })
        .collect();
    let ids: Vec<String> = (0..rows).map(|i| format!("f{i}")).collect();
    let embeddings: Vec<[f32; 2]> = (0..rows).map(|i| [i as f32, 1.0]).collect();
    let load = |name: &str, values: &[[f64; 4]]| -> String {
        let created = api(
            chroma.port,
            "POST",
            "/collections",
            Some(json!({"name": name, "configuration": {"hnsw": {"space": "l2"}}})),
        );
        let id = created["id"].as_str().unwrap().to_string();
        let metadatas: Vec<Value> =
            values.iter().map(|v| json!({"a": v[0], "b": v[1], "c": v[2], "d": v[3], "name": "ünï"})).collect();
        for chunk in 0..rows / 200 {
            let r = chunk * 200..(chunk + 1) * 200;
            api(
                chroma.port,
                "POST",
                &format!("/collections/{id}/add"),
                Some(json!({"ids": &ids[r.clone()],
                "metadatas": &metadatas[r.clone()], "embeddings": &embeddings[r]})),
            );
        }
        id
    };
    let read_back = |name: &str| -> Vec<[f64; 4]> {
        let id = collection(chroma.port, name).unwrap()["id"].as_str().unwrap().to_string();
        let got = api(chroma.port, "POST", &format!("/collections/{id}/get"), Some(json!({"include": ["metadatas"]})));
        let mut by_id: Vec<(usize, [f64; 4])> = got["ids"]
            .as_array()
            .unwrap()
            .iter()
            .zip(got["metadatas"].as_array().unwrap())
            .map(|(i, m)| {
                let n: usize = i.as_str().unwrap()[1..].parse().unwrap();
                (n, ["a", "b", "c", "d"].map(|k| m[k].as_f64().unwrap()))
            })
            .collect();
        by_id.sort_by_key(|(n, _)| *n);
        by_id.into_iter().map(|(_, v)| v).collect()
    };
    let differing = |x: &[[f64; 4]], y: &[[f64; 4]], columns: std::ops::Range<usize>| -> Vec<(f64, f64)> {
        x.iter()
            .zip(y)
            .flat_map(|(p, q)| columns.clone().map(move |c| (p[c], q[c])))
            .filter(|(p, q)| p.to_bits() != q.to_bits())
            .collect()
    };
    load("floats", &values);
    let held = read_back("floats");
    // (Measured: Chroma holds about 540 of these 2,400 values as a neighbour of what was sent.)
    assert!(!differing(&values, &held, 0..4).is_empty(), "the fixture exercises Chroma's rounding");
    // What Chroma makes of the held values when another client writes them again.
    load("control", &held);
    let control = read_back("control");

    create(&env, "floats1", &["--collection", "floats"]);
    api(chroma.port, "DELETE", "/collections/floats", None);
    env.run(&["snapshot", "restore", "floats1", "--yes", "--no-backup"]).expect_code(0);
    let restored = read_back("floats");
    let moved = differing(&held, &restored, 0..2);
    assert!(
        moved.is_empty(),
        "{} typical values changed (held, restored): {:?}",
        moved.len(),
        &moved[..moved.len().min(8)]
    );
    let off = differing(&control, &restored, 0..4);
    assert!(
        off.is_empty(),
        "ifctl added error to {} values (direct write, restore): {:?}",
        off.len(),
        &off[..off.len().min(8)]
    );
    // (Measured: about 38 of the 1,200 extreme-magnitude values move again on any rewrite.)

    // The archive's metadata.json records the journal's head; `journal verify` checks it.
    let report = env.run(&["--output", "json", "journal", "verify"]);
    report.expect_code(0);
    let anchors = report.json()["anchors"].clone();
    assert!(
        anchors.as_array().unwrap().iter().any(|a| a["source"] == "snapshot floats1" && a["result"] == "matches"),
        "{anchors}"
    );
    // Cut the journal back before that head: the snapshot's anchor says events are missing.
    let journal = std::fs::read_to_string(env.journal()).unwrap();
    std::fs::write(env.journal(), format!("{}\n", journal.lines().next().unwrap())).unwrap();
    let run = env.run(&["journal", "verify"]);
    run.expect_code(4);
    assert!(run.stderr.contains("snapshot floats1") && run.stderr.contains("cut off"), "{}", run.stderr);
}

/// Four restores of four different collections at the same moment, two rounds: all succeed (they
/// used to delete each other's staging collections). A `--collection` restore touches nothing
/// else: collections that merely look like ifctl's leftovers are left alone. A second restore of
/// a collection being restored exits 6 naming the holder; with `--wait` it waits.
#[test]
fn concurrent_restores_of_different_collections_coexist() {
    let (chroma, env) = chroma_env();
    let names = ["alpha_c", "beta_c", "gamma_c", "delta_c"];
    for name in names {
        make_collection(chroma.port, name, "l2", 800, 16);
    }
    create(&env, "four", &[]);
    // Look-alikes ifctl never made: a user's collections with ifctl-like names.
    for name in ["gamma_c__ifctl_old_keep", "eps__ifctl_staging_manual", "delta_c__ifctl_old_archive"] {
        make_collection(chroma.port, name, "l2", 7, 16);
    }
    for round in 0..2 {
        let children: Vec<_> = names
            .iter()
            .map(|name| {
                env.command(&[
                    "snapshot",
                    "restore",
                    "four",
                    "--collection",
                    name,
                    "--yes",
                    "--no-backup",
                    "--batch-size",
                    "200",
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
            })
            .collect();
        for (name, child) in names.iter().zip(children) {
            let out = child.wait_with_output().unwrap();
            assert!(out.status.success(), "round {round}, {name}: {}", String::from_utf8_lossy(&out.stderr));
        }
        for name in names {
            assert_eq!(count(chroma.port, name), 800, "round {round}: {name}");
        }
    }
    for name in ["gamma_c__ifctl_old_keep", "eps__ifctl_staging_manual", "delta_c__ifctl_old_archive"] {
        assert_eq!(count(chroma.port, name), 7, "{name} is not ifctl's and must be left alone");
    }
    env.run(&["journal", "verify"]).expect_code(0);

    // The same collection twice: the second is refused while the first runs, naming it.
    let staged = || harness::read(&env.journal()).matches("snapshot.staging_created").count();
    let before = staged();
    let mut first = env
        .command(&[
            "snapshot",
            "restore",
            "four",
            "--collection",
            "beta_c",
            "--yes",
            "--no-backup",
            "--batch-size",
            "20",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    // Journaled once the first holds the collection's lock.
    while staged() == before {
        assert!(started.elapsed() < Duration::from_secs(30), "the first restore did not start");
        std::thread::sleep(Duration::from_millis(5));
    }
    let second = env.run(&["snapshot", "restore", "four", "--collection", "beta_c", "--yes", "--no-backup"]);
    second.expect_code(6);
    assert!(
        second.stderr.contains("collection `beta_c` is locked by pid") && second.stderr.contains("--wait"),
        "{}",
        second.stderr
    );
    let waited = env.run(&["snapshot", "restore", "four", "--collection", "beta_c", "--yes", "--no-backup", "--wait"]);
    waited.expect_code(0);
    assert!(first.wait().unwrap().success());
    assert_eq!(count(chroma.port, "beta_c"), 800);
}

/// Ids are read in pages; rows deleted in front of the reader (including the last id it
/// returned, and a row it has not reached) must not make it skip a row that stays.
#[test]
fn paged_ids_skip_nothing_when_rows_are_deleted_in_front() {
    use ifctl::clients::chroma::{ChromaClient, IdPages};
    let chroma = harness::chroma();
    let id = make_collection(chroma.port, "walk", "l2", 3000, 4);
    let client = ChromaClient::new(
        ifctl::clients::http::client(Duration::from_secs(30)),
        &format!("http://127.0.0.1:{}", chroma.port),
        "default_tenant",
        "default_database",
        Duration::from_secs(30),
    );
    let delete = |ids: Vec<String>| {
        api(chroma.port, "POST", &format!("/collections/{id}/delete"), Some(json!({ "ids": ids })));
    };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();

    // Plain offset paging in the same situation loses rows: the hazard is real.
    let naive_seen = runtime.block_on(async {
        let mut seen = Vec::new();
        let mut offset = 0;
        loop {
            let page = client.ids_page(&id, offset, 100).await.unwrap();
            offset += page.len() as u64;
            let done = page.len() < 100;
            if seen.is_empty() {
                delete((0..5).map(|i| format!("walk-{i:05}")).collect());
            }
            seen.extend(page);
            if done {
                return seen;
            }
        }
    });
    let naive: std::collections::HashSet<&String> = naive_seen.iter().collect();
    let skipped: Vec<String> = (5..3000).map(|i| format!("walk-{i:05}")).filter(|i| !naive.contains(i)).collect();
    assert_eq!(skipped, (100..105).map(|i| format!("walk-{i:05}")).collect::<Vec<_>>(), "offset paging skips rows");

    let mut deleted: std::collections::HashSet<String> = (0..5).map(|i| format!("walk-{i:05}")).collect();
    let seen = runtime.block_on(async {
        let mut pages = IdPages::new(&id, 100);
        let mut seen: Vec<String> = Vec::new();
        let mut round = 0;
        while let Some(page) = pages.next(&client).await.unwrap() {
            seen.extend(page.iter().cloned());
            round += 1;
            // Behind the reader: two rows already read, and every third round the anchor itself
            // and the three ids before it; ahead of it: one row not yet read.
            let mut gone: Vec<String> = seen.iter().rev().skip(10).step_by(37).take(2).cloned().collect();
            if round % 3 == 0 {
                gone.extend(page.iter().rev().take(4).cloned());
            }
            let ahead = format!("walk-{:05}", 2990 - round);
            gone.push(ahead);
            gone.retain(|g| deleted.insert(g.clone()));
            if !gone.is_empty() {
                delete(gone);
            }
        }
        seen
    });
    let unique: std::collections::HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no id twice");
    let kept: Vec<String> = (0..3000).map(|i| format!("walk-{i:05}")).filter(|i| !deleted.contains(i)).collect();
    let missing: Vec<&String> = kept.iter().filter(|i| !unique.contains(i)).collect();
    assert!(
        missing.is_empty(),
        "{} rows present throughout were skipped: {:?}",
        missing.len(),
        &missing[..missing.len().min(5)]
    );
    assert!(deleted.len() > 60, "the reader ran against real deletes ({})", deleted.len());
}

/// Retention never deletes what recovery needs: the snapshot a waiting migration checkpoint
/// works from, safety backups a recent operation took, one snapshot rollback can use; and
/// `disk_cleanup` does not prune while another process holds the destination.
#[test]
fn prune_and_disk_cleanup_keep_what_recovery_needs() {
    let (chroma, mut env) = chroma_env();
    make_collection(chroma.port, "small", "l2", 20, 4);
    let long_ago = (chrono::Utc::now() - chrono::Duration::days(10)).to_rfc3339();
    env.set("IFCTL_TEST_NOW", long_ago);
    create(&env, "pre-restore-20261101T000000Z", &["--collection", "small"]);
    env.unset("IFCTL_TEST_NOW");
    for name in ["nightly-a", "pre-migrate-20261120T000000Z", "pre-restore-20261121T000000Z", "nightly-b", "nightly-c"]
    {
        create(&env, name, &["--collection", "small"]);
    }
    let dest = env.state_dir().join("snapshots");
    std::fs::create_dir_all(env.state_dir().join("migrations")).unwrap();
    std::fs::write(
        env.state_dir().join("migrations/checkpoint.json"),
        json!({"spec_fingerprint": "f", "spec_path": "spec.toml", "snapshot": dest.join("nightly-a.tar.gz"),
               "tag": "t1", "started_at": "2026-11-25T00:00:00Z", "collections": []})
        .to_string(),
    )
    .unwrap();

    let run = env.run(&["--output", "json", "snapshot", "prune", "--keep-last", "1"]);
    run.expect_code(0);
    let decisions = run.json()["decisions"].clone();
    let decided = |name: &str| decisions.as_array().unwrap().iter().find(|d| d["name"] == name).unwrap().clone();
    assert_eq!(decided("nightly-a")["keep"], true, "{decisions:#}");
    assert!(decided("nightly-a")["reasons"][0].as_str().unwrap().contains("migration checkpoint"));
    assert_eq!(decided("pre-migrate-20261120T000000Z")["keep"], true);
    assert!(decided("pre-migrate-20261120T000000Z")["reasons"][0].as_str().unwrap().contains("snapshot.created"));
    assert_eq!(decided("pre-restore-20261121T000000Z")["keep"], true);
    assert_eq!(decided("nightly-c")["keep"], true);
    assert_eq!(decided("nightly-b")["keep"], false);
    assert_eq!(decided("pre-restore-20261101T000000Z")["keep"], false, "older than 7 days and not needed");
    let left: Vec<String> = env
        .run(&["--output", "json", "snapshot", "list"])
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(left.len(), 4, "{left:?}");

    // disk_cleanup with the destination held by someone else: it leaves the snapshots alone.
    env.write_config("[recovery.system]\nsnapshot_keep_last = 1\n");
    env.set("IFCTL_DISK_PATHS", "/");
    std::fs::remove_file(env.state_dir().join("migrations/checkpoint.json")).unwrap();
    let mut holder = std::process::Command::new("flock")
        .arg("-o")
        .arg(dest.join(".ifctl-snapshot.lock"))
        .args(["sleep", "60"])
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let probe = env.run(&["snapshot", "prune", "--keep-last", "9"]);
        if probe.code == 6 {
            break;
        }
        assert!(Instant::now() < deadline, "flock never took the lock");
        std::thread::sleep(Duration::from_millis(50));
    }
    let run = env.run(&["--output", "json", "recover", "-c", "system", "--strategy", "disk_cleanup"]);
    run.expect_code(0);
    let actions = run.json()["actions"].to_string();
    assert!(actions.contains("did not prune snapshots") && actions.contains("locked"), "{actions}");
    assert_eq!(env.run(&["--output", "json", "snapshot", "list"]).json().as_array().unwrap().len(), 4);
    holder.kill().unwrap();
    holder.wait().unwrap();

    // Free again: it prunes, and the safety backups of the last days stay.
    let run = env.run(&["--output", "json", "recover", "-c", "system", "--strategy", "disk_cleanup"]);
    run.expect_code(0);
    let left: Vec<String> = env
        .run(&["--output", "json", "snapshot", "list"])
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(left, vec!["pre-migrate-20261120T000000Z", "pre-restore-20261121T000000Z", "nightly-c"]);
}

/// Two operators on two hosts share one Chroma (here: two state dirs, so the local lock files do
/// not see each other). The lock record on the server excludes the second while the first holds
/// it; when the first stops refreshing (SIGSTOP) past `chromadb.lock_stale_after`, the second
/// takes over, journaled; the first, resumed, finds out before its swap and swaps nothing. Then
/// four hosts restore the same collection at once with --wait: each runs in turn, all succeed.
#[test]
fn hosts_sharing_one_chroma_exclude_each_other_and_take_over_stale_locks() {
    let chroma = harness::chroma();
    make_collection(chroma.port, "shared", "l2", 3000, 8);
    let host = || {
        let mut env = Env::new();
        env.set("IFCTL_CHROMADB_URL", format!("http://127.0.0.1:{}", chroma.port));
        env.write_config("[chromadb]\nlock_stale_after = \"3s\"\n");
        env
    };
    let (a, b) = (host(), host());
    create(&a, "base", &[]);
    let archive = a.state_dir().join("snapshots/base.tar.gz");
    let archive = archive.to_str().unwrap();
    let lock_records = || {
        let path = "/api/v2/tenants/default_tenant/databases/ifctl_locks/collections";
        let (_, text) = harness::http(chroma.port, "GET", path, None, None).unwrap();
        serde_json::from_str::<Value>(&text).unwrap_or(Value::Null)
    };

    // A pauses with its staging loaded, before its swap, and is stopped there: a holder that
    // goes silent at the worst moment.
    let marker = a.home.path().join("paused");
    let first = a
        .command(&["snapshot", "restore", archive, "--yes", "--no-backup", "--batch-size", "50"])
        .env("IFCTL_TEST_PAUSE_AT", "restore.loaded")
        .env("IFCTL_TEST_PAUSE_FILE", &marker)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = first.id();
    let started = Instant::now();
    while !marker.exists() {
        assert!(started.elapsed() < Duration::from_secs(60), "A never reached its swap");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(lock_records().to_string().contains("default_database__shared__lock_g1"));
    assert!(std::process::Command::new("kill").args(["-STOP", &pid.to_string()]).status().unwrap().success());
    std::fs::remove_file(&marker).unwrap();

    let refused = b.run(&["snapshot", "restore", archive, "--yes", "--no-backup"]);
    refused.expect_code(6);
    assert!(
        refused.stderr.contains("locked on the Chroma server") && refused.stderr.contains(&format!("pid {pid}")),
        "{}",
        refused.stderr
    );

    // Stale after 3 s without a refresh: --wait takes it over and restores.
    let taken = b.run(&["snapshot", "restore", archive, "--yes", "--no-backup", "--wait"]);
    taken.expect_code(0);
    assert!(taken.elapsed >= Duration::from_secs(1), "it waited for the record to go stale");
    let takeover = b.run(&["--output", "json", "history", "--kind", "lock.taken_over"]).json();
    assert_eq!(takeover.as_array().unwrap().len(), 1, "{takeover}");
    assert!(takeover[0]["details"]["stale_holder"].as_str().unwrap().contains(&format!("pid {pid}")));
    assert_eq!(takeover[0]["details"]["collection"], "shared");

    assert!(std::process::Command::new("kill").args(["-CONT", &pid.to_string()]).status().unwrap().success());
    let out = first.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(6), "{stderr}");
    assert!(stderr.contains("taken over") && stderr.contains("nothing was swapped"), "{stderr}");
    assert_eq!(count(chroma.port, "shared"), 3000);

    // Four hosts at once, waiting their turn.
    let hosts: Vec<Env> = (0..4).map(|_| host()).collect();
    let children: Vec<_> = hosts
        .iter()
        .map(|h| {
            h.command(&["snapshot", "restore", archive, "--yes", "--no-backup", "--wait"])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    }
    assert_eq!(count(chroma.port, "shared"), 3000);
    let all = api(chroma.port, "GET", "/collections", None);
    assert_eq!(all.as_array().unwrap().len(), 1, "only `shared`, no leftovers: {all}");
    let records = lock_records();
    assert!(records.as_array().unwrap().len() <= 2, "old generations are cleaned up: {records}");
    assert!(records.to_string().contains("\"released\""), "{records}");
}

/// A restore killed (SIGKILL, by the test build's crash points) at every phase boundary leaves a
/// state the next run explains — the dry run names each leftover and what it will do with it —
/// and the next run finishes, with nothing left over.
#[test]
fn restore_killed_at_every_phase_boundary_is_explained_and_finished_by_the_next_run() {
    use std::os::unix::process::ExitStatusExt;
    let (chroma, mut env) = chroma_env();
    let id = make_collection(chroma.port, "crashy", "l2", 300, 8);
    create(&env, "base", &[]);
    let leftovers = || -> Vec<String> {
        let all = api(chroma.port, "GET", "/collections", None);
        all.as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_string())
            .filter(|n| n.contains("__ifctl_"))
            .collect()
    };
    // (crash point, rows in `crashy` after the crash (None: the name is missing), repairs named)
    let points: [(&str, Option<u64>, &[&str]); 6] = [
        ("restore.staging_created", Some(299), &["delete"]),
        ("restore.loaded", Some(299), &["delete"]),
        ("snapshot.swap.journaled", Some(299), &["delete"]),
        ("snapshot.swap.between_renames", None, &["delete", "rename_back"]),
        ("snapshot.swap.renamed", Some(300), &["delete"]),
        ("restore.swapped", Some(300), &[]),
    ];
    for (round, (point, rows_after, repairs)) in points.into_iter().enumerate() {
        let live_id = collection(chroma.port, "crashy").map_or(id.clone(), |c| c["id"].as_str().unwrap().to_string());
        api(
            chroma.port,
            "POST",
            &format!("/collections/{live_id}/delete"),
            Some(json!({"ids": [format!("crashy-{:05}", round * 7)]})),
        );
        assert_eq!(count(chroma.port, "crashy"), 299);
        env.set("IFCTL_TEST_CRASH_AT", point);
        let crashed = env.command(&["snapshot", "restore", "base", "--yes", "--no-backup"]).output().unwrap();
        env.unset("IFCTL_TEST_CRASH_AT");
        assert_eq!(crashed.status.signal(), Some(9), "{point}: {}", String::from_utf8_lossy(&crashed.stderr));
        assert_eq!(collection(chroma.port, "crashy").map(|_| count(chroma.port, "crashy")), rows_after, "{point}");

        let dry = env.run(&["--output", "json", "snapshot", "restore", "base", "--dry-run"]);
        dry.expect_code(0);
        let mut said: Vec<String> = dry.json()["plan"]["repairs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["action"].as_str().unwrap().to_string())
            .collect();
        said.sort();
        assert_eq!(said, repairs, "{point}: {}", dry.stdout);
        assert_eq!(said.len(), leftovers().len(), "{point}: every leftover is explained: {:?}", leftovers());

        env.run(&["snapshot", "restore", "base", "--yes", "--no-backup"]).expect_code(0);
        assert_eq!(count(chroma.port, "crashy"), 300, "{point}");
        assert!(leftovers().is_empty(), "{point}: {:?}", leftovers());
    }
}

/// `verify --deep` killed with its scratch copy on the server: the next deep check removes that
/// copy (the journal proves it was ifctl's, its process is gone) and passes; a look-alike that
/// ifctl did not make is left alone.
#[test]
fn deep_verify_cleans_up_its_own_killed_scratch_copies_only() {
    use std::os::unix::process::ExitStatusExt;
    let (chroma, mut env) = chroma_env();
    make_collection(chroma.port, "deep", "l2", 200, 8);
    create(&env, "base", &[]);
    api(chroma.port, "POST", "/collections", Some(json!({"name": "deep__ifctl_verify_notours"})));
    env.set("IFCTL_TEST_CRASH_AT", "verify.scratch_loaded");
    let crashed = env.command(&["snapshot", "verify", "base", "--deep"]).output().unwrap();
    env.unset("IFCTL_TEST_CRASH_AT");
    assert_eq!(crashed.status.signal(), Some(9), "{}", String::from_utf8_lossy(&crashed.stderr));
    let names = || -> Vec<String> {
        let mut n: Vec<String> = api(chroma.port, "GET", "/collections", None)
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_string())
            .collect();
        n.sort();
        n
    };
    assert_eq!(names().len(), 3, "the killed check left its scratch copy: {:?}", names());

    env.run(&["snapshot", "verify", "base", "--deep"]).expect_code(0);
    assert_eq!(names(), vec!["deep", "deep__ifctl_verify_notours"]);
    let repaired = env.run(&["--output", "json", "history", "--kind", "snapshot.repaired"]).json();
    assert_eq!(repaired.as_array().unwrap().len(), 1, "{repaired}");
    assert!(repaired[0]["details"]["leftover"].as_str().unwrap().starts_with("deep__ifctl_verify_2"));
}

/// A restore that would change how a live collection is searched — its dimension or distance
/// space — or apply HNSW parameters far beyond Chroma's defaults is refused unless the operator
/// says `--allow-index-change`; the dry run shows source server, tenant, database and the change.
#[test]
fn restore_refuses_a_shape_or_index_change_unless_told() {
    let (chroma, env) = chroma_env();
    make_collection(chroma.port, "target", "l2", 30, 4);
    create(&env, "small", &[]);
    // The live collection is now a different shape: inner product, 8 dimensions.
    api(chroma.port, "DELETE", "/collections/target", None);
    make_collection(chroma.port, "target", "ip", 10, 8);
    let dry = env.run(&["snapshot", "restore", "small", "--dry-run", "--allow-index-change"]);
    dry.expect_code(0);
    assert!(
        dry.stdout.contains("ip -> l2")
            && dry.stdout.contains("8 -> 4")
            && dry.stdout.contains("tenant `default_tenant`"),
        "{}",
        dry.stdout
    );
    let run = env.run(&["snapshot", "restore", "small", "--yes"]);
    run.expect_code(2);
    assert!(
        run.stderr.contains("`target` dimension 8 -> 4") && run.stderr.contains("distance space ip -> l2"),
        "{}",
        run.stderr
    );
    assert_eq!(count(chroma.port, "target"), 10, "nothing was changed");
    env.run(&["snapshot", "restore", "small", "--yes", "--no-backup", "--allow-index-change"]).expect_code(0);
    assert_eq!(count(chroma.port, "target"), 30);

    // HNSW parameters beyond the limits, even for a collection that does not exist live.
    api(
        chroma.port,
        "POST",
        "/collections",
        Some(json!({"name": "heavy", "configuration": {"hnsw": {"space": "l2", "ef_construction": 5000}}})),
    );
    let id = api(chroma.port, "GET", "/collections/heavy", None)["id"].as_str().unwrap().to_string();
    api(
        chroma.port,
        "POST",
        &format!("/collections/{id}/add"),
        Some(json!({"ids": ["a"], "embeddings": [[1.0, 2.0]]})),
    );
    create(&env, "heavy", &["--collection", "heavy"]);
    api(chroma.port, "DELETE", "/collections/heavy", None);
    let run = env.run(&["snapshot", "restore", "heavy", "--yes"]);
    run.expect_code(2);
    assert!(run.stderr.contains("hnsw.ef_construction = 5000, outside 1…2000"), "{}", run.stderr);
}

/// Random damage to a valid archive — flipped bytes, cuts, inserted bytes, anywhere — never
/// crashes `snapshot verify`: it exits 4 naming what is wrong, or 0 when the damage touched nothing
/// the checksums cover (the gzip header's mtime, say), and a restore of such an archive gives back
/// exactly the rows.
#[test]
fn randomly_damaged_archives_are_refused_or_intact_never_a_crash() {
    use proptest::strategy::{Strategy, ValueTree};
    let (chroma, env) = chroma_env();
    make_collection(chroma.port, "target", "l2", 40, 4);
    let snap = create(&env, "base", &[]);
    let good = std::fs::read(snap["path"].as_str().unwrap()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let damage = (0usize..3, 0.0f64..1.0, proptest::num::u8::ANY, 1usize..64);
    let (mut refused, mut intact) = (0, 0);
    let mut last_intact = None;
    for round in 0..48 {
        let (kind, at, byte, len) = damage.new_tree(&mut runner).unwrap().current();
        let pos = ((good.len() as f64) * at) as usize;
        let mut bytes = good.clone();
        match kind {
            0 => bytes[pos.min(good.len() - 1)] ^= byte.max(1),
            1 => bytes.truncate(pos),
            _ => {
                let insert: Vec<u8> = (0..len).map(|i| byte.wrapping_add(i as u8)).collect();
                bytes.splice(pos..pos, insert);
            }
        }
        let path = dir.path().join(format!("damaged-{round}.tar.gz"));
        std::fs::write(&path, &bytes).unwrap();
        let run = env.run(&["snapshot", "verify", path.to_str().unwrap()]);
        assert!(!run.stderr.contains("panicked"), "round {round} ({kind}, {pos}): {}", run.stderr);
        match run.code {
            4 => {
                assert!(run.stderr.contains("error:"), "round {round}: {}", run.stderr);
                refused += 1;
            }
            0 => {
                intact += 1;
                last_intact = Some(path);
            }
            other => panic!("round {round} ({kind} at {pos}): exit {other}: {}", run.stderr),
        }
    }
    assert!(refused > 30, "{refused} refused, {intact} intact");
    if let Some(path) = last_intact {
        env.run(&["snapshot", "restore", path.to_str().unwrap(), "--yes", "--no-backup"]).expect_code(0);
        assert_eq!(count(chroma.port, "target"), 40);
    }
    let leftovers: Vec<_> = std::fs::read_dir(env.state_dir().join("tmp")).unwrap().collect();
    assert!(leftovers.is_empty(), "private unpack dirs are removed: {leftovers:?}");
}

/// `snapshot create` into a full filesystem (a 256 KiB tmpfs): exit 1 saying the disk is full and
/// where, no archive (partial or whole) left visible, no temporary files left behind. Needs root
/// for the mount; the CI machine is.
#[test]
fn create_into_a_full_filesystem_fails_cleanly() {
    if !rustix::process::geteuid().is_root() {
        return; // mounting a tmpfs needs root; the CI machine runs as root
    }
    let (chroma, mut env) = chroma_env();
    make_collection(chroma.port, "big", "l2", 3000, 64);
    let full = env.home.path().join("full");
    std::fs::create_dir_all(&full).unwrap();
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=256k", "tmpfs"])
        .arg(&full)
        .status()
        .unwrap();
    assert!(mounted.success(), "cannot mount a tmpfs as root");
    struct Unmount(std::path::PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount").arg(&self.0).status();
        }
    }
    let _unmount = Unmount(full.clone());
    env.set("IFCTL_SNAPSHOT_DIR", full.display().to_string());
    let run = env.run(&["snapshot", "create", "--name", "nightly"]);
    run.expect_code(1);
    assert!(
        run.stderr.contains("No space left on device") && run.stderr.contains(&full.display().to_string()),
        "{}",
        run.stderr
    );
    let left: Vec<String> = std::fs::read_dir(&full)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != ".ifctl-snapshot.lock")
        .collect();
    assert!(left.is_empty(), "left behind in the full destination: {left:?}");
    let tmp = std::fs::read_dir(env.state_dir().join("tmp")).map(|d| d.flatten().count()).unwrap_or(0);
    assert_eq!(tmp, 0, "temporary files left in the state dir");
    let listed = env.run(&["--output", "json", "snapshot", "list"]).json();
    assert_eq!(listed.as_array().unwrap().len(), 0, "{listed}");
}
