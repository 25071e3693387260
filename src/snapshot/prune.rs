//! `snapshot prune`: retention like restic's `forget` — keep the last N, and the newest snapshot
//! of each of the last N days and weeks; never the newest snapshot of all.

use std::collections::BTreeSet;

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

/// Decides, for snapshots listed oldest first, which to keep. Unreadable snapshots are kept:
/// prune never deletes what it cannot date.
pub fn plan(snapshots: &[Listed], retention: Retention) -> Vec<Decision> {
    let mut decisions: Vec<Decision> =
        snapshots.iter().map(|s| Decision { name: s.name.clone(), keep: false, reasons: Vec::new() }).collect();
    // Newest first, dated ones only.
    let mut order: Vec<usize> = (0..snapshots.len()).filter(|&i| snapshots[i].created_at.is_some()).collect();
    order.sort_by(|&a, &b| snapshots[b].created_at.cmp(&snapshots[a].created_at));
    for (i, s) in snapshots.iter().enumerate() {
        if s.created_at.is_none() {
            decisions[i].keep = true;
            decisions[i].reasons.push("unreadable".into());
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
            problem: None,
            journal_head: None,
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
        let last2 = plan(&snaps, Retention { keep_last: Some(2), ..Default::default() });
        assert_eq!(kept(&last2), vec!["e", "f"]);
        let daily3 = plan(&snaps, Retention { keep_daily: Some(3), ..Default::default() });
        assert_eq!(kept(&daily3), vec!["c", "d", "f"], "the newest of each of the last 3 days");
        let weekly = plan(&snaps, Retention { keep_weekly: Some(2), ..Default::default() });
        // 2026-11-20..22 is ISO week 47, 23 starts week 48.
        assert_eq!(kept(&weekly), vec!["d", "f"]);
    }

    #[test]
    fn newest_and_unreadable_are_never_pruned() {
        let mut snaps = vec![snap("old", 2026, 1, 1, 0), snap("new", 2026, 2, 1, 0)];
        let mut broken = snap("broken", 2026, 1, 15, 0);
        broken.created_at = None;
        snaps.push(broken);
        let decisions = plan(&snaps, Retention { keep_last: Some(0), ..Default::default() });
        assert_eq!(kept(&decisions), vec!["new", "broken"]);
    }
}
