use std::collections::BTreeMap;

use super::*;
use crate::config::Component;

fn report(component: Component, status: Status, critical: bool) -> ComponentReport {
    let mut r = ComponentReport::new(component, critical);
    if status != Status::Healthy {
        r.finding(status, Problem::Error, format!("{component} is {status}"), None);
    }
    r
}

#[test]
fn overall_is_the_worst_critical_status() {
    let all = |s: [(Status, bool); 3]| {
        let comps = [Component::Redis, Component::Chromadb, Component::Openwebui];
        overall(&comps.iter().zip(s).map(|(c, (st, crit))| report(*c, st, crit)).collect::<Vec<_>>())
    };
    assert_eq!(all([(Status::Healthy, true), (Status::Healthy, true), (Status::Unhealthy, false)]), Status::Healthy);
    assert_eq!(all([(Status::Degraded, true), (Status::Healthy, true), (Status::Healthy, false)]), Status::Degraded);
    assert_eq!(all([(Status::Degraded, true), (Status::Unknown, true), (Status::Healthy, false)]), Status::Unknown);
    assert_eq!(all([(Status::Unknown, true), (Status::Unhealthy, true), (Status::Healthy, false)]), Status::Unhealthy);
    let only_non_critical = [report(Component::Openwebui, Status::Unknown, false)];
    assert_eq!(
        overall(&only_non_critical),
        Status::Unknown,
        "with no critical component checked, the checked ones count"
    );
}

#[test]
fn worst_finding_sets_status_and_keeps_every_reason() {
    let mut r = ComponentReport::new(Component::Chromadb, true);
    r.finding(Status::Degraded, Problem::Data, "collection `a` is empty", None);
    r.finding(Status::Unhealthy, Problem::Data, "collection `b` is missing", Some("restore".into()));
    r.finding(Status::Degraded, Problem::Threshold, "query latency is high", None);
    assert_eq!(r.status, Status::Unhealthy);
    assert_eq!(r.problem, Some(Problem::Data));
    assert_eq!(r.reason.as_deref(), Some("collection `b` is missing; collection `a` is empty; query latency is high"));
    assert_eq!(r.hint.as_deref(), Some("restore"));
}

#[test]
fn thresholds_judge_values() {
    let levels = Levels::new(100.0, 1000.0);
    assert_eq!(Status::from_levels(99.9, &levels), Status::Healthy);
    assert_eq!(Status::from_levels(100.0, &levels), Status::Degraded);
    assert_eq!(Status::from_levels(1000.0, &levels), Status::Unhealthy);
    let mut r = ComponentReport::new(Component::Redis, true);
    r.judge(Measure::new("redis_ping_latency", "", 250.0, Unit::Milliseconds).levels(levels), "PING latency");
    assert_eq!(r.status, Status::Degraded);
    assert_eq!(r.reason.as_deref(), Some("PING latency is 250.0 ms (threshold 100.0 ms)"));
}

#[test]
fn a_dead_dependency_is_named_as_the_cause() {
    let deps = BTreeMap::from([(Component::Openwebui, vec![Component::Redis])]);
    let mut reports =
        vec![report(Component::Redis, Status::Unhealthy, true), report(Component::Openwebui, Status::Healthy, false)];
    apply_dependencies(&mut reports, &deps);
    assert_eq!(reports[1].status, Status::Degraded);
    assert_eq!(reports[1].caused_by, vec![Component::Redis]);
    assert_eq!(reports[1].problem, Some(Problem::Dependency));
    assert!(reports[1].reason.as_deref().unwrap().contains("depends on redis"));

    let mut reports =
        vec![report(Component::Redis, Status::Unhealthy, true), report(Component::Openwebui, Status::Unhealthy, false)];
    apply_dependencies(&mut reports, &deps);
    assert_eq!(reports[1].status, Status::Unhealthy);
    assert!(reports[1].reason.as_deref().unwrap().contains("probably because redis is unhealthy"));

    let mut reports =
        vec![report(Component::Redis, Status::Degraded, true), report(Component::Openwebui, Status::Healthy, false)];
    apply_dependencies(&mut reports, &deps);
    assert_eq!(reports[1].status, Status::Healthy, "a degraded dependency is not blamed");
}

fn sample() -> HealthReport {
    let mut redis = report(Component::Redis, Status::Healthy, true);
    redis.latency_ms = 1.5;
    redis
        .measures
        .push(Measure::new("redis_ping_latency", "PING.", 0.4, Unit::Milliseconds).levels(Levels::new(100.0, 1000.0)));
    redis.measures.push(Measure::new("redis_memory_used", "Memory.", 1048576.0, Unit::Bytes));
    let mut chroma = report(Component::Chromadb, Status::Unhealthy, true);
    for (name, n) in [("a_one", 3.0), ("b\"two", 0.0)] {
        chroma
            .measures
            .push(Measure::new("chromadb_collection_records", "Records.", n, Unit::Count).label("collection", name));
    }
    let mut system = report(Component::System, Status::Healthy, true);
    system.measures.push(
        Measure::new("system_disk_used_percent", "Disk.", 42.5, Unit::Percent)
            .label("path", "/")
            .levels(Levels::new(85.0, 95.0)),
    );
    HealthReport::new(vec![redis, chroma, system], crate::journal::now(), 3.0)
}

#[test]
fn prometheus_text_groups_families_and_uses_base_units() {
    let text = render::prometheus(&sample());
    assert!(text.contains("ifctl_health_status 2\n"), "{text}");
    assert!(text.contains("ifctl_component_status{component=\"chromadb\",critical=\"true\"} 2\n"), "{text}");
    assert!(text.contains("ifctl_redis_ping_latency_seconds 0.0004\n"), "{text}");
    assert!(text.contains("ifctl_system_disk_used_ratio{path=\"/\"} 0.425\n"), "{text}");
    assert!(text.contains("ifctl_chromadb_collection_records{collection=\"b\\\"two\"} 0\n"), "{text}");
    assert_eq!(text.matches("# TYPE ifctl_chromadb_collection_records gauge").count(), 1);
    for line in text.lines().filter(|l| l.starts_with("# TYPE")) {
        let name = line.split_whitespace().nth(2).unwrap();
        assert_eq!(text.matches(&format!("# TYPE {name} ")).count(), 1, "family {name} declared once");
    }
}

#[test]
fn nagios_is_one_line_with_perfdata() {
    let line = render::nagios(&sample());
    assert!(!line.contains('\n'));
    assert!(line.starts_with("IFCTL CRITICAL - chromadb unhealthy: chromadb is unhealthy | "), "{line}");
    assert!(line.contains("'redis_ping_latency'=0.4ms;100;1000;;"), "{line}");
    assert!(line.contains("'system_disk_used_percent_/'=42.5%;85;95;;"), "{line}");
    assert_eq!(line.matches('|').count(), 1);
}

#[test]
fn transitions_list_only_changes() {
    let r = sample();
    let previous = BTreeMap::from([(Component::Redis, Status::Healthy), (Component::Chromadb, Status::Healthy)]);
    let changes = transitions(&previous, &r);
    let got: Vec<(Component, Option<Status>, Status)> = changes.iter().map(|t| (t.component, t.from, t.to)).collect();
    assert_eq!(
        got,
        vec![
            (Component::Chromadb, Some(Status::Healthy), Status::Unhealthy),
            (Component::System, None, Status::Healthy)
        ]
    );
}

#[test]
fn last_journaled_reads_back_transitions() {
    let dir = tempfile::tempdir().unwrap();
    let journal = crate::journal::Journal::new(dir.path().join("j.jsonl"), crate::journal::Identity::current());
    let r = sample();
    for t in transitions(&BTreeMap::new(), &r) {
        journal.append(t.event()).unwrap();
    }
    journal.append(crate::journal::NewEvent::new("operator.note", "noted")).unwrap();
    let known = last_journaled(journal.path(), None, &[Component::Redis, Component::Chromadb, Component::Openwebui]);
    assert_eq!(known, BTreeMap::from([(Component::Redis, Status::Healthy), (Component::Chromadb, Status::Unhealthy)]));
}

#[test]
fn redis_info_and_meminfo_parse() {
    let info =
        redis::parse_info("# Memory\r\nused_memory:988824\r\nmaxmemory:0\r\n\r\n# Clients\r\nconnected_clients:3\r\n");
    assert_eq!(info["used_memory"], "988824");
    assert_eq!(info["connected_clients"], "3");
    let mem = system::parse_meminfo("MemTotal:       24000000 kB\nMemFree: 1 kB\nMemAvailable:   12000000 kB\n");
    assert_eq!(mem, Some((24_000_000 * 1024, 12_000_000 * 1024)));
    assert_eq!(system::parse_meminfo("MemFree: 1 kB\n"), None);
}

#[test]
fn values_format_for_people() {
    assert_eq!(fmt_value(1536.0, Unit::Bytes), "1.5 KiB");
    assert_eq!(fmt_value(12.0, Unit::Bytes), "12 B");
    assert_eq!(fmt_value(91.04, Unit::Percent), "91.0%");
}

#[test]
fn one_nagios_line_for_several_targets_names_only_the_troubled_ones() {
    let prod = HealthReport::new(
        vec![report(Component::Redis, Status::Unhealthy, true), report(Component::Chromadb, Status::Healthy, true)],
        chrono::Utc::now(),
        1.0,
    );
    let staging = HealthReport::new(
        vec![report(Component::Redis, Status::Healthy, true), report(Component::Chromadb, Status::Healthy, true)],
        chrono::Utc::now(),
        1.0,
    );
    let line = render::nagios_fleet(&[("prod", &prod), ("staging", &staging)], Status::Unhealthy);
    assert!(
        line.starts_with("IFCTL CRITICAL - prod: redis unhealthy: redis is unhealthy; 1 other targets healthy | "),
        "{line}"
    );
    assert!(line.contains("prod_redis_check=") && line.contains("staging_chromadb_check="), "{line}");
    assert_eq!(line.lines().count(), 1);
    let calm = render::nagios_fleet(&[("staging", &staging)], Status::Healthy);
    assert!(calm.starts_with("IFCTL OK - 1 targets healthy | staging_redis_check="), "{calm}");
}
