use std::io::Write;

use super::*;

fn journal(dir: &tempfile::TempDir) -> Journal {
    Journal::new(dir.path().join("journal.jsonl"), Identity::current())
}

fn note(i: usize) -> NewEvent {
    NewEvent::new("operator.note", "noted")
        .component("redis")
        .details(serde_json::json!({"i": i, "b": {"z": 1, "a": 2}}))
}

#[test]
fn appends_chain_and_verify() {
    let dir = tempfile::tempdir().unwrap();
    let j = journal(&dir);
    let first = j.append(note(0)).unwrap();
    let second = j.append(note(1)).unwrap();
    assert_eq!(first.seq, 1);
    assert_eq!(first.prev, GENESIS);
    assert_eq!(second.seq, 2);
    assert_eq!(second.prev, first.hash);
    let report = verify(j.path()).unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!(report.events, 2);
    assert_eq!(report.last_hash.as_deref(), Some(second.hash.as_str()));
}

#[test]
fn canonical_form_sorts_keys_at_every_level() {
    let v = serde_json::json!({"b": 1, "a": {"d": [ {"y": 1, "x": 2} ], "c": null}});
    assert_eq!(canonical_json(&v), r#"{"a":{"c":null,"d":[{"x":2,"y":1}]},"b":1}"#);
}

#[test]
fn tampering_is_found_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let j = journal(&dir);
    for i in 0..5 {
        j.append(note(i)).unwrap();
    }
    let text = std::fs::read_to_string(j.path()).unwrap();
    let tampered = text.replacen("\"i\":2", "\"i\":7", 1);
    assert_ne!(text, tampered);
    std::fs::write(j.path(), tampered).unwrap();
    let report = verify(j.path()).unwrap();
    assert!(!report.ok);
    assert_eq!(report.first_bad_line, Some(3));
    assert_eq!(report.events, 2);
    assert!(report.reason.unwrap().contains("hash"));
}

#[test]
fn deleted_line_breaks_the_link() {
    let dir = tempfile::tempdir().unwrap();
    let j = journal(&dir);
    for i in 0..4 {
        j.append(note(i)).unwrap();
    }
    let text = std::fs::read_to_string(j.path()).unwrap();
    let kept: Vec<&str> = text.lines().enumerate().filter(|(n, _)| *n != 1).map(|(_, l)| l).collect();
    std::fs::write(j.path(), kept.join("\n") + "\n").unwrap();
    let report = verify(j.path()).unwrap();
    assert_eq!(report.first_bad_line, Some(2));
    assert!(report.reason.unwrap().contains("prev"));
}

#[test]
fn torn_tail_is_reported_skipped_and_set_aside_on_next_append() {
    let dir = tempfile::tempdir().unwrap();
    let j = journal(&dir);
    j.append(note(0)).unwrap();
    let good = j.append(note(1)).unwrap();
    let mut file = std::fs::OpenOptions::new().append(true).open(j.path()).unwrap();
    file.write_all(br#"{"v":1,"seq":3,"id":"half-writ"#).unwrap();
    drop(file);

    let report = verify(j.path()).unwrap();
    assert!(report.ok && report.torn_tail && report.events == 2, "{report:?}");
    let (events, notes) = recent(j.path(), &Filter::default(), 10).unwrap();
    assert!(notes.torn_tail);
    assert_eq!(events.len(), 2);

    let next = j.append(note(2)).unwrap();
    assert_eq!(next.seq, 3);
    assert_eq!(next.prev, good.hash);
    assert!(verify(j.path()).unwrap().ok);
    let torn = std::fs::read_to_string(j.path().with_extension("jsonl.torn")).unwrap();
    assert!(torn.contains("half-writ"), "the torn bytes are kept, not lost");
}

#[test]
fn recent_reads_newest_with_filters_across_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let j = journal(&dir);
    // Enough events to span several 64 KiB blocks.
    for i in 0..1500 {
        let kind = if i % 3 == 0 { "health.transition" } else { "operator.note" };
        let component = if i % 2 == 0 { "redis" } else { "chromadb" };
        j.append(
            NewEvent::new(kind, "ok").component(component).details(serde_json::json!({"i": i, "pad": "x".repeat(64)})),
        )
        .unwrap();
    }
    let (all, _) = recent(j.path(), &Filter::default(), 0).unwrap();
    assert_eq!(all.len(), 1500);
    assert!(all.windows(2).all(|w| w[0].seq + 1 == w[1].seq), "oldest first, none lost");

    let filter = Filter { kinds: vec!["health".into()], component: Some("redis".into()), since: None };
    let (some, _) = recent(j.path(), &filter, 5).unwrap();
    let seen: Vec<u64> = some.iter().map(|e| e.details["i"].as_u64().unwrap()).collect();
    assert_eq!(seen, vec![1470, 1476, 1482, 1488, 1494]);

    let exact = Filter { kinds: vec!["health.trans".into()], ..Filter::default() };
    assert!(recent(j.path(), &exact, 0).unwrap().0.is_empty(), "kind prefix matches only whole segments");
}

#[test]
fn since_stops_the_backward_read() {
    let dir = tempfile::tempdir().unwrap();
    let j = journal(&dir);
    j.append(note(0)).unwrap();
    let cut = now();
    std::thread::sleep(std::time::Duration::from_millis(5));
    j.append(note(1)).unwrap();
    let (events, _) = recent(j.path(), &Filter { since: Some(cut), ..Filter::default() }, 0).unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].seq, 2);
}

#[test]
fn read_from_returns_only_complete_new_lines() {
    let dir = tempfile::tempdir().unwrap();
    let j = journal(&dir);
    j.append(note(0)).unwrap();
    let offset = end_offset(j.path());
    j.append(note(1)).unwrap();
    let mut file = std::fs::OpenOptions::new().append(true).open(j.path()).unwrap();
    file.write_all(b"{\"partial").unwrap();
    let (events, next) = read_from(j.path(), offset, &Filter::default()).unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].seq, 2);
    assert!(next < end_offset(j.path()));
}

#[test]
fn missing_journal_reads_as_empty() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("none.jsonl");
    assert!(verify(&path).unwrap().ok);
    assert!(recent(&path, &Filter::default(), 10).unwrap().0.is_empty());
}

#[test]
fn timestamps_round_trip_exactly() {
    let ts = now();
    let text = serde_json::to_string(&ts).unwrap();
    let back: chrono::DateTime<chrono::Utc> = serde_json::from_str(&text).unwrap();
    assert_eq!(ts, back);
}
