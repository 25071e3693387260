//! Blocking work — file I/O and fsync, flock, `statvfs`, unpacking an archive — moved off the
//! async threads onto tokio's blocking pool, with a deadline, so a hung disk or mount stalls only
//! the caller that needs the answer, never a loop, a probe of another component or an HTTP handler.

use std::time::Duration;

/// The longest a journal read or append may take before the caller gives up on it.
pub const JOURNAL_DEADLINE: Duration = Duration::from_secs(10);

/// Blocking work that did not finish in time (it goes on in the background) or panicked.
#[derive(Debug, thiserror::Error)]
#[error("{what} did not finish within {} (a hung disk or mount?)", humantime::format_duration(*limit))]
pub struct Stalled {
    pub what: String,
    pub limit: Duration,
}

impl Stalled {
    /// As a journal error (`action` the journal, e.g. "append to"), for callers that report those.
    pub fn journal_error(self, action: &'static str, path: &std::path::Path) -> crate::journal::JournalError {
        crate::journal::JournalError::Io {
            action,
            path: path.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::TimedOut, self.to_string()),
        }
    }
}

/// Runs `work` on the blocking pool and waits at most `limit` for it.
pub async fn run<T: Send + 'static>(
    what: impl Into<String>,
    limit: Duration,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Stalled> {
    let what = what.into();
    match tokio::time::timeout(limit, tokio::task::spawn_blocking(work)).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(panic)) => Err(Stalled { what: format!("{what} (it panicked: {panic})"), limit }),
        Err(_) => Err(Stalled { what, limit }),
    }
}

/// Appends to the journal from async code without blocking the thread.
pub async fn append(
    journal: &crate::journal::Journal,
    event: crate::journal::NewEvent,
) -> Result<crate::journal::Event, crate::journal::JournalError> {
    let handle = journal.clone();
    run("a journal append", JOURNAL_DEADLINE, move || handle.append(event))
        .await
        .unwrap_or_else(|stalled| Err(stalled.journal_error("append to", journal.path())))
}

/// The recovery state as of now (see [`crate::recovery::state::derive`]), read off the async
/// threads.
pub async fn recovery_state(
    journal: &crate::journal::Journal,
    config: &crate::config::Config,
) -> Result<crate::recovery::state::RecoveryState, crate::journal::JournalError> {
    let (path, horizon) = (journal.path().to_path_buf(), crate::recovery::horizon(config));
    let target = config.target.clone();
    let io = |source| crate::journal::JournalError::Io { action: "read", path: journal.path().into(), source };
    run("reading the recovery state", JOURNAL_DEADLINE, move || {
        crate::recovery::state::derive(&path, crate::journal::now(), horizon, target.as_deref())
    })
    .await
    .map_err(|stalled| stalled.journal_error("read", journal.path()))?
    .map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "current_thread")]
    async fn a_hung_call_is_abandoned_at_its_deadline_and_the_thread_is_free() {
        let started = std::time::Instant::now();
        let hung = run("a test call", Duration::from_millis(100), || std::thread::sleep(Duration::from_secs(5))).await;
        assert!(hung.unwrap_err().to_string().contains("a test call did not finish within 100ms"));
        assert!(started.elapsed() < Duration::from_secs(1));
        assert_eq!(run("quick", Duration::from_secs(1), || 7).await.unwrap(), 7);
    }
}
