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
    let report = verify(j.path(), &[]).unwrap();
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
    let report = verify(j.path(), &[]).unwrap();
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
    let report = verify(j.path(), &[]).unwrap();
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

    let report = verify(j.path(), &[]).unwrap();
    assert!(report.ok && report.torn_tail && report.events == 2, "{report:?}");
    let (events, notes) = recent(j.path(), &Filter::default(), 10).unwrap();
    assert!(notes.torn_tail);
    assert_eq!(events.len(), 2);

    let next = j.append(note(2)).unwrap();
    assert_eq!(next.seq, 3);
    assert_eq!(next.prev, good.hash);
    assert!(verify(j.path(), &[]).unwrap().ok);
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

    let filter = Filter { kinds: vec!["health".into()], component: Some("redis".into()), target: None, since: None };
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
    assert!(verify(&path, &[]).unwrap().ok);
    assert!(recent(&path, &Filter::default(), 10).unwrap().0.is_empty());
}

#[test]
fn timestamps_round_trip_exactly() {
    let ts = now();
    let text = serde_json::to_string(&ts).unwrap();
    let back: chrono::DateTime<chrono::Utc> = serde_json::from_str(&text).unwrap();
    assert_eq!(ts, back);
}

fn with_options(dir: &tempfile::TempDir, options: JournalOptions) -> Journal {
    journal(dir).with_options(options)
}

fn anchor(source: &str, seq: u64, hash: &str) -> Anchor {
    Anchor { source: source.into(), head: Head { seq, hash: hash.into() } }
}

#[test]
fn floats_that_serde_json_used_to_misread_verify_and_read_back_bit_for_bit() {
    let dir = tempfile::tempdir().unwrap();
    let j = journal(&dir);
    let hostile = [2123.8429889999998, 3.012308262564835e-09, 0.1 + 0.2, 5e-324, -0.0, 1e21, 1e-7, f64::MAX, 1.0];
    for x in hostile {
        j.append(NewEvent::new("operator.note", "noted").details(serde_json::json!({"duration_ms": x}))).unwrap();
    }
    let report = verify(j.path(), &[]).unwrap();
    assert!(report.ok, "{report:?}");
    let (events, _) = recent(j.path(), &Filter::default(), 0).unwrap();
    for (event, x) in events.iter().zip(hostile) {
        let back = event.details["duration_ms"].as_f64().unwrap();
        assert_eq!(back.to_bits(), if x == 0.0 { 0f64.to_bits() } else { x.to_bits() }, "{x:e}");
    }
}

#[test]
fn v1_journals_written_by_the_old_rule_still_verify_with_hard_floats() {
    // Four `operator.note` events built by the v1 rule (SHA-256 over ifctl's first canonical
    // form), the fourth holding a float serde_json's fast parser used to misread.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.jsonl");
    let mut prev = GENESIS.to_string();
    let mut text = String::new();
    for (seq, ms) in [(1u64, 1.5), (2, 2.0), (3, 10.25), (4, 2123.8429889999998)] {
        let mut event = serde_json::json!({"v": 1, "seq": seq, "id": format!("id-{seq}"), "ts": "2026-11-24T10:00:00.000000Z",
            "host": "h", "user": "u", "pid": 1, "kind": "operator.note", "component": null, "outcome": "noted",
            "correlation_id": "c", "details": {"duration_ms": ms}, "prev": prev});
        let hash = hex::encode(Sha256::digest(canonical_json(&event).as_bytes()));
        event["hash"] = serde_json::Value::String(hash.clone());
        text.push_str(&canonical_json(&event));
        text.push('\n');
        prev = hash;
    }
    std::fs::write(&path, &text).unwrap();
    let report = verify(&path, &[]).unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!(report.events, 4);
    // New events continue the old chain in the new format.
    let next = Journal::new(&path, Identity::current()).append(note(9)).unwrap();
    assert_eq!((next.v, next.seq, next.prev.as_str()), (2, 5, prev.as_str()));
    assert!(verify(&path, &[]).unwrap().ok);
}

#[test]
fn lines_are_their_own_jcs_form() {
    let dir = tempfile::tempdir().unwrap();
    let j = journal(&dir);
    j.append(
        NewEvent::new("operator.note", "noted")
            .details(serde_json::json!({"é": "ü\u{1}", "n": 9007199254740993u64, "f": 1.0})),
    )
    .unwrap();
    let line = std::fs::read_to_string(j.path()).unwrap();
    let value: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(line.trim_end(), jcs(&value));
    assert_eq!(value["details"]["n"], "9007199254740993", "integers beyond 2^53 are kept exactly, as text");
    assert_eq!(value["details"]["f"], 1, "JCS writes 1.0 as 1");
}

#[test]
fn anchors_find_a_cut_tail_and_a_recomputed_history() {
    let dir = tempfile::tempdir().unwrap();
    let j = journal(&dir);
    let events: Vec<Event> = (0..6).map(|i| j.append(note(i)).unwrap()).collect();
    let head4 = anchor("--anchor", 4, &events[3].hash);
    let head6 = anchor("snapshot s1", 6, &events[5].hash);
    let report = verify(j.path(), &[head4.clone(), head6.clone()]).unwrap();
    assert!(report.ok);
    assert!(report.anchors.iter().all(|a| a.result == AnchorResult::Matches), "{:?}", report.anchors);

    // Cut off the last two events: the chain itself is still consistent...
    let text = std::fs::read_to_string(j.path()).unwrap();
    let kept: String = text.lines().take(4).map(|l| format!("{l}\n")).collect();
    std::fs::write(j.path(), &kept).unwrap();
    assert!(verify(j.path(), &[]).unwrap().ok, "without anchors a cut tail cannot be seen");
    // ...but the anchor at seq 6 says it went further.
    let report = verify(j.path(), &[head4.clone(), head6.clone()]).unwrap();
    let six = report.anchors.iter().find(|a| a.seq == 6).unwrap();
    assert_eq!(six.result, AnchorResult::BeyondEnd);

    // Rewrite from seq 3 on with every hash recomputed: intact by itself, not against the anchor.
    std::fs::write(j.path(), text.lines().take(2).map(|l| format!("{l}\n")).collect::<String>()).unwrap();
    for i in 100..104 {
        j.append(note(i)).unwrap();
    }
    assert!(verify(j.path(), &[]).unwrap().ok);
    let report = verify(j.path(), &[head4]).unwrap();
    assert_eq!(report.anchors[0].result, AnchorResult::Mismatch);
}

#[test]
fn a_chain_cut_at_its_start_is_broken_unless_it_starts_at_a_rotation() {
    let dir = tempfile::tempdir().unwrap();
    let j = journal(&dir);
    for i in 0..5 {
        j.append(note(i)).unwrap();
    }
    let text = std::fs::read_to_string(j.path()).unwrap();
    std::fs::write(j.path(), text.lines().skip(2).map(|l| format!("{l}\n")).collect::<String>()).unwrap();
    let report = verify(j.path(), &[]).unwrap();
    assert!(!report.ok);
    assert!(report.reason.unwrap().contains("cut off"));
}

#[test]
fn rotation_keeps_one_chain_that_every_reader_follows() {
    let dir = tempfile::tempdir().unwrap();
    let j = with_options(&dir, JournalOptions { compress_segments: false, ..JournalOptions::default() });
    let before: Vec<Event> = (0..5).map(|i| j.append(note(i)).unwrap()).collect();
    let rotation = j.rotate("test").unwrap().unwrap();
    assert_eq!((rotation.first_seq, rotation.last_seq), (1, 5));
    assert_eq!(rotation.link.kind, ROTATED);
    assert_eq!(rotation.link.prev, before[4].hash);
    assert_eq!(rotation.segment, dir.path().join("journal.000001.jsonl"));
    let after: Vec<Event> = (5..8).map(|i| j.append(note(i)).unwrap()).collect();
    assert_eq!(after[0].seq, 7);

    let report = verify(j.path(), &[anchor("a", 3, &before[2].hash)]).unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!(report.events, 9);
    assert_eq!(report.segments.len(), 1);
    assert_eq!(report.anchors[0].result, AnchorResult::Matches);
    let (all, _) = recent(j.path(), &Filter::default(), 0).unwrap();
    assert_eq!(all.iter().map(|e| e.seq).collect::<Vec<_>>(), (1..=9).collect::<Vec<_>>());

    // A second, compressed rotation; then the oldest segment is shipped away.
    let j = with_options(&dir, JournalOptions { compress_segments: true, ..JournalOptions::default() });
    let second = j.rotate("test").unwrap().unwrap();
    assert!(second.segment.to_string_lossy().ends_with("journal.000002.jsonl.gz"), "{second:?}");
    j.append(note(9)).unwrap();
    let report = verify(j.path(), &[]).unwrap();
    assert!(report.ok && report.events == 11, "{report:?}");
    let (all, _) = recent(j.path(), &Filter::default(), 0).unwrap();
    assert_eq!(all.len(), 11);
    std::fs::remove_file(dir.path().join("journal.000001.jsonl")).unwrap();
    let report = verify(j.path(), &[anchor("a", 3, &before[2].hash)]).unwrap();
    assert!(report.ok, "a chain may start at a rotation: {report:?}");
    assert_eq!(report.first_seq, Some(6));
    assert_eq!(report.anchors[0].result, AnchorResult::NotChecked);
}

#[test]
fn size_limit_rotates_by_itself_and_eight_writers_keep_one_chain() {
    let dir = tempfile::tempdir().unwrap();
    let options = JournalOptions { rotate_bytes: 8 * 1024, compress_segments: true, ..JournalOptions::default() };
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let j = with_options(&dir, options.clone());
            std::thread::spawn(move || {
                for i in 0..40 {
                    j.append(
                        NewEvent::new("operator.note", "noted")
                            .details(serde_json::json!({"t": t, "i": i, "x": 0.1 * i as f64})),
                    )
                    .unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let j = with_options(&dir, options);
    let report = verify(j.path(), &[]).unwrap();
    assert!(report.ok, "{report:?}");
    assert!(report.segments.len() >= 5, "{:?}", report.segments);
    let notes = recent(j.path(), &Filter { kinds: vec!["operator.note".into()], ..Filter::default() }, 0).unwrap().0;
    assert_eq!(notes.len(), 320);
    assert_eq!(report.events as usize, 320 + report.segments.len());
}

#[test]
fn an_empty_live_file_after_a_crashed_rotation_continues_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let j = journal(&dir);
    let written: Vec<Event> = (0..3).map(|i| j.append(note(i)).unwrap()).collect();
    let last = written[2].clone();
    // A rotation that stopped right after the rename.
    std::fs::rename(j.path(), segments::segment_path(j.path(), 1)).unwrap();
    let next = j.append(note(3)).unwrap();
    assert_eq!((next.seq, next.prev.as_str()), (4, last.hash.as_str()));
    assert!(verify(j.path(), &[]).unwrap().ok);
}

#[test]
fn torn_line_is_reported_with_its_line_and_size() {
    let dir = tempfile::tempdir().unwrap();
    let j = journal(&dir);
    j.append(note(0)).unwrap();
    j.append(note(1)).unwrap();
    std::fs::OpenOptions::new().append(true).open(j.path()).unwrap().write_all(b"{\"v\":2,\"seq\":3").unwrap();
    let report = verify(j.path(), &[]).unwrap();
    assert!(report.ok);
    assert_eq!(report.torn, Some(verify::TornLine { line: 3, bytes: 14 }));
    assert_eq!(report.set_aside, None);
    j.append(note(2)).unwrap();
    let report = verify(j.path(), &[]).unwrap();
    assert_eq!(report.torn, None);
    assert_eq!(report.set_aside.as_ref().map(|s| (s.fragments, s.bytes)), Some((1, 15)));
    assert!(!recent(j.path(), &Filter::default(), 0).unwrap().1.torn_tail, "history stops warning once set aside");
}

mod prop {
    use super::*;
    use proptest::prelude::*;

    fn any_f64() -> impl Strategy<Value = f64> {
        prop_oneof![
            any::<u64>().prop_map(f64::from_bits),
            (1u64..=0xF_FFFF_FFFF_FFFF).prop_map(f64::from_bits),
            (-300i32..300, -10.0f64..10.0).prop_map(|(e, m)| m * 10f64.powi(e)),
            Just(0.1 + 0.2),
            Just(-0.0),
        ]
        .prop_filter("JSON has no NaN or infinity", |x| x.is_finite())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn random_floats_round_trip_through_append_verify_and_read(xs in proptest::collection::vec(any_f64(), 1..40)) {
            let dir = tempfile::tempdir().unwrap();
            let j = journal(&dir);
            for x in &xs {
                j.append(NewEvent::new("operator.note", "noted").details(serde_json::json!({"x": x, "nested": [{"y": x}]}))).unwrap();
            }
            let report = verify(j.path(), &[]).unwrap();
            prop_assert!(report.ok, "{:?}", report);
            let (events, _) = recent(j.path(), &Filter::default(), 0).unwrap();
            for (event, x) in events.iter().zip(&xs) {
                let want = if *x == 0.0 { 0.0f64 } else { *x };
                prop_assert_eq!(event.details["x"].as_f64().unwrap().to_bits(), want.to_bits());
                prop_assert_eq!(event.details["nested"][0]["y"].as_f64().unwrap().to_bits(), want.to_bits());
            }
        }

        /// Any truncation of a valid journal, with or without a garbage tail, is read without a
        /// panic: verify reports (and never calls a damaged journal intact when bytes were cut
        /// inside an event or garbage follows), history and the recovery state read what is whole,
        /// and the next append either works or says why.
        #[test]
        fn truncated_and_garbage_tailed_journals_never_panic(
            events in 1usize..12,
            cut_at in 0.0f64..1.0,
            garbage in proptest::collection::vec(any::<u8>(), 0..64),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let j = journal(&dir);
            for i in 0..events {
                j.append(note(i)).unwrap();
            }
            let bytes = std::fs::read(j.path()).unwrap();
            let cut = ((bytes.len() as f64) * cut_at) as usize;
            let mut damaged = bytes[..cut].to_vec();
            damaged.extend_from_slice(&garbage);
            std::fs::write(j.path(), &damaged).unwrap();
            let report = verify(j.path(), &[]).unwrap();
            let clean_cut = cut == bytes.len() || cut == 0 || bytes[cut - 1] == b'\n';
            if !(clean_cut && garbage.is_empty()) {
                prop_assert!(!report.ok || report.torn.is_some(), "damage went unnoticed: {:?}", report);
            }
            let _ = recent(j.path(), &Filter::default(), 0);
            let _ = crate::recovery::state::derive(j.path(), crate::journal::now(), chrono::Duration::hours(2), None);
            let _ = j.append(note(99));
        }
    }
}
