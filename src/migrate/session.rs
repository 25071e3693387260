//! The decisions around one real (not dry) run of `migrate`: which checkpoint it continues, how it
//! starts, and how it ends — finished, rolled back, or stopped with its checkpoint kept. The
//! command translates arguments, calls these, and renders what they return.

use std::future::Future;
use std::path::Path;

use serde_json::{Value, json};

use super::checkpoint::Checkpoint;
use super::spec::Spec;
use super::{Finished, RunOptions, new_checkpoint, rollback, run};
use crate::clients::chroma::ChromaClient;
use crate::journal::{Journal, NewEvent};
use crate::snapshot::archive::Unpacked;
use crate::snapshot::{Progress, SnapshotError};

/// Why a run may not start as asked: a usage error with the way forward.
#[derive(Debug)]
pub struct Refusal {
    pub message: String,
    pub hint: Option<&'static str>,
}

/// The checkpoint a run continues (`None`: a fresh run), from `--resume` and what is on disk.
pub fn continued(
    resume: bool,
    existing: Option<Checkpoint>,
    spec: &Spec,
    checkpoint_path: &Path,
) -> Result<Option<Checkpoint>, Refusal> {
    match (resume, existing) {
        (true, None) => Err(Refusal { message: "there is no interrupted migration to resume".into(), hint: None }),
        // A rollback in progress needs no spec (it restores from the snapshot): finish it whatever
        // the spec says now; its checkpoint is the only record of what is swapped.
        (true, Some(ck)) if ck.rolling_back.is_some() => Ok(Some(ck)),
        (true, Some(ck)) if ck.spec_fingerprint != spec.fingerprint() => Err(Refusal {
            message: format!(
                "the spec changed since the interrupted migration started (checkpoint `{}`); resume with the same spec, or remove the checkpoint to start over",
                checkpoint_path.display()
            ),
            hint: None,
        }),
        (true, Some(ck)) => Ok(Some(ck)),
        (false, Some(ck)) => Err(Refusal {
            message: format!(
                "an interrupted migration from {} is waiting (checkpoint `{}`)",
                crate::journal::format_ts(&ck.started_at),
                checkpoint_path.display()
            ),
            hint: Some(if ck.rolling_back.is_some() {
                "its rollback did not finish: finish it with --resume (it rolls back, it does not migrate on)"
            } else {
                "continue it with --resume, or remove the checkpoint to start over"
            }),
        }),
        (false, None) => Ok(None),
    }
}

/// A fresh run's checkpoint, saved and journaled (`migration.started`) before anything changes.
pub fn start(
    spec: &Spec,
    spec_path: &Path,
    snapshot: &Path,
    unpacked: &Unpacked,
    checkpoint_path: &Path,
    journal: &Journal,
) -> Result<Checkpoint, SnapshotError> {
    let ck = new_checkpoint(spec, spec_path, snapshot, unpacked)?;
    ck.save(checkpoint_path)?;
    journal.append(NewEvent::new("migration.started", "started").component("chromadb").details(json!({
        "spec": spec_path, "spec_fingerprint": ck.spec_fingerprint, "snapshot": snapshot,
        "collections": ck.collections.iter().map(|c| &c.name).collect::<Vec<_>>(),
    })))?;
    Ok(ck)
}

/// How a run ended.
#[derive(Debug)]
pub enum Ending {
    /// Migrated and verified; the checkpoint is gone.
    Finished(Finished),
    /// Something would have been lost or a check failed: rolled back (`undone` says what was
    /// undone, or why the rollback itself failed — then the checkpoint is kept).
    RolledBack { reason: String, undone: Result<Value, SnapshotError> },
    /// Stopped by an error or an interruption; the checkpoint is kept for `--resume`.
    Stopped(SnapshotError),
}

/// Runs (or, when an earlier run began rolling back, finishes that rollback) and ends the run:
/// journals how it ended and keeps or removes the checkpoint. `interrupt` resolving stops it.
pub async fn drive(
    chroma: &ChromaClient,
    opts: &RunOptions<'_>,
    ck: &mut Checkpoint,
    journal: &Journal,
    progress: &dyn Progress,
    interrupt: impl Future<Output = ()>,
    on_rollback: &dyn Fn(&str),
) -> Result<Ending, SnapshotError> {
    // A rollback that an earlier run began (and did not finish) is finished, never migrated past.
    let outcome = match ck.rolling_back.clone() {
        Some(reason) => Err(SnapshotError::Integrity(reason)),
        None => tokio::select! {
            done = run(chroma, opts, ck, journal, progress) => done,
            _ = interrupt => Err(SnapshotError::Interrupted),
        },
    };
    match outcome {
        Ok(finished) => {
            journal.append(NewEvent::new("migration.finished", "ok").component("chromadb").details(json!({
                "spec": opts.spec_path, "snapshot": opts.snapshot, "collections": finished.collections,
                "validation_passed": finished.validation.passed,
            })))?;
            Checkpoint::remove(&opts.checkpoint_path);
            Ok(Ending::Finished(finished))
        }
        Err(SnapshotError::Integrity(reason)) => {
            on_rollback(&reason);
            ck.rolling_back = Some(reason.clone());
            ck.save(&opts.checkpoint_path)?;
            crate::hooks::crash_point("rollback.marked");
            let undone = rollback(chroma, ck, &opts.snapshot, opts.config, journal, progress).await;
            let details = match &undone {
                Ok(done) => json!({"reason": reason, "snapshot": opts.snapshot, "rollback": done}),
                Err(e) => json!({"reason": reason, "snapshot": opts.snapshot, "rollback_error": e.to_string()}),
            };
            journal.append(
                NewEvent::new("migration.rolled_back", if undone.is_ok() { "ok" } else { "failed" })
                    .component("chromadb")
                    .details(details),
            )?;
            // A failed rollback keeps its checkpoint: it says what is swapped and what is not.
            if undone.is_ok() {
                Checkpoint::remove(&opts.checkpoint_path);
            }
            Ok(Ending::RolledBack { reason, undone })
        }
        Err(other) => {
            let _ = journal.append(
                NewEvent::new("migration.checkpoint", "stopped")
                    .component("chromadb")
                    .details(json!({"error": other.to_string(), "checkpoint": opts.checkpoint_path})),
            );
            Ok(Ending::Stopped(other))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> Spec {
        Spec::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/migration/sergio-v2.toml")).unwrap()
    }

    fn checkpoint(spec: &Spec, rolling_back: Option<&str>) -> Checkpoint {
        Checkpoint {
            spec_fingerprint: spec.fingerprint(),
            spec_path: "spec.toml".into(),
            snapshot: "pre-migrate.tar.gz".into(),
            tag: "20261125000000".into(),
            started_at: chrono::Utc::now(),
            collections: Vec::new(),
            rolling_back: rolling_back.map(String::from),
        }
    }

    #[test]
    fn which_checkpoint_a_run_continues() {
        let (spec, path) = (spec(), Path::new("/state/migrations/checkpoint.json"));
        assert!(continued(false, None, &spec, path).unwrap().is_none(), "a fresh run");
        assert!(continued(true, Some(checkpoint(&spec, None)), &spec, path).unwrap().is_some(), "a resumed run");
        let nothing = continued(true, None, &spec, path).unwrap_err();
        assert!(nothing.message.contains("no interrupted migration"), "{nothing:?}");
        let mut other = checkpoint(&spec, None);
        other.spec_fingerprint = "another spec".into();
        let changed = continued(true, Some(other), &spec, path).unwrap_err();
        assert!(changed.message.contains("the spec changed") && changed.message.contains(path.to_str().unwrap()));
        let waiting = continued(false, Some(checkpoint(&spec, None)), &spec, path).unwrap_err();
        assert!(waiting.hint.unwrap().contains("continue it with --resume"), "{waiting:?}");
        // A half-done rollback is never "continued" as a migration: the hint says it rolls back.
        let rolling = continued(false, Some(checkpoint(&spec, Some("validation failed"))), &spec, path).unwrap_err();
        assert!(rolling.hint.unwrap().contains("rollback did not finish"), "{rolling:?}");
        // ... and `--resume` finishes it even if the spec was edited meanwhile.
        let mut edited = checkpoint(&spec, Some("validation failed"));
        edited.spec_fingerprint = "the spec before the edit".into();
        assert!(continued(true, Some(edited), &spec, path).unwrap().is_some_and(|ck| ck.rolling_back.is_some()));
    }
}
