//! Times for people: in the operator's zone (`TZ`, else the system's), or UTC with `--utc`.
//! JSON, Prometheus and the journal always carry UTC (RFC 3339): only human output changes.

use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Local, Offset, Utc};

static UTC: AtomicBool = AtomicBool::new(false);

/// `--utc`: human output in UTC whatever the zone.
pub fn set_utc(on: bool) {
    UTC.store(on, Ordering::Relaxed);
}

/// `2026-11-26 00:13:05 +01:00` in the local zone, `2026-11-25 23:13:05 UTC` in UTC.
pub fn human(ts: &DateTime<Utc>) -> String {
    if UTC.load(Ordering::Relaxed) {
        return ts.format("%Y-%m-%d %H:%M:%S UTC").to_string();
    }
    in_zone(ts, &Local)
}

fn in_zone<Tz: chrono::TimeZone>(ts: &DateTime<Utc>, zone: &Tz) -> String
where
    Tz::Offset: std::fmt::Display,
{
    let local = ts.with_timezone(zone);
    if local.offset().fix().local_minus_utc() == 0 {
        local.format("%Y-%m-%d %H:%M:%S UTC").to_string()
    } else {
        local.format("%Y-%m-%d %H:%M:%S %:z").to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::in_zone;
    use chrono::{FixedOffset, TimeZone, Utc};

    #[test]
    fn times_read_in_the_zone_with_its_offset_and_utc_says_so() {
        let ts = Utc.with_ymd_and_hms(2026, 11, 25, 23, 13, 5).unwrap();
        assert_eq!(in_zone(&ts, &Utc), "2026-11-25 23:13:05 UTC");
        let kolkata = FixedOffset::east_opt(5 * 3600 + 1800).unwrap();
        assert_eq!(in_zone(&ts, &kolkata), "2026-11-26 04:43:05 +05:30");
        let new_york = FixedOffset::west_opt(5 * 3600).unwrap();
        assert_eq!(in_zone(&ts, &new_york), "2026-11-25 18:13:05 -05:00");
    }
}
