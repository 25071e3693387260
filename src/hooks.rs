//! Test-build-only hooks (cargo feature `test-hooks`, which the end-to-end tests enable; the
//! release binary has none of this):
//!
//! - `IFCTL_TEST_NOW`: an RFC 3339 time that the clock returns, so tests can drive cooldowns,
//!   budgets and expiries across processes;
//! - `IFCTL_TEST_CRASH_AT`: the name of a phase boundary ([`crash_point`]); the process sends
//!   itself SIGKILL there, as a power cut or `kill -9` would, so tests can check what every
//!   crash window leaves behind;
//! - `IFCTL_TEST_HANG_AT`: the name of a call that may block ([`hang_point`]); the calling thread
//!   blocks there for good, as a `statvfs` on a mount whose server is gone does, so tests can
//!   check that nothing else waits for it;
//! - `IFCTL_TEST_PAUSE_AT` + `IFCTL_TEST_PAUSE_FILE`: at the named [`pause_point`] the process
//!   creates the file and waits until the test removes it, so a test can change the world at an
//!   exact moment (swap a directory for a link between a check and its use).

/// The fixed time `IFCTL_TEST_NOW` asks for, in test builds.
#[cfg(feature = "test-hooks")]
pub fn fixed_now() -> Option<chrono::DateTime<chrono::Utc>> {
    static FIXED: std::sync::OnceLock<Option<chrono::DateTime<chrono::Utc>>> = std::sync::OnceLock::new();
    *FIXED.get_or_init(|| {
        std::env::var("IFCTL_TEST_NOW")
            .ok()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(&t).ok())
            .map(|t| t.with_timezone(&chrono::Utc))
    })
}

/// Always `None` outside test builds: the environment is not even read.
#[cfg(not(feature = "test-hooks"))]
pub fn fixed_now() -> Option<chrono::DateTime<chrono::Utc>> {
    None
}

/// A named phase boundary: in test builds, dies by SIGKILL here when `IFCTL_TEST_CRASH_AT`
/// names it (and pauses here when `IFCTL_TEST_PAUSE_AT` does). Names are `<operation>.<boundary>`, e.g. `restore.between_renames`.
#[cfg(feature = "test-hooks")]
pub fn crash_point(name: impl std::fmt::Display) {
    let name = name.to_string();
    pause_point(&name); // every crash point is a pause point too
    if std::env::var("IFCTL_TEST_CRASH_AT").is_ok_and(|at| at == name) {
        let _ = rustix::process::kill_process(rustix::process::getpid(), rustix::process::Signal::KILL);
        std::thread::sleep(std::time::Duration::from_secs(60));
    }
}

/// Nothing outside test builds; a name built with `format_args!` costs nothing either.
#[cfg(not(feature = "test-hooks"))]
#[inline(always)]
pub fn crash_point(_name: impl std::fmt::Display) {}

/// A call that may block in the real world: in test builds, blocks the calling thread for good
/// when `IFCTL_TEST_HANG_AT` names it (a comma-separated list).
#[cfg(feature = "test-hooks")]
pub fn hang_point(name: impl std::fmt::Display) {
    let name = name.to_string();
    if std::env::var("IFCTL_TEST_HANG_AT").is_ok_and(|at| at.split(',').any(|a| a == name)) {
        loop {
            std::thread::sleep(std::time::Duration::from_secs(3600));
        }
    }
}

/// Nothing outside test builds.
#[cfg(not(feature = "test-hooks"))]
#[inline(always)]
pub fn hang_point(_name: impl std::fmt::Display) {}

/// In test builds, waits at this point while the test acts (see the module docs).
#[cfg(feature = "test-hooks")]
pub fn pause_point(name: impl std::fmt::Display) {
    if !std::env::var("IFCTL_TEST_PAUSE_AT").is_ok_and(|at| at == name.to_string()) {
        return;
    }
    if let Some(marker) = std::env::var_os("IFCTL_TEST_PAUSE_FILE").map(std::path::PathBuf::from) {
        let _ = std::fs::write(&marker, b"paused");
        let started = std::time::Instant::now();
        while marker.exists() && started.elapsed() < std::time::Duration::from_secs(30) {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }
}

/// Nothing outside test builds.
#[cfg(not(feature = "test-hooks"))]
#[inline(always)]
pub fn pause_point(_name: impl std::fmt::Display) {}
