//! Health of the stack (DESIGN §5): concurrent probes with deadlines, thresholds from config,
//! a worst-critical roll-up, dependency causes, and circuit breakers for repeated checks.

mod breaker;
mod chroma;
mod openwebui;
mod probes;
mod redis;
pub mod render;
mod system;
mod transitions;

pub use breaker::{Breaker, BreakerState, BreakerView};
pub use probes::{CheckOptions, Probes, Secrets};
pub use transitions::{Transition, last_journaled, transitions};

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::config::{Component, Levels};

/// A component's status. Ordered by severity for the roll-up: unknown ranks between degraded and
/// unhealthy, so a down critical component always shows as unhealthy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Healthy,
    Degraded,
    Unhealthy,
    Unknown,
}

impl Status {
    fn severity(self) -> u8 {
        match self {
            Status::Healthy => 0,
            Status::Degraded => 1,
            Status::Unknown => 2,
            Status::Unhealthy => 3,
        }
    }

    pub fn worst(self, other: Status) -> Status {
        if other.severity() > self.severity() { other } else { self }
    }

    /// The Nagios exit code (and the value of `ifctl_component_status`).
    pub fn code(self) -> u8 {
        match self {
            Status::Healthy => crate::exit::health::HEALTHY,
            Status::Degraded => crate::exit::health::DEGRADED,
            Status::Unhealthy => crate::exit::health::UNHEALTHY,
            Status::Unknown => crate::exit::health::UNKNOWN,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Healthy => "healthy",
            Status::Degraded => "degraded",
            Status::Unhealthy => "unhealthy",
            Status::Unknown => "unknown",
        }
    }

    /// Level of a measured value against thresholds.
    pub fn from_levels(value: f64, levels: &Levels) -> Status {
        if value >= levels.unhealthy {
            Status::Unhealthy
        } else if value >= levels.degraded {
            Status::Degraded
        } else {
            Status::Healthy
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a component is not healthy, as a category scripts can match on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Problem {
    /// Nothing answers: connection refused, no route, DNS.
    Unreachable,
    /// Connected but no answer before the deadline (hung, SIGSTOPped, overloaded).
    Timeout,
    /// Something answers but it is not the expected service, or the config points at the wrong thing.
    Misconfigured,
    /// Credentials missing, wrong or expired.
    Auth,
    /// The TLS handshake failed: the server's certificate is expired, not for this name, or not
    /// signed by a trusted CA, or the port does not speak TLS.
    Tls,
    /// A measure crossed a threshold.
    Threshold,
    /// Expected data is missing (a collection, records).
    Data,
    /// The service answered with an error.
    Error,
    /// A component this one needs is unhealthy.
    Dependency,
    /// The circuit breaker is open: not probed this time.
    CircuitOpen,
}

/// The unit a measure is kept in; renderers convert (ms → s, % → ratio for Prometheus).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Unit {
    Milliseconds,
    Percent,
    Bytes,
    Count,
}

/// One number a probe measured, with the thresholds it was judged by.
#[derive(Debug, Clone, Serialize)]
pub struct Measure {
    /// Stable name, e.g. `redis_ping_latency`; Prometheus adds `ifctl_` and a unit suffix.
    pub name: &'static str,
    #[serde(skip)]
    pub help: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<(&'static str, String)>,
    pub value: f64,
    pub unit: Unit,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub levels: Option<Levels>,
}

impl Measure {
    pub fn new(name: &'static str, help: &'static str, value: f64, unit: Unit) -> Measure {
        Measure { name, help, labels: Vec::new(), value, unit, levels: None }
    }

    pub fn label(mut self, key: &'static str, value: impl Into<String>) -> Measure {
        self.labels.push((key, value.into()));
        self
    }

    pub fn levels(mut self, levels: Levels) -> Measure {
        self.levels = Some(levels);
        self
    }
}

/// The result of checking one component.
#[derive(Debug, Clone, Serialize)]
pub struct ComponentReport {
    pub component: Component,
    pub status: Status,
    pub critical: bool,
    /// Wall time of the whole probe.
    pub latency_ms: f64,
    /// One sentence: why the status is not healthy (or a note when it is).
    pub reason: Option<String>,
    pub problem: Option<Problem>,
    /// What to do about it.
    pub hint: Option<String>,
    /// Components whose failure explains this one's.
    pub caused_by: Vec<Component>,
    pub breaker: Option<BreakerView>,
    /// Recovery state from the journal: suspended, cooling down, disabled, pending, degraded mode.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovery: Option<crate::recovery::RecoveryView>,
    pub details: serde_json::Value,
    pub measures: Vec<Measure>,
}

impl ComponentReport {
    pub fn new(component: Component, critical: bool) -> ComponentReport {
        ComponentReport {
            component,
            status: Status::Healthy,
            critical,
            latency_ms: 0.0,
            reason: None,
            problem: None,
            hint: None,
            caused_by: Vec::new(),
            breaker: None,
            recovery: None,
            details: serde_json::json!({}),
            measures: Vec::new(),
        }
    }

    /// Records a problem. The worst one sets the status and its reason comes first; others are
    /// kept after it so nothing found is hidden.
    pub fn finding(&mut self, status: Status, problem: Problem, reason: impl Into<String>, hint: Option<String>) {
        let reason = reason.into();
        if status.severity() > self.status.severity() {
            self.status = status;
            self.problem = Some(problem);
            self.reason = Some(match self.reason.take() {
                Some(earlier) => format!("{reason}; {earlier}"),
                None => reason,
            });
            if hint.is_some() {
                self.hint = hint;
            }
        } else {
            self.reason = Some(match self.reason.take() {
                Some(earlier) => format!("{earlier}; {reason}"),
                None => reason,
            });
            self.problem.get_or_insert(problem);
            if self.hint.is_none() {
                self.hint = hint;
            }
        }
    }

    /// Judges a measured value against its thresholds and records it.
    pub fn judge(&mut self, measure: Measure, what: &str) {
        if let Some(levels) = measure.levels {
            let status = Status::from_levels(measure.value, &levels);
            if status != Status::Healthy {
                let limit = if status == Status::Unhealthy { levels.unhealthy } else { levels.degraded };
                self.finding(
                    status,
                    Problem::Threshold,
                    format!(
                        "{what} is {} (threshold {})",
                        fmt_value(measure.value, measure.unit),
                        fmt_value(limit, measure.unit)
                    ),
                    None,
                );
            }
        }
        self.measures.push(measure);
    }

    pub fn detail(&mut self, key: &str, value: impl Serialize) {
        if let Some(map) = self.details.as_object_mut() {
            map.insert(key.to_string(), serde_json::to_value(value).unwrap_or(serde_json::Value::Null));
        }
    }
}

/// A value with its unit, for sentences: `12.3 ms`, `91.0%`, `1.2 GiB`.
pub fn fmt_value(value: f64, unit: Unit) -> String {
    match unit {
        Unit::Milliseconds => format!("{value:.1} ms"),
        Unit::Percent => format!("{value:.1}%"),
        Unit::Count => format!("{value}"),
        Unit::Bytes => {
            let mut v = value;
            for suffix in ["B", "KiB", "MiB", "GiB", "TiB"] {
                if v < 1024.0 || suffix == "TiB" {
                    return if suffix == "B" { format!("{v:.0} {suffix}") } else { format!("{v:.1} {suffix}") };
                }
                v /= 1024.0;
            }
            unreachable!()
        }
    }
}

/// The whole check: every component asked for, and the roll-up.
#[derive(Debug, Clone, Serialize)]
pub struct HealthReport {
    /// Worst status among critical components (among all checked when none is critical).
    pub status: Status,
    pub checked_at: DateTime<Utc>,
    pub duration_ms: f64,
    pub components: Vec<ComponentReport>,
}

impl HealthReport {
    pub fn new(components: Vec<ComponentReport>, checked_at: DateTime<Utc>, duration_ms: f64) -> HealthReport {
        let status = overall(&components);
        HealthReport { status, checked_at, duration_ms, components }
    }

    pub fn get(&self, component: Component) -> Option<&ComponentReport> {
        self.components.iter().find(|c| c.component == component)
    }

    /// Attaches each component's recovery state (from the journal) to the report.
    pub fn attach_recovery(&mut self, config: &crate::config::Config) {
        let now = crate::journal::now();
        let Ok(state) = crate::recovery::state::derive_for(config, now) else {
            return;
        };
        for c in &mut self.components {
            let view = crate::recovery::policy::view(config, &state, c.component);
            c.recovery = (!view.is_empty()).then_some(view);
        }
    }
}

/// The worst status among critical components; when none of the checked components is critical
/// (`health check --component openwebui`), the worst of those checked.
pub fn overall(components: &[ComponentReport]) -> Status {
    let any_critical = components.iter().any(|c| c.critical);
    components.iter().filter(|c| c.critical || !any_critical).fold(Status::Healthy, |acc, c| acc.worst(c.status))
}

/// Marks components whose dependencies are unhealthy: the report names the dependency as the
/// cause, and a component that looks fine but needs a dead dependency is at least degraded.
pub fn apply_dependencies(components: &mut [ComponentReport], depends_on: &BTreeMap<Component, Vec<Component>>) {
    let unhealthy: Vec<Component> =
        components.iter().filter(|c| c.status == Status::Unhealthy).map(|c| c.component).collect();
    for report in components.iter_mut() {
        let Some(needs) = depends_on.get(&report.component) else { continue };
        // A component that is itself down or misaddressed has its own cause.
        if matches!(report.problem, Some(Problem::Unreachable | Problem::Timeout | Problem::Misconfigured)) {
            continue;
        }
        let down: Vec<Component> = needs.iter().copied().filter(|d| unhealthy.contains(d)).collect();
        if down.is_empty() {
            continue;
        }
        let names = down.iter().map(|c| c.name()).collect::<Vec<_>>().join(", ");
        report.caused_by = down;
        let hint = Some(format!(
            "the cause is {names}: bring it back first (`ifctl health check --component {}` shows why it is down)",
            report.caused_by[0]
        ));
        if report.status == Status::Healthy {
            report.finding(
                Status::Degraded,
                Problem::Dependency,
                format!("depends on {names}, which is unhealthy"),
                hint,
            );
        } else {
            let own = report.reason.take().unwrap_or_default();
            report.reason = Some(format!("{own} (probably because {names} is unhealthy)"));
            report.hint = hint;
        }
    }
}

/// What to tell the operator for each kind of HTTP failure of one service.
pub(crate) struct HttpHints {
    pub unreachable: String,
    pub timeout: String,
    pub misconfigured: String,
    /// What credential to give when the server refuses (401/403).
    pub auth: String,
    /// Which setting holds the CA when a certificate is refused.
    pub ca_key: &'static str,
}

/// Records an HTTP failure: down and hung are unhealthy; "not that service" is a misconfiguration
/// (status unknown), so a wrong URL never reads as an outage.
pub(crate) fn http_finding(report: &mut ComponentReport, err: &crate::clients::http::HttpError, hints: HttpHints) {
    use crate::clients::http::HttpError;
    let (status, problem, hint) = match err {
        HttpError::Unreachable { .. } => (Status::Unhealthy, Problem::Unreachable, Some(hints.unreachable)),
        HttpError::Timeout { .. } => (Status::Unhealthy, Problem::Timeout, Some(hints.timeout)),
        HttpError::WrongService { .. } => (Status::Unknown, Problem::Misconfigured, Some(hints.misconfigured)),
        HttpError::Status { status: 401 | 403, .. } => (Status::Unhealthy, Problem::Auth, Some(hints.auth)),
        HttpError::Tls { detail, .. } => {
            let hint = crate::clients::tls::certificate_problem(detail, hints.ca_key).map(|(_, hint)| hint);
            (Status::Unhealthy, Problem::Tls, hint)
        }
        HttpError::Setup { .. } => (Status::Unknown, Problem::Misconfigured, None),
        HttpError::Status { .. } | HttpError::Decode { .. } | HttpError::Changing { .. } => {
            (Status::Unhealthy, Problem::Error, None)
        }
    };
    report.finding(status, problem, err.to_string(), hint);
}

#[cfg(test)]
mod tests;
