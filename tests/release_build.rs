//! A build without the `test-hooks` feature (the release binary) ignores the test hooks' variables:
//! the clock is the system clock even with `IFCTL_TEST_NOW` set.
#![cfg(not(feature = "test-hooks"))]

use std::process::Command;

#[test]
fn the_test_clock_is_ignored_without_the_test_hooks_feature() {
    let home = tempfile::tempdir().unwrap();
    let run = Command::new(env!("CARGO_BIN_EXE_ifctl"))
        .env_clear()
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env("XDG_STATE_HOME", home.path().join("state"))
        .env("IFCTL_TEST_NOW", "2001-01-01T00:00:00Z")
        .env("IFCTL_TEST_CRASH_AT", "disable.recorded")
        .args(["disable", "--component", "redis", "--for", "5m", "--reason", "release build check"])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(0), "{}", String::from_utf8_lossy(&run.stderr));
    let journal = std::fs::read_to_string(home.path().join("state/ifctl/journal.jsonl")).unwrap();
    assert!(journal.contains("release build check"), "{journal}");
    assert!(!journal.contains("\"2001-"), "the test clock leaked into a release build: {journal}");
    let year = chrono::Utc::now().format("\"%Y-").to_string();
    assert!(journal.contains(&year), "{journal}");
}
