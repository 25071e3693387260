//! `snapshot prune`: retention like restic's `forget` — keep the last N, and the newest snapshot
//! of each of the last N days and weeks; never the newest snapshot of all, never a snapshot that
//! recovery still needs (see [`Protected`]), and always one that a rollback can use.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use chrono::Datelike;
use serde::Serialize;

use super::list::Listed;

#[derive(Debug, Clone, Copy, Default)]
pub struct Retention {
    pub keep_last: Option<usize>,
    pub keep_daily: Option<usize>,
    pub keep_weekly: Option<usize>,
}

impl Retention {
    pub fn is_empty(&self) -> bool {
        self.keep_last.is_none() && self.keep_daily.is_none() && self.keep_weekly.is_none()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Decision {
    pub name: String,
    pub keep: bool,
    /// Why it is kept (`last`, `daily 2026-11-24`, `weekly 2026-W47`, `newest`, `unreadable`).
    pub reasons: Vec<String>,
}

/// Safety backups: what a restore, rollback or migration replaced, taken just before it.
pub const SAFETY_PREFIXES: [&str; 4] = ["pre-restore-", "pre-rollback-", "pre-migrate-", "pre-rebuild-"];

/// How long a safety backup stays protected after the journal last mentions it.
pub const SAFETY_DAYS: i64 = 7;

pub fn is_safety_backup(name: &str) -> bool {
    SAFETY_PREFIXES.iter().any(|p| name.starts_with(p))
}

/// Whether the automatic `snapshot_rollback` may restore this snapshot: dated, with checksums,
/// and not a backup of state that a restore or rollback replaced (possibly the bad data itself).
/// A `pre-migrate-` backup holds the data as it was before a migration and is usable.
pub fn rollback_usable(s: &Listed) -> bool {
    s.created_at.is_some()
        && s.checksums
        && s.problem.is_none()
        && !s.name.starts_with("pre-restore-")
        && !s.name.starts_with("pre-rollback-")
}

/// Snapshots that no retention rule may delete, with the reason.
#[derive(Debug, Clone, Default)]
pub struct Protected {
    pub names: BTreeMap<String, String>,
    /// A repository that `snapshot_rollback` does not read (object storage: rollback uses this
    /// host's `snapshots.dir`), so nothing need be kept for it.
    pub not_for_rollback: bool,
}

impl Protected {
    /// What recovery still needs in `dest`: the snapshot a waiting migration checkpoint works
    /// from (`<state_dir>/migrations/checkpoint.json`), and safety backups that a journal event
    /// of the last [`SAFETY_DAYS`] days mentions (the operation that took them, a rollback that
    /// used them). A checkpoint that cannot be read protects every safety backup: prune does not
    /// guess.
    pub fn find(snapshots: &[Listed], state_dir: &Path, journal: &Path) -> Protected {
        let mut names = BTreeMap::new();
        let checkpoint = state_dir.join("migrations").join("checkpoint.json");
        match crate::migrate::checkpoint::Checkpoint::load(&checkpoint) {
            Ok(Some(ck)) => {
                for s in snapshots {
                    if s.path.file_name().is_some_and(|f| Some(f) == ck.snapshot.file_name()) {
                        names.insert(s.name.clone(), format!("needed by the migration checkpoint (tag {})", ck.tag));
                    }
                }
            }
            Ok(None) => {}
            Err(_) => {
                for s in snapshots.iter().filter(|s| is_safety_backup(&s.name)) {
                    names.insert(s.name.clone(), "a migration checkpoint exists but cannot be read".into());
                }
            }
        }
        let since = crate::journal::now() - chrono::Duration::days(SAFETY_DAYS);
        for s in snapshots.iter().filter(|s| is_safety_backup(&s.name)) {
            if names.contains_key(&s.name) {
                continue;
            }
            if let Some(event) = crate::journal::newest_mentioning(journal, &s.name, since, |_| true) {
                names.insert(
                    s.name.clone(),
                    format!("safety backup of `{}` at {}", event.kind, crate::journal::format_ts(&event.ts)),
                );
            }
        }
        Protected { names, not_for_rollback: false }
    }
}

/// Decides, for snapshots listed oldest first, which to keep. Unreadable snapshots are kept:
/// prune never deletes what it cannot date.
pub fn plan(snapshots: &[Listed], retention: Retention, protected: &Protected) -> Vec<Decision> {
    let mut decisions: Vec<Decision> =
        snapshots.iter().map(|s| Decision { name: s.name.clone(), keep: false, reasons: Vec::new() }).collect();
    // Newest first, dated ones only.
    let mut order: Vec<usize> = (0..snapshots.len()).filter(|&i| snapshots[i].created_at.is_some()).collect();
    order.sort_by(|&a, &b| snapshots[b].created_at.cmp(&snapshots[a].created_at));
    for (i, s) in snapshots.iter().enumerate() {
        if s.created_at.is_none() {
            decisions[i].keep = true;
            let why = if s.encrypted { "undated (encrypted, no time in its name)" } else { "unreadable" };
            decisions[i].reasons.push(why.into());
        }
    }
    if let Some(&newest) = order.first() {
        decisions[newest].keep = true;
        decisions[newest].reasons.push("newest".into());
    }
    if let Some(n) = retention.keep_last {
        for &i in order.iter().take(n) {
            decisions[i].keep = true;
            decisions[i].reasons.push("last".into());
        }
    }
    let mut by_bucket = |n: Option<usize>, label: &str, bucket: &dyn Fn(&Listed) -> String| {
        let Some(n) = n else { return };
        let mut seen = BTreeSet::new();
        for &i in &order {
            if seen.len() >= n {
                break;
            }
            let key = bucket(&snapshots[i]);
            if seen.insert(key.clone()) {
                decisions[i].keep = true;
                decisions[i].reasons.push(format!("{label} {key}"));
            }
        }
    };
    by_bucket(retention.keep_daily, "daily", &|s| {
        s.created_at.map(|t| t.format("%Y-%m-%d").to_string()).unwrap_or_default()
    });
    by_bucket(retention.keep_weekly, "weekly", &|s| {
        s.created_at.map(|t| format!("{}-W{:02}", t.iso_week().year(), t.iso_week().week())).unwrap_or_default()
    });
    for (i, s) in snapshots.iter().enumerate() {
        if let Some(why) = protected.names.get(&s.name) {
            decisions[i].keep = true;
            decisions[i].reasons.push(why.clone());
        }
    }
    // Something must remain for `snapshot_rollback`.
    if !protected.not_for_rollback && !(0..snapshots.len()).any(|i| decisions[i].keep && rollback_usable(&snapshots[i]))
    {
        if let Some(&i) = order.iter().find(|&&i| rollback_usable(&snapshots[i])) {
            decisions[i].keep = true;
            decisions[i].reasons.push("newest usable by rollback".into());
        }
    }
    decisions
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn snap(name: &str, y: i32, m: u32, d: u32, h: u32) -> Listed {
        Listed {
            name: name.into(),
            path: name.into(),
            created_at: Some(Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap()),
            collections: vec![],
            rows: 0,
            bytes: 0,
            checksums: true,
            encrypted: false,
            problem: None,
            target: None,
            journal_head: None,
            location: None,
        }
    }

    fn kept(decisions: &[Decision]) -> Vec<&str> {
        decisions.iter().filter(|d| d.keep).map(|d| d.name.as_str()).collect()
    }

    #[test]
    fn keep_last_and_daily_like_restic() {
        let snaps = vec![
            snap("a", 2026, 11, 20, 1),
            snap("b", 2026, 11, 21, 1),
            snap("c", 2026, 11, 21, 22),
            snap("d", 2026, 11, 22, 1),
            snap("e", 2026, 11, 23, 1),
            snap("f", 2026, 11, 23, 5),
        ];
        let none = Protected::default();
        let last2 = plan(&snaps, Retention { keep_last: Some(2), ..Default::default() }, &none);
        assert_eq!(kept(&last2), vec!["e", "f"]);
        let daily3 = plan(&snaps, Retention { keep_daily: Some(3), ..Default::default() }, &none);
        assert_eq!(kept(&daily3), vec!["c", "d", "f"], "the newest of each of the last 3 days");
        let weekly = plan(&snaps, Retention { keep_weekly: Some(2), ..Default::default() }, &none);
        // 2026-11-20..22 is ISO week 47, 23 starts week 48.
        assert_eq!(kept(&weekly), vec!["d", "f"]);
    }

    #[test]
    fn newest_and_unreadable_are_never_pruned() {
        let mut snaps = vec![snap("old", 2026, 1, 1, 0), snap("new", 2026, 2, 1, 0)];
        let mut broken = snap("broken", 2026, 1, 15, 0);
        broken.created_at = None;
        snaps.push(broken);
        let decisions = plan(&snaps, Retention { keep_last: Some(0), ..Default::default() }, &Protected::default());
        assert_eq!(kept(&decisions), vec!["new", "broken"]);
    }

    #[test]
    fn protected_ones_and_one_rollback_target_survive_any_rule() {
        let snaps = vec![
            snap("nightly-1", 2026, 11, 20, 1),
            snap("nightly-2", 2026, 11, 21, 1),
            snap("pre-migrate-20261122T010000Z", 2026, 11, 22, 1),
            snap("pre-restore-20261123T010000Z", 2026, 11, 23, 1),
            snap("pre-rollback-20261124T010000Z", 2026, 11, 24, 1),
        ];
        let keep1 = Retention { keep_last: Some(1), ..Default::default() };
        // The newest is a pre-rollback backup: rollback cannot use it, so the newest snapshot it
        // can use (the pre-migrate one) is kept as well.
        let decisions = plan(&snaps, keep1, &Protected::default());
        assert_eq!(kept(&decisions), vec!["pre-migrate-20261122T010000Z", "pre-rollback-20261124T010000Z"]);
        assert_eq!(decisions[2].reasons, vec!["newest usable by rollback"]);

        let mut protected = Protected::default();
        protected.names.insert("nightly-1".into(), "needed by the migration checkpoint (tag t)".into());
        let decisions = plan(&snaps, keep1, &protected);
        assert_eq!(
            kept(&decisions),
            vec!["nightly-1", "pre-rollback-20261124T010000Z"],
            "the checkpoint's snapshot is usable by rollback, so nothing else is needed"
        );
        assert!(decisions[0].reasons[0].contains("checkpoint"));
    }
}
