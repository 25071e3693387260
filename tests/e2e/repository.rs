//! Snapshot repositories in object storage (a real S3 server: moto) and age encryption (checked
//! with the real `age` CLI): every verb remotely, the repository lock across processes, a killed
//! holder, stale and forced takeovers, and each fault with its exit code.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::harness::{self, Env, Server, s3};
use crate::snapshot::{count, make_collection};

/// Chroma, moto with bucket `bkt`, and an env whose repository is `s3://bkt/nightly`.
fn s3_stack() -> (Server, Server, Env) {
    let chroma = harness::chroma();
    let moto = harness::moto();
    assert_eq!(s3(moto.port, "PUT", "/bkt", None).0, 200);
    let mut env = Env::new();
    env.set("IFCTL_CHROMADB_URL", format!("http://127.0.0.1:{}", chroma.port));
    for (k, v) in [
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
    ] {
        env.set(k, v);
    }
    env.write_config(&format!(
        "[snapshots]\nrepository = \"s3://bkt/nightly\"\nendpoint = \"http://127.0.0.1:{}\"\nallow_http = true\n",
        moto.port
    ));
    (chroma, moto, env)
}

fn keys(dir: &Path) -> (String, std::path::PathBuf) {
    let key = dir.join("key.txt");
    let out = std::process::Command::new("age-keygen").arg("-o").arg(&key).output().expect("age-keygen (Debian `age`)");
    assert!(out.status.success());
    let public = std::process::Command::new("age-keygen").arg("-y").arg(&key).output().unwrap();
    (String::from_utf8(public.stdout).unwrap().trim().to_string(), key)
}

fn objects(port: u16) -> String {
    s3(port, "GET", "/bkt?list-type=2&prefix=nightly/", None).1
}

fn open_uploads(port: u16) -> usize {
    s3(port, "GET", "/bkt?uploads", None).1.matches("<UploadId>").count()
}

fn events(env: &Env, kind: &str) -> Vec<Value> {
    env.run(&["--output", "json", "history", "--kind", kind]).json().as_array().unwrap().clone()
}

/// `snapshot create --name NAME` in the background, paused (test hook) just before it sends its
/// first part — lock taken, upload started — until the test removes `pause`.
fn paused_at_first_part(env: &Env, name: &str, pause: &Path) -> std::process::Child {
    let child = env
        .command(&["snapshot", "create", "--name", name])
        .env("IFCTL_TEST_PAUSE_AT", "snapshot.upload_part.0")
        .env("IFCTL_TEST_PAUSE_FILE", pause)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while !pause.exists() {
        assert!(started.elapsed() < Duration::from_secs(60), "create `{name}` never reached its upload");
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

fn no_leftovers(env: &Env) {
    let tmp = env.state_dir().join("tmp");
    let names: Vec<String> = std::fs::read_dir(&tmp)
        .map(|d| d.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    // The scratch dir's lock file stays (a lock, not a leftover); work dirs must not.
    let leftovers: Vec<&String> =
        names.iter().filter(|n| n.starts_with(".ifctl-") && *n != ".ifctl-snapshot.lock").collect();
    assert!(leftovers.is_empty(), "leftovers in {}: {leftovers:?}", tmp.display());
}

#[test]
fn s3_repository_create_list_verify_restore_prune() {
    let (chroma, moto, env) = s3_stack();
    let port = chroma.port;
    make_collection(port, "s3_a", "l2", 1500, 32);
    make_collection(port, "s3_b", "cosine", 300, 32);

    let run = env.run(&["--output", "json", "snapshot", "create", "--name", "one"]);
    run.expect_code(0);
    let created = run.json();
    assert_eq!(created["path"], "s3://bkt/nightly/one.tar.gz");
    assert_eq!((created["repository"].as_str(), created["rows"].as_u64()), (Some("s3://bkt/nightly"), Some(1800)));
    let listing = objects(moto.port);
    assert!(listing.contains("<Key>nightly/one.tar.gz</Key>"), "{listing}");
    assert!(!listing.contains(".ifctl/uploads/"), "the upload marker is removed when complete: {listing}");
    assert!(!listing.contains(".ifctl/lock.json"), "the lock is released: {listing}");
    assert_eq!(open_uploads(moto.port), 0);
    assert!(!env.state_dir().join("snapshots/one.tar.gz").exists(), "nothing is written to the local dir");

    let listed = env.run(&["--output", "json", "snapshot", "list"]).json();
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!((listed[0]["name"].as_str(), listed[0]["rows"].as_u64()), (Some("one"), Some(1800)));
    assert_eq!(listed[0]["collections"], json!(["s3_a", "s3_b"]));
    assert_eq!(listed[0]["checksums"], true);
    let table = env.run(&["snapshot", "list"]);
    table.expect_code(0);
    assert!(table.stdout.contains("one") && table.stdout.contains("1800"), "{}", table.stdout);

    let verified = env.run(&["snapshot", "verify", "one"]);
    verified.expect_code(0);
    assert!(verified.stdout.contains("is intact"), "{}", verified.stdout);

    // Damage, then restore from the bucket; the backup of the live data stays on this host.
    harness::http(
        port,
        "DELETE",
        "/api/v2/tenants/default_tenant/databases/default_database/collections/s3_b",
        None,
        None,
    )
    .unwrap();
    let run = env.run(&["--output", "json", "snapshot", "restore", "one", "--yes"]);
    run.expect_code(0);
    let restored = run.json();
    assert_eq!(restored["archive"], "s3://bkt/nightly/one.tar.gz");
    assert_eq!((count(port, "s3_a"), count(port, "s3_b")), (1500, 300));
    let backup = restored["backup"]["path"].as_str().unwrap();
    assert!(backup.starts_with(&env.state_dir().join("snapshots").display().to_string()), "{backup}");

    // Encrypted ones beside it: listed without the key (dated by the time in their name, never by
    // the object's, which every copy or sync changes), verified with it.
    let dir = tempfile::tempdir().unwrap();
    let (recipient, key) = keys(dir.path());
    env.run(&["snapshot", "create", "--name", "undated", "--recipient", &recipient]).expect_code(0);
    let run = env.run(&["--output", "json", "snapshot", "create", "--recipient", &recipient]);
    run.expect_code(0);
    let sealed_name = run.json()["name"].as_str().unwrap().to_string();
    assert!(sealed_name.starts_with("snap-"), "{sealed_name}");
    assert!(objects(moto.port).contains(&format!("<Key>nightly/{sealed_name}.tar.gz.age</Key>")));
    let listed = env.run(&["--output", "json", "snapshot", "list"]).json();
    let sealed = listed.as_array().unwrap().iter().find(|s| s["name"] == sealed_name.as_str()).unwrap().clone();
    assert_eq!(
        (sealed["encrypted"].as_bool(), sealed["bytes"].as_u64().unwrap() > 1000),
        (Some(true), true),
        "{sealed}"
    );
    let stamp = &sealed_name["snap-".len()..];
    let dated = chrono::NaiveDateTime::parse_from_str(stamp, "%Y%m%dT%H%M%SZ").unwrap().and_utc();
    assert_eq!(sealed["created_at"], json!(dated), "{sealed}");
    let undated = listed.as_array().unwrap().iter().find(|s| s["name"] == "undated").unwrap().clone();
    assert_eq!(undated["created_at"], Value::Null, "{undated}");
    env.run(&["snapshot", "verify", &sealed_name, "--identity", key.to_str().unwrap()]).expect_code(0);

    // Stray objects in the prefix — empty, not an archive, a non-ASCII name holding a real
    // archive — are listed with their problem (or read correctly); they never stop list or prune.
    let junk = dir.path().join("junk");
    std::fs::write(&junk, "not an archive").unwrap();
    let empty = dir.path().join("empty");
    std::fs::write(&empty, "").unwrap();
    let real = dir.path().join("real.tar.gz");
    assert_eq!(harness::s3_get_file(moto.port, "/bkt/nightly/one.tar.gz", &real), 200);
    for (key, body) in [("junk.tar.gz", &junk), ("zero.tar.gz", &empty), ("%C3%BCn%C3%AFcode.tar.gz", &real)] {
        assert_eq!(s3(moto.port, "PUT", &format!("/bkt/nightly/{key}"), Some(body)).0, 200);
    }
    let run = env.run(&["--output", "json", "snapshot", "list"]);
    run.expect_code(0);
    let listed = run.json();
    let find = |name: &str| listed.as_array().unwrap().iter().find(|s| s["name"] == name).cloned().unwrap();
    assert!(find("junk")["problem"].as_str().is_some(), "{listed}");
    assert_eq!(find("zero")["problem"], "an empty object", "{listed}");
    assert_eq!(find("ünïcode")["rows"], 1800, "{listed}");

    // Retention per repository: keep the newest; the older plain ones go; an encrypted one it
    // cannot date, and what it cannot read, are kept, and say why.
    let pruned = env.run(&["--output", "json", "snapshot", "prune", "--keep-last", "1"]);
    pruned.expect_code(0);
    let decisions = pruned.json()["decisions"].as_array().unwrap().clone();
    let kept_undated = decisions.iter().find(|d| d["name"] == "undated").unwrap();
    assert_eq!(kept_undated["keep"], true, "{kept_undated}");
    assert!(kept_undated["reasons"][0].as_str().unwrap().contains("undated"), "{kept_undated}");
    let left = env.run(&["--output", "json", "snapshot", "list"]).json();
    let mut names: Vec<&str> = left.as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    names.sort();
    assert_eq!(names, ["junk", sealed_name.as_str(), "undated", "zero"]);
    assert!(!objects(moto.port).contains("nightly/one.tar.gz"));
    let pruned = events(&env, "snapshot.pruned");
    assert_eq!(pruned[0]["details"]["dest"], "s3://bkt/nightly");
    let mut deleted: Vec<String> = serde_json::from_value(pruned[0]["details"]["deleted"].clone()).unwrap();
    deleted.sort();
    assert_eq!(deleted, ["one", "ünïcode"]);
    no_leftovers(&env);
    env.run(&["journal", "verify"]).expect_code(0);
}

#[test]
fn encrypted_snapshots_open_with_the_age_cli_and_refuse_wrong_keys_and_tampering() {
    let chroma = harness::chroma();
    let mut env = Env::new();
    env.set("IFCTL_CHROMADB_URL", format!("http://127.0.0.1:{}", chroma.port));
    make_collection(chroma.port, "sealed", "l2", 700, 16);
    let dir = tempfile::tempdir().unwrap();
    let (recipient, key) = keys(dir.path());
    let key_arg = key.to_str().unwrap();

    // --encrypt with nothing configured is a usage error that says what to configure.
    let run = env.run(&["snapshot", "create", "--name", "nokey", "--encrypt"]);
    run.expect_code(2);
    assert!(run.stderr.contains("snapshots.encryption.recipients"), "{}", run.stderr);

    let run = env.run(&["--output", "json", "snapshot", "create", "--name", "enc", "--recipient", &recipient]);
    run.expect_code(0);
    let archive = std::path::PathBuf::from(run.json()["path"].as_str().unwrap());
    assert!(archive.ends_with("snapshots/enc.tar.gz.age"), "{archive:?}");

    // The standard CLI decrypts it: `age -d -i key.txt snap.tar.gz.age | tar -tz`.
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("age -d -i '{}' '{}' | tar -tz", key.display(), archive.display()))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let members = String::from_utf8_lossy(&out.stdout);
    for member in ["enc/checksums.sha256", "enc/metadata.json", "enc/collections/sealed.parquet"] {
        assert!(members.lines().any(|l| l == member), "{member} missing from:\n{members}");
    }

    // Listed without the key; verify needs it, refuses a wrong one, passes with the right one.
    let listed = env.run(&["--output", "json", "snapshot", "list"]).json();
    assert_eq!((listed[0]["name"].as_str(), listed[0]["encrypted"].as_bool()), (Some("enc"), Some(true)));
    let run = env.run(&["snapshot", "verify", "enc"]);
    run.expect_code(2);
    assert!(run.stderr.contains("--identity"), "{}", run.stderr);
    let other = tempfile::tempdir().unwrap();
    let (_, wrong) = keys(other.path());
    let run = env.run(&["snapshot", "verify", "enc", "--identity", wrong.to_str().unwrap()]);
    run.expect_code(4);
    assert!(run.stderr.contains("wrong key"), "{}", run.stderr);
    env.run(&["snapshot", "verify", "enc", "--identity", key_arg]).expect_code(0);

    // One changed byte in the middle, or a cut-off file: exit 4, and restore touches nothing.
    let bytes = std::fs::read(&archive).unwrap();
    let mut altered = bytes.clone();
    let middle = altered.len() / 2;
    altered[middle] ^= 0x01;
    let before = count(chroma.port, "sealed");
    for (label, damaged) in [("altered", altered), ("truncated", bytes[..bytes.len() * 2 / 3].to_vec())] {
        let path = env.state_dir().join(format!("snapshots/{label}.tar.gz.age"));
        std::fs::write(&path, damaged).unwrap();
        let run = env.run(&["snapshot", "verify", label, "--identity", key_arg]);
        run.expect_code(4);
        assert!(run.stderr.contains("altered or truncated"), "{label}: {}", run.stderr);
        env.run(&["snapshot", "restore", label, "--identity", key_arg, "--yes"]).expect_code(4);
        assert_eq!(count(chroma.port, "sealed"), before);
    }

    // Recipients in the config encrypt every create; a passphrase file works both ways.
    let pass = dir.path().join("passphrase");
    std::fs::write(&pass, "correct horse battery staple\n").unwrap();
    // Like every secret file, refused while every user may read it.
    env.write_config(&format!("[snapshots.encryption]\npassphrase_file = \"{}\"\n", pass.display()));
    let run = env.run(&["snapshot", "create", "--name", "readable"]);
    run.expect_code(2);
    assert!(run.stderr.contains("chmod 600"), "{}", run.stderr);
    std::fs::set_permissions(&pass, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    env.write_config(&format!("[snapshots.encryption]\nrecipients = [\"{recipient}\"]\n"));
    env.run(&["snapshot", "create", "--name", "configured"]).expect_code(0);
    assert!(env.state_dir().join("snapshots/configured.tar.gz.age").exists());
    env.write_config(&format!("[snapshots.encryption]\npassphrase_file = \"{}\"\n", pass.display()));
    env.run(&["snapshot", "create", "--name", "withpass"]).expect_code(0);
    env.run(&["snapshot", "verify", "withpass"]).expect_code(0);
    harness::http(
        chroma.port,
        "DELETE",
        "/api/v2/tenants/default_tenant/databases/default_database/collections/sealed",
        None,
        None,
    )
    .unwrap();
    env.run(&["snapshot", "restore", "withpass", "--yes"]).expect_code(0);
    assert_eq!(count(chroma.port, "sealed"), 700);
    no_leftovers(&env);
}

#[test]
fn one_writer_per_repository_and_dead_or_stale_holders_are_taken_over() {
    let (chroma, moto, env) = s3_stack();
    make_collection(chroma.port, "locked", "l2", 800, 16);
    let pause = env.home.path().join("pause");

    // Two creates at once from two processes: the second is refused, naming the first.
    let first = paused_at_first_part(&env, "first", &pause);
    let run = env.run(&["snapshot", "create", "--name", "second"]);
    run.expect_code(6);
    assert!(run.stderr.contains(&format!("pid {}", first.id())), "{}", run.stderr);
    assert!(run.stderr.contains("--wait") && run.stderr.contains("snapshot unlock"), "{}", run.stderr);
    env.run(&["snapshot", "prune", "--keep-last", "5"]).expect_code(6);
    let waiting = env
        .command(&["snapshot", "create", "--name", "second", "--wait"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    std::fs::remove_file(&pause).unwrap();
    assert!(first.wait_with_output().unwrap().status.success());
    let waiting = waiting.wait_with_output().unwrap();
    assert!(waiting.status.success(), "{}", String::from_utf8_lossy(&waiting.stderr));
    let listing = objects(moto.port);
    assert!(listing.contains("nightly/first.tar.gz") && listing.contains("nightly/second.tar.gz"), "{listing}");

    // kill -9 of the holder mid-upload: nothing visible, the lock and an open upload are left;
    // the next create takes the lock over at once (its holder here is gone) and journals it;
    // prune aborts the dead upload.
    let mut crashed = env
        .command(&["snapshot", "create", "--name", "crashed"])
        .env("IFCTL_TEST_CRASH_AT", "snapshot.upload_part.0")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let crashed_pid = crashed.id();
    assert!(!crashed.wait().unwrap().success());
    assert_eq!(s3(moto.port, "HEAD", "/bkt/nightly/.ifctl/lock.json", None).0, 200);
    assert_eq!(open_uploads(moto.port), 1);
    let listed = env.run(&["--output", "json", "snapshot", "list"]).json();
    assert!(listed.as_array().unwrap().iter().all(|s| s["name"] != "crashed"), "{listed}");
    // Run again under the same name: its own upload and marker do not hide the dead one's.
    let run = env.run(&["snapshot", "create", "--name", "crashed"]);
    run.expect_code(0);
    assert!(run.stderr.contains("took over the lock"), "{}", run.stderr);
    let taken = events(&env, "snapshot.lock_taken_over");
    assert_eq!(taken[0]["details"]["previous"]["pid"], crashed_pid);
    let run = env.run(&["--output", "json", "snapshot", "prune", "--keep-last", "10"]);
    run.expect_code(0);
    assert_eq!(run.json()["aborted_uploads"], json!(["crashed.tar.gz"]));
    assert_eq!(open_uploads(moto.port), 0);
    assert!(!objects(moto.port).contains(".ifctl/uploads/"));

    // A holder whose record was replaced meanwhile (it stalled, another took over) finds out
    // before it makes anything visible: exit 6, the upload aborted, the other's lock left alone.
    let pause = env.home.path().join("pause-lost");
    let child = paused_at_first_part(&env, "lost", &pause);
    let other = json!({"id": "someone-else", "host": "db-3", "pid": 77, "user": "ops", "action": "ifctl snapshot prune",
        "since": chrono::Utc::now(), "refreshed": chrono::Utc::now()});
    let other_file = env.home.path().join("other-lock.json");
    std::fs::write(&other_file, other.to_string()).unwrap();
    assert_eq!(s3(moto.port, "PUT", "/bkt/nightly/.ifctl/lock.json", Some(&other_file)).0, 200);
    std::fs::remove_file(&pause).unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(6), "{stderr}");
    assert!(stderr.contains("lost the lock"), "{stderr}");
    assert!(!objects(moto.port).contains("nightly/lost.tar.gz"));
    assert_eq!(open_uploads(moto.port), 0);
    assert!(s3(moto.port, "GET", "/bkt/nightly/.ifctl/lock.json", None).1.contains("someone-else"));
    assert_eq!(s3(moto.port, "DELETE", "/bkt/nightly/.ifctl/lock.json", None).0, 204);

    // Two nightly runs in the same second with --wait (cron on two hosts): both succeed, under
    // two names picked under the lock.
    let spawn = || {
        env.command(&["--output", "json", "snapshot", "create", "--wait"])
            .stderr(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert!(
        a.status.success() && b.status.success(),
        "{}{}",
        String::from_utf8_lossy(&a.stderr),
        String::from_utf8_lossy(&b.stderr)
    );
    let name = |o: &std::process::Output| {
        serde_json::from_slice::<Value>(&o.stdout).unwrap()["name"].as_str().unwrap().to_string()
    };
    assert_ne!(name(&a), name(&b));

    // Another host's lock: stale (an hour without a refresh) is taken over; fresh is refused,
    // named, and removed only by a person with a reason.
    let record = |refreshed: chrono::DateTime<chrono::Utc>| {
        json!({"id": "other", "host": "db-2", "pid": 4242, "user": "ops", "action": "ifctl snapshot create nightly",
               "since": refreshed, "refreshed": refreshed})
    };
    let lock_file = env.home.path().join("lock.json");
    std::fs::write(&lock_file, record(chrono::Utc::now() - chrono::Duration::hours(1)).to_string()).unwrap();
    assert_eq!(s3(moto.port, "PUT", "/bkt/nightly/.ifctl/lock.json", Some(&lock_file)).0, 200);
    env.run(&["snapshot", "create", "--name", "over-stale"]).expect_code(0);
    let taken = events(&env, "snapshot.lock_taken_over");
    assert_eq!((taken[1]["details"]["previous"]["host"].as_str(), taken.len()), (Some("db-2"), 2), "{taken:?}");
    std::fs::write(&lock_file, record(chrono::Utc::now()).to_string()).unwrap();
    assert_eq!(s3(moto.port, "PUT", "/bkt/nightly/.ifctl/lock.json", Some(&lock_file)).0, 200);
    let run = env.run(&["snapshot", "create", "--name", "refused"]);
    run.expect_code(6);
    assert!(run.stderr.contains("pid 4242 on db-2"), "{}", run.stderr);
    env.run(&["snapshot", "unlock"]).expect_code(2);
    let run = env.run(&["snapshot", "unlock", "--reason", "db-2 was decommissioned"]);
    run.expect_code(0);
    assert!(run.stdout.contains("pid 4242 on db-2"), "{}", run.stdout);
    let unlocked = events(&env, "snapshot.unlocked");
    assert_eq!(unlocked[0]["details"]["reason"], "db-2 was decommissioned");
    assert_eq!(unlocked[0]["details"]["previous"]["host"], "db-2");
    env.run(&["snapshot", "create", "--name", "refused"]).expect_code(0);
    env.run(&["journal", "verify"]).expect_code(0);
}

#[test]
fn repository_faults_are_named_with_their_exit_codes() {
    let (chroma, mut moto, mut env) = s3_stack();
    make_collection(chroma.port, "faulty", "l2", 600, 16);
    env.run(&["snapshot", "create", "--name", "good"]).expect_code(0);

    // A bucket that does not exist: configuration, exit 2, with a hint.
    for args in
        [&["snapshot", "list", "--repo", "s3://nobucket/x"][..], &["snapshot", "create", "--repo", "s3://nobucket/x"]]
    {
        let run = env.run(args);
        run.expect_code(2);
        assert!(
            run.stderr.contains("bucket does not exist") && run.stderr.contains("snapshots.repository"),
            "{}",
            run.stderr
        );
    }
    // Repositories that cannot be: a scheme, credentials in the URL (never echoed), plain http.
    let run = env.run(&["snapshot", "list", "--repo", "ftp://host/x"]);
    run.expect_code(2);
    assert!(run.stderr.contains("not supported"), "{}", run.stderr);
    let run = env.run(&["snapshot", "list", "--repo", "s3://AKIAEXAMPLE:hunter2secret@bkt/x"]);
    run.expect_code(2);
    assert!(run.stderr.contains("environment") && !run.stderr.contains("hunter2secret"), "{}", run.stderr);

    // Credentials the server does not know: named as such, exit 3, the secret never printed.
    let strict = harness::moto_checking_keys();
    env.set("AWS_SECRET_ACCESS_KEY", "s3cr3t-never-printed");
    let strict_repo = "--repo=s3://bkt/nightly".to_string();
    env.write_config(&format!("[snapshots]\nendpoint = \"http://127.0.0.1:{}\"\nallow_http = true\n", strict.port));
    for args in [
        &["snapshot", "list", &strict_repo][..],
        &["snapshot", "create", &strict_repo],
        &["snapshot", "verify", "good", &strict_repo],
    ] {
        let run = env.run(args);
        run.expect_code(3);
        assert!(run.stderr.contains("refused the credentials"), "{}", run.stderr);
        // The server's own words, when its answer has a body (HEAD has none).
        if args[1] == "list" {
            assert!(run.stderr.contains("InvalidAccessKeyId: The AWS Access Key Id"), "{}", run.stderr);
        }
        assert!(!run.stderr.contains("s3cr3t-never-printed") && !run.stdout.contains("s3cr3t-never-printed"));
    }
    drop(strict);
    env.set("AWS_SECRET_ACCESS_KEY", "test");
    env.write_config(&format!(
        "[snapshots]\nrepository = \"s3://bkt/nightly\"\nendpoint = \"http://127.0.0.1:{}\"\nallow_http = true\n",
        moto.port
    ));

    // A truncated or altered object: exit 4, nothing restored.
    let dir = tempfile::tempdir().unwrap();
    let local = dir.path().join("good.tar.gz");
    assert_eq!(harness::s3_get_file(moto.port, "/bkt/nightly/good.tar.gz", &local), 200);
    let bytes = std::fs::read(&local).unwrap();
    let mut altered = bytes.clone();
    let at = altered.len() * 3 / 4;
    altered[at] ^= 0x40;
    for (name, body) in [("cut", bytes[..bytes.len() / 2].to_vec()), ("flipped", altered)] {
        let file = dir.path().join(name);
        std::fs::write(&file, body).unwrap();
        assert_eq!(s3(moto.port, "PUT", &format!("/bkt/nightly/{name}.tar.gz"), Some(&file)).0, 200);
        env.run(&["snapshot", "verify", name]).expect_code(4);
        env.run(&["snapshot", "restore", name, "--yes"]).expect_code(4);
        assert_eq!(count(chroma.port, "faulty"), 600);
    }

    // Ctrl-C mid-upload: exit 130, the upload aborted, its marker and the lock removed.
    let pause = env.home.path().join("pause-int");
    let child = paused_at_first_part(&env, "interrupted", &pause);
    assert_eq!(open_uploads(moto.port), 1);
    let pid = rustix::process::Pid::from_raw(child.id() as i32).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::INT).unwrap();
    std::fs::remove_file(&pause).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(open_uploads(moto.port), 0, "the interrupted upload is aborted");
    let listing = objects(moto.port);
    assert!(!listing.contains(".ifctl/") && !listing.contains("interrupted"), "{listing}");

    // Object storage killed mid-upload: exit 1 in bounded time, nothing visible afterwards.
    let pause = env.home.path().join("pause");
    let child = paused_at_first_part(&env, "interrupted", &pause);
    let moto_port = moto.port;
    moto.kill();
    let killed_at = Instant::now();
    std::fs::remove_file(&pause).unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(killed_at.elapsed() < Duration::from_secs(60), "took {:?}", killed_at.elapsed());
    assert!(stderr.contains("uploading") && stderr.contains("s3://bkt/nightly"), "{stderr}");
    let _moto = harness::moto_on(moto_port);
    assert_eq!(s3(moto_port, "PUT", "/bkt", None).0, 200);
    assert_eq!(env.run(&["--output", "json", "snapshot", "list"]).json(), json!([]));

    // An endpoint nobody listens on: exit 3, quickly.
    let closed = harness::closed_port();
    env.write_config(&format!(
        "[snapshots]\nrepository = \"s3://bkt/nightly\"\nendpoint = \"http://127.0.0.1:{}\"\nallow_http = true\n",
        closed.port
    ));
    let run = env.run(&["snapshot", "list"]);
    run.expect_code(3);
    assert!(
        run.stderr.contains("unreachable") && run.elapsed < Duration::from_secs(15),
        "{:?} {}",
        run.elapsed,
        run.stderr
    );
    // http:// without allow_http: refused before any request.
    env.write_config(&format!(
        "[snapshots]\nrepository = \"s3://bkt/nightly\"\nendpoint = \"http://127.0.0.1:{}\"\n",
        closed.port
    ));
    let run = env.run(&["snapshot", "list"]);
    run.expect_code(2);
    assert!(run.stderr.contains("allow_http"), "{}", run.stderr);
}
