//! Redis probe: PING latency, `INFO` memory (used vs maxmemory) and clients.

use std::collections::HashMap;
use std::time::Instant;

use super::{ComponentReport, Measure, Probes, Problem, Status, Unit};

pub(super) async fn probe(probes: &Probes, report: &mut ComponentReport) {
    let config = &probes.config.redis;
    let limits = &probes.config.thresholds.redis;
    let url = &config.url;
    let password = match &probes.secrets.redis_password {
        Ok(password) => password.as_ref(),
        Err(e) => {
            report.finding(
                Status::Unknown,
                Problem::Misconfigured,
                e.clone(),
                Some("fix `redis.password_file`".into()),
            );
            return;
        }
    };
    let client = match crate::clients::redis::client(config, password) {
        Ok(client) => client,
        Err(e) => {
            report.finding(Status::Unknown, Problem::Misconfigured, e, Some("fix the [redis] section".into()));
            return;
        }
    };
    let mut conn = match crate::clients::redis::connect(&client, probes.timeout).await {
        Ok(conn) => conn,
        Err(e) => return classify(report, url, &e, &config.password_env),
    };
    let started = Instant::now();
    let pong: redis::RedisResult<String> = redis::cmd("PING").query_async(&mut conn).await;
    let ping_ms = started.elapsed().as_secs_f64() * 1000.0;
    if let Err(e) = pong {
        return classify(report, url, &e, &config.password_env);
    }
    report.judge(
        Measure::new("redis_ping_latency", "Round-trip time of a Redis PING.", ping_ms, Unit::Milliseconds)
            .levels(limits.latency_ms),
        "PING latency",
    );
    let text: String = match redis::cmd("INFO").query_async(&mut conn).await {
        Ok(text) => text,
        Err(e) => return classify(report, url, &e, &config.password_env),
    };
    let fields = parse_info(&text);
    let number = |key: &str| fields.get(key).and_then(|v| v.parse::<f64>().ok());
    if let Some(version) = fields.get("redis_version") {
        report.detail("version", version);
    }
    if let Some(role) = fields.get("role") {
        report.detail("role", role);
    }
    let used = number("used_memory").unwrap_or(0.0);
    let max = number("maxmemory").unwrap_or(0.0);
    report.detail("used_memory_bytes", used as u64);
    report.detail("maxmemory_bytes", max as u64);
    report.detail("maxmemory_policy", fields.get("maxmemory_policy"));
    report.measures.push(Measure::new("redis_memory_used", "Memory used by Redis (used_memory).", used, Unit::Bytes));
    let policy = fields.get("maxmemory_policy").map(String::as_str).unwrap_or("noeviction");
    if max > 0.0 && policy.starts_with("allkeys-") {
        // A cache that evicts any key when full: sitting at maxmemory is how it is meant to run.
        let pct = used / max * 100.0;
        report.detail("memory_pct", (pct * 10.0).round() / 10.0);
        report.detail("memory_note", format!("`{policy}` evicts keys at maxmemory by design: memory share not judged"));
        report.measures.push(Measure::new(
            "redis_memory_used_percent",
            "used_memory as a share of maxmemory.",
            pct,
            Unit::Percent,
        ));
    } else if max > 0.0 {
        let pct = used / max * 100.0;
        report.detail("memory_pct", (pct * 10.0).round() / 10.0);
        report.judge(
            Measure::new("redis_memory_used_percent", "used_memory as a share of maxmemory.", pct, Unit::Percent)
                .levels(limits.memory_pct),
            "memory use (used_memory / maxmemory)",
        );
    } else {
        report.detail("memory_note", "maxmemory is 0 (no limit): memory share not judged");
    }
    if let Some(clients) = number("connected_clients") {
        report.detail("connected_clients", clients as u64);
        report.measures.push(Measure::new(
            "redis_connected_clients",
            "Clients connected to Redis.",
            clients,
            Unit::Count,
        ));
    }
    if let Some(blocked) = number("blocked_clients") {
        report.detail("blocked_clients", blocked as u64);
        report.judge(
            Measure::new("redis_blocked_clients", "Clients blocked in a blocking call.", blocked, Unit::Count)
                .levels(limits.blocked_clients),
            "blocked clients",
        );
    }
    if fields.get("loading").map(String::as_str) == Some("1") {
        report.finding(Status::Degraded, Problem::Error, "Redis is loading its dataset into memory", None);
    }
}

/// `INFO` is `key:value` lines under `# Section` headers, CRLF-separated.
pub(super) fn parse_info(text: &str) -> HashMap<String, String> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .filter_map(|line| line.split_once(':'))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn classify(report: &mut ComponentReport, url: &str, err: &redis::RedisError, password_env: &str) {
    // Parse errors span several lines; a report reason is one.
    let text = err.to_string().lines().next().unwrap_or_default().trim().to_string();
    if let Some((what, hint)) = crate::clients::tls::certificate_problem(&format!("{err} {err:?}"), "redis.ca_file") {
        report.finding(Status::Unhealthy, Problem::Tls, format!("Redis at `{url}`: {what}"), Some(hint));
    } else if err.is_connection_refusal() {
        report.finding(
            Status::Unhealthy,
            Problem::Unreachable,
            format!("connection refused at `{url}`"),
            Some("is redis-server running and listening on that address? (`systemctl status redis-server`)".into()),
        );
    } else if err.is_timeout() && url.starts_with("rediss://") {
        // Redis on a plain port waits for a line that a TLS handshake never sends.
        report.finding(
            Status::Unhealthy,
            Problem::Tls,
            format!("Redis at `{url}` did not answer the TLS handshake in time"),
            Some("is that a TLS port? a plain Redis port takes redis:// (or check the server's tls-port)".into()),
        );
    } else if err.is_timeout() {
        report.finding(Status::Unhealthy, Problem::Timeout, format!("Redis at `{url}` did not answer in time"), None);
    } else if matches!(err.kind(), redis::ErrorKind::AuthenticationFailed)
        || matches!(err.code(), Some("NOAUTH" | "WRONGPASS"))
        || text.contains("NOAUTH")
        || text.contains("WRONGPASS")
    {
        report.finding(
            Status::Unhealthy,
            Problem::Auth,
            format!("Redis refused ifctl's credentials: {text}"),
            Some(if crate::config::unused_secret(password_env) {
                format!("no password is used for this target here: {password_env}")
            } else {
                format!("set the password in `{password_env}` (or `redis.password_file`)")
            }),
        );
    } else if matches!(err.code(), Some("NOPERM")) || text.contains("NOPERM") {
        // Reachable, but the ACL user may not run what the probe needs: not a failure to restart.
        report.finding(
            Status::Unknown,
            Problem::Auth,
            format!("the Redis user of `{url}` may not run the probe's commands: {text}"),
            Some("allow them, e.g. `ACL SETUSER <user> +ping +info`, or use a user that may".into()),
        );
    } else if matches!(err.kind(), redis::ErrorKind::Parse) || text.contains("parse") || text.contains("Parse") {
        report.finding(
            Status::Unknown,
            Problem::Misconfigured,
            format!("the server at `{url}` does not speak the Redis protocol (it answered something else, e.g. HTTP)"),
            Some("check `redis.url` / IFCTL_REDIS_URL: it points at some other service".into()),
        );
    } else if err.is_io_error() || err.is_connection_dropped() {
        report.finding(
            Status::Unhealthy,
            Problem::Unreachable,
            format!("cannot talk to Redis at `{url}`: {text}"),
            None,
        );
    } else {
        report.finding(
            Status::Unhealthy,
            Problem::Error,
            format!("Redis at `{url}` answered with an error: {text}"),
            None,
        );
    }
}
