//! Process metrics for `/metrics`, read from /proc (the conventional `process_*` names).

use std::fmt::Write;

pub fn metrics(out: &mut String, started_at: f64) {
    let ticks = 100.0; // USER_HZ on Linux
    let page = 4096.0;
    if let Ok(stat) = std::fs::read_to_string("/proc/self/stat") {
        // Fields after the `(comm)`: state is 3rd; utime 14th, stime 15th, rss 24th (1-based).
        if let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) {
            let f: Vec<&str> = rest.split_whitespace().collect();
            let num = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
            let cpu = (num(11) + num(12)) / ticks;
            let rss = num(21) * page;
            let _ = writeln!(out, "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.");
            let _ = writeln!(out, "# TYPE process_cpu_seconds_total counter");
            let _ = writeln!(out, "process_cpu_seconds_total {cpu}");
            let _ = writeln!(out, "# HELP process_resident_memory_bytes Resident memory size in bytes.");
            let _ = writeln!(out, "# TYPE process_resident_memory_bytes gauge");
            let _ = writeln!(out, "process_resident_memory_bytes {rss}");
        }
    }
    if let Ok(fds) = std::fs::read_dir("/proc/self/fd") {
        let _ = writeln!(out, "# HELP process_open_fds Number of open file descriptors.");
        let _ = writeln!(out, "# TYPE process_open_fds gauge");
        let _ = writeln!(out, "process_open_fds {}", fds.count());
    }
    let _ = writeln!(out, "# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.");
    let _ = writeln!(out, "# TYPE process_start_time_seconds gauge");
    let _ = writeln!(out, "process_start_time_seconds {started_at}");
}
