//! The configuration schema: every key of `ifctl.toml`, its default, and validation.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{ConfigError, Environment, Resolved, Source};

/// What outputs call the one stack of a config without `[targets.*]`.
pub const DEFAULT_TARGET: &str = "default";

/// A target name: 1–63 characters from `[A-Za-z0-9_.-]`, starting with a letter or digit. It
/// names a directory, a lock and a metric label, so nothing else is allowed.
pub fn valid_target_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    (1..=63).contains(&bytes.len())
        && bytes[0].is_ascii_alphanumeric()
        && bytes.iter().all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(b))
}

/// Components ifctl knows. Their names are part of the CLI and of every output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Component {
    Redis,
    Chromadb,
    Openwebui,
    System,
}

impl Component {
    pub const ALL: [Component; 4] = [Component::Redis, Component::Chromadb, Component::Openwebui, Component::System];

    pub fn name(self) -> &'static str {
        match self {
            Component::Redis => "redis",
            Component::Chromadb => "chromadb",
            Component::Openwebui => "openwebui",
            Component::System => "system",
        }
    }
}

impl std::fmt::Display for Component {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Journal, snapshots (default destination), checkpoints, tokens.
    pub state_dir: PathBuf,
    pub redis: RedisConfig,
    pub chromadb: ChromaConfig,
    pub openwebui: OpenWebUiConfig,
    pub system: SystemConfig,
    pub health: HealthConfig,
    pub thresholds: Thresholds,
    pub snapshots: SnapshotConfig,
    pub recovery: RecoveryConfig,
    pub serve: ServeConfig,
    pub journal: JournalConfig,
    /// The target used when none is named with `--target` or `IFCTL_TARGET`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_target: Option<String>,
    /// Named stacks (`[targets.<name>]`), each overriding sections of the top level key by key.
    #[serde(skip_serializing)]
    pub targets: std::collections::BTreeMap<String, TargetSections>,
    /// The config file this came from (not a key): `disk_cleanup` never touches it.
    #[serde(skip)]
    pub source_file: Option<PathBuf>,
    /// The named target this config is for (not a key); `None` for a config without targets.
    #[serde(skip)]
    pub target: Option<String>,
}

/// What a `[targets.<name>]` table may set: the sections that describe one stack. `state_dir`,
/// `serve` and `journal` belong to the process and are shared by every target.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TargetSections {
    pub redis: Option<toml::Table>,
    pub chromadb: Option<toml::Table>,
    pub openwebui: Option<toml::Table>,
    pub system: Option<toml::Table>,
    pub health: Option<toml::Table>,
    pub thresholds: Option<toml::Table>,
    pub snapshots: Option<toml::Table>,
    pub recovery: Option<toml::Table>,
}

/// The audit journal's rotation and anchors (docs/journal.md).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JournalConfig {
    /// Rotate the live file into a numbered segment when it reaches this many MiB (0 = only by
    /// `ifctl journal rotate`).
    pub rotate_mib: u64,
    /// Gzip segments as they are rotated.
    pub compress_segments: bool,
    /// Send the chain's head to syslog every this many events (0 = only at rotations).
    pub anchor_every: u64,
    /// The local syslog socket for anchors; empty = none.
    pub syslog_socket: PathBuf,
}

impl Default for JournalConfig {
    fn default() -> Self {
        JournalConfig {
            rotate_mib: 64,
            compress_segments: true,
            anchor_every: 100,
            syslog_socket: PathBuf::from("/dev/log"),
        }
    }
}

impl JournalConfig {
    pub fn options(&self) -> crate::journal::JournalOptions {
        crate::journal::JournalOptions {
            rotate_bytes: self.rotate_mib.saturating_mul(1 << 20),
            compress_segments: self.compress_segments,
            anchor_every: self.anchor_every,
            syslog_socket: (!self.syslog_socket.as_os_str().is_empty()).then(|| self.syslog_socket.clone()),
        }
    }
}

/// `ifctl serve`: where it listens and what it may do by itself.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServeConfig {
    pub listen: String,
    /// Run recovery strategies that need no approval by themselves (queue the others once).
    pub auto_recover: bool,
    /// Name of the variable holding a bearer token required for `/status` off loopback.
    pub status_token_env: String,
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            listen: "127.0.0.1:9109".into(),
            auto_recover: true,
            status_token_env: "IFCTL_SERVE_TOKEN".into(),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            state_dir: PathBuf::new(),
            redis: RedisConfig::default(),
            chromadb: ChromaConfig::default(),
            openwebui: OpenWebUiConfig::default(),
            system: SystemConfig::default(),
            health: HealthConfig::default(),
            thresholds: Thresholds::default(),
            snapshots: SnapshotConfig::default(),
            recovery: RecoveryConfig::default(),
            serve: ServeConfig::default(),
            journal: JournalConfig::default(),
            default_target: None,
            targets: Default::default(),
            source_file: None,
            target: None,
        }
    }
}

impl Config {
    /// Built-in defaults, with the state dir under XDG_STATE_HOME.
    pub fn defaults(env: &dyn Environment) -> Config {
        Config { state_dir: super::default_state_dir(env), ..Config::default() }
    }

    pub fn critical(&self, component: Component) -> bool {
        match component {
            Component::Redis => self.redis.critical,
            Component::Chromadb => self.chromadb.critical,
            Component::Openwebui => self.openwebui.critical,
            Component::System => self.system.critical,
        }
    }

    pub fn journal_path(&self) -> PathBuf {
        self.state_dir.join("journal.jsonl")
    }

    /// Where this stack's own state lives — stored OpenWebUI token, migration checkpoints,
    /// collection locks, scratch space, default snapshots: the state dir itself for a config
    /// without targets, `<state_dir>/targets/<name>` for a named target. The journal stays one.
    pub fn target_dir(&self) -> PathBuf {
        match &self.target {
            Some(name) => self.state_dir.join("targets").join(name),
            None => self.state_dir.clone(),
        }
    }

    /// `component`, qualified by the target when there is one (`prod.redis`): names recovery
    /// locks and log scopes.
    pub fn scoped(&self, component: Component) -> String {
        match &self.target {
            Some(name) => format!("{name}.{component}"),
            None => component.to_string(),
        }
    }

    /// The target's name for people: its name, or `default` for a config without targets.
    pub fn target_name(&self) -> &str {
        self.target.as_deref().unwrap_or(DEFAULT_TARGET)
    }

    pub fn snapshot_dir(&self) -> PathBuf {
        self.snapshots.dir.clone().unwrap_or_else(|| self.target_dir().join("snapshots"))
    }

    /// Where `ifctl snapshot …` works: `snapshots.repository`, else the snapshot directory.
    pub fn snapshot_repository(&self) -> String {
        self.snapshots.repository.clone().unwrap_or_else(|| self.snapshot_dir().display().to_string())
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RedisConfig {
    pub url: String,
    /// Name of the environment variable holding the password (never the password itself).
    pub password_env: String,
    /// A file holding the password, read when the variable is unset.
    pub password_file: Option<PathBuf>,
    /// For `rediss://`: the CA certificate (PEM) that signed the server's; default the system's roots.
    pub ca_file: Option<PathBuf>,
    /// For servers that require client certificates (`tls-auth-clients yes`): PEM certificate
    /// (X.509 v3) and its key.
    pub client_cert_file: Option<PathBuf>,
    pub client_key_file: Option<PathBuf>,
    pub critical: bool,
}

impl Default for RedisConfig {
    fn default() -> Self {
        RedisConfig {
            url: "redis://127.0.0.1:6379".into(),
            password_env: "IFCTL_REDIS_PASSWORD".into(),
            password_file: None,
            ca_file: None,
            client_cert_file: None,
            client_key_file: None,
            critical: true,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChromaConfig {
    pub url: String,
    pub tenant: String,
    pub database: String,
    pub expected_collections: Vec<String>,
    pub critical: bool,
    /// A collection lock record on the server not refreshed for this long may be taken over
    /// (its holder refreshes it every sixth of this).
    #[serde(with = "human_duration")]
    pub lock_stale_after: Duration,
    /// For a Chroma behind an authenticating proxy or Chroma Cloud: the variable holding the
    /// token (never the token itself), else `token_file`.
    pub token_env: String,
    pub token_file: Option<PathBuf>,
    /// How the token is sent: `authorization` (`Authorization: Bearer <token>`, the Python
    /// client's way) or `x-chroma-token` (Chroma Cloud's API keys, the JS client).
    pub token_header: TokenHeader,
    /// For `https://` with a private CA: its certificate (PEM), trusted besides the system's roots.
    pub ca_file: Option<PathBuf>,
}

/// The header that carries Chroma's token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TokenHeader {
    #[default]
    Authorization,
    XChromaToken,
}

impl TokenHeader {
    /// `(header name, value)` for `token`.
    pub fn header(self, token: &str) -> (&'static str, String) {
        match self {
            TokenHeader::Authorization => ("authorization", format!("Bearer {token}")),
            TokenHeader::XChromaToken => ("x-chroma-token", token.to_string()),
        }
    }
}

impl Default for ChromaConfig {
    fn default() -> Self {
        ChromaConfig {
            url: "http://127.0.0.1:8000".into(),
            tenant: "default_tenant".into(),
            database: "default_database".into(),
            expected_collections: ["sergio_personality", "sergio_rhetorical", "sergio_humor", "sergio_corpus"]
                .map(String::from)
                .to_vec(),
            critical: true,
            lock_stale_after: crate::snapshot::shared_lock::DEFAULT_STALE_AFTER,
            token_env: "IFCTL_CHROMADB_TOKEN".into(),
            token_file: None,
            token_header: TokenHeader::Authorization,
            ca_file: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OpenWebUiConfig {
    pub url: String,
    /// The variable holding an API key (`sk-…`; Settings › Account), else `api_key_file`; tried
    /// before the token and a sign-in. Needs API keys enabled on the server (ENABLE_API_KEYS).
    pub api_key_env: String,
    pub api_key_file: Option<PathBuf>,
    pub token_env: String,
    pub token_file: Option<PathBuf>,
    pub email_env: String,
    pub password_env: String,
    pub password_file: Option<PathBuf>,
    pub critical: bool,
    /// Components OpenWebUI needs; when one is unhealthy the report names it as the cause.
    pub depends_on: Vec<Component>,
    /// For `https://` with a private CA: its certificate (PEM), trusted besides the system's roots.
    pub ca_file: Option<PathBuf>,
    /// Opt-in: a streamed chat completion through OpenWebUI, timed to its first token and to its end.
    pub first_token_probe: FirstTokenProbe,
}

/// `[openwebui.first_token_probe]`: what users wait for — the first streamed token of a real
/// completion — measured every round when `model` is set (it costs one small completion).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FirstTokenProbe {
    pub model: Option<String>,
    pub prompt: String,
    pub max_tokens: u32,
    /// Time to the first streamed token, in milliseconds.
    pub first_token_ms: Levels,
    /// Time to the end of the stream, in milliseconds.
    pub total_ms: Levels,
    /// How long the streamed completion may take; OpenWebUI's probe deadline (`health.timeout`)
    /// is extended by this much while the probe is on.
    #[serde(with = "human_duration")]
    pub timeout: Duration,
}

impl Default for FirstTokenProbe {
    fn default() -> FirstTokenProbe {
        FirstTokenProbe {
            model: None,
            prompt: "Reply with the single word OK.".into(),
            max_tokens: 16,
            first_token_ms: Levels::new(3000.0, 10000.0),
            total_ms: Levels::new(10000.0, 30000.0),
            timeout: Duration::from_secs(30),
        }
    }
}

impl Default for OpenWebUiConfig {
    fn default() -> Self {
        OpenWebUiConfig {
            url: "http://127.0.0.1:8080".into(),
            api_key_env: "IFCTL_OPENWEBUI_API_KEY".into(),
            api_key_file: None,
            token_env: "IFCTL_OPENWEBUI_TOKEN".into(),
            token_file: None,
            email_env: "IFCTL_OPENWEBUI_EMAIL".into(),
            password_env: "IFCTL_OPENWEBUI_PASSWORD".into(),
            password_file: None,
            critical: false,
            depends_on: vec![Component::Redis],
            ca_file: None,
            first_token_probe: FirstTokenProbe::default(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SystemConfig {
    pub disk_paths: Vec<PathBuf>,
    pub critical: bool,
}

impl Default for SystemConfig {
    fn default() -> Self {
        SystemConfig { disk_paths: vec![PathBuf::from("/")], critical: true }
    }
}

/// How probes run: their deadline, the watch interval and the circuit breaker.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HealthConfig {
    #[serde(with = "human_duration")]
    pub timeout: Duration,
    #[serde(with = "human_duration")]
    pub interval: Duration,
    /// Consecutive failed probes that open a component's circuit breaker.
    pub breaker_failures: u32,
    /// The longest an open breaker waits before one trial probe (half-open): the first wait is an
    /// eighth of it, doubling after each failed trial.
    #[serde(with = "human_duration")]
    pub breaker_open_for: Duration,
}

impl Default for HealthConfig {
    fn default() -> Self {
        HealthConfig {
            timeout: Duration::from_secs(2),
            interval: Duration::from_secs(5),
            breaker_failures: 3,
            breaker_open_for: Duration::from_secs(30),
        }
    }
}

/// A degraded and an unhealthy level for one measure; a value at or above a level reaches it.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Levels {
    pub degraded: f64,
    pub unhealthy: f64,
}

impl Levels {
    pub const fn new(degraded: f64, unhealthy: f64) -> Levels {
        Levels { degraded, unhealthy }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Thresholds {
    pub redis: RedisThresholds,
    pub chromadb: LatencyThresholds,
    pub openwebui: LatencyThresholds,
    pub system: SystemThresholds,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            redis: RedisThresholds::default(),
            chromadb: LatencyThresholds { latency_ms: Levels::new(500.0, 1500.0) },
            openwebui: LatencyThresholds { latency_ms: Levels::new(1000.0, 1800.0) },
            system: SystemThresholds::default(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RedisThresholds {
    pub latency_ms: Levels,
    /// used_memory as a percentage of maxmemory (ignored when maxmemory is 0).
    pub memory_pct: Levels,
    pub blocked_clients: Levels,
}

impl Default for RedisThresholds {
    fn default() -> Self {
        RedisThresholds {
            latency_ms: Levels::new(100.0, 1000.0),
            memory_pct: Levels::new(80.0, 95.0),
            blocked_clients: Levels::new(50.0, 500.0),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LatencyThresholds {
    pub latency_ms: Levels,
}

impl Default for LatencyThresholds {
    fn default() -> Self {
        LatencyThresholds { latency_ms: Levels::new(500.0, 1500.0) }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SystemThresholds {
    pub disk_pct: Levels,
    pub memory_pct: Levels,
}

impl Default for SystemThresholds {
    fn default() -> Self {
        SystemThresholds { disk_pct: Levels::new(85.0, 95.0), memory_pct: Levels::new(90.0, 97.0) }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SnapshotConfig {
    /// This host's snapshot directory (migrations' and recoveries' own snapshots, restore's
    /// backups). Default `<state_dir>/snapshots`.
    pub dir: Option<PathBuf>,
    /// Where `ifctl snapshot …` keeps snapshots: `s3://bucket/prefix`, `gs://…`, `az://…`,
    /// `file:///path` or a directory. Default: `dir`. Credentials come from the environment and
    /// the provider's usual chain (`AWS_ACCESS_KEY_ID`, …), never from this file.
    pub repository: Option<String>,
    /// An S3-compatible server (MinIO, Ceph, R2, moto) instead of AWS: its URL.
    pub endpoint: Option<String>,
    /// Allow `http://` endpoints (tests, a server on a private network).
    pub allow_http: bool,
    pub region: Option<String>,
    /// A repository lock not refreshed for this long may be taken over (its holder refreshes it
    /// every sixth of this; a holder on this host that has exited is taken over at once).
    #[serde(with = "human_duration")]
    pub lock_stale_after: Duration,
    pub encryption: EncryptionConfig,
}

impl Default for SnapshotConfig {
    fn default() -> SnapshotConfig {
        SnapshotConfig {
            dir: None,
            repository: None,
            endpoint: None,
            allow_http: false,
            region: None,
            lock_stale_after: Duration::from_secs(300),
            encryption: EncryptionConfig::default(),
        }
    }
}

/// age encryption of snapshots (`<name>.tar.gz.age`, readable by the `age` CLI).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EncryptionConfig {
    /// age recipients (`age1…`): when set, every `snapshot create` encrypts to them.
    pub recipients: Vec<String>,
    /// A file whose first line is a passphrase: encrypt (and decrypt) with it instead.
    pub passphrase_file: Option<PathBuf>,
    /// The age identity file (`AGE-SECRET-KEY-1…`) that `verify` and `restore` decrypt with.
    pub identity_file: Option<PathBuf>,
}

/// Recovery policy (DESIGN §6). Parsed and validated now so a full config file is accepted.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RecoveryConfig {
    /// Real recovery actions per component per rolling hour (plain retries do not count);
    /// 0: nothing is tried automatically (a person's `recover` still runs).
    pub max_attempts_per_hour: u32,
    /// The longest back-off between rounds of the escalation ladder.
    pub cooldown_seconds: u64,
    /// The first back-off between rounds; it doubles per round up to `cooldown_seconds`.
    pub backoff_initial_seconds: u64,
    /// How long a configured command (restart, memory relief, process restart) may run before
    /// its whole process group is killed.
    pub command_timeout_seconds: u64,
    /// Variables of ifctl's environment passed to configured commands, which otherwise get only
    /// PATH, HOME, USER, LOGNAME, LANG, LC_ALL and TZ (never ifctl's passwords and tokens).
    pub command_env: Vec<String>,
    pub healthy_reset_seconds: u64,
    pub approval_ttl_seconds: u64,
    pub needs_approval: Vec<String>,
    pub redis: RedisRecovery,
    pub openwebui: OpenWebUiRecovery,
    pub system: SystemRecovery,
    pub chromadb: ChromaRecovery,
    /// Per component: what still works and what is lost in its degraded mode.
    pub degraded_modes: std::collections::BTreeMap<String, DegradedCapabilities>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DegradedCapabilities {
    pub available: Vec<String>,
    pub lost: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChromaRecovery {
    /// Attempts of `query_retry` (exponential backoff with jitter from 200 ms).
    pub query_retries: u32,
    /// `snapshot_rollback` uses no snapshot older than this.
    #[serde(with = "human_duration")]
    pub rollback_max_age: Duration,
}

impl Default for ChromaRecovery {
    fn default() -> Self {
        ChromaRecovery { query_retries: 5, rollback_max_age: Duration::from_secs(7 * 24 * 3600) }
    }
}

impl Default for RecoveryConfig {
    fn default() -> Self {
        RecoveryConfig {
            max_attempts_per_hour: 3,
            cooldown_seconds: 300,
            backoff_initial_seconds: 5,
            command_timeout_seconds: 120,
            command_env: Vec::new(),
            healthy_reset_seconds: 600,
            approval_ttl_seconds: 3600,
            needs_approval: [
                "redis.flush_unexpiring",
                "redis.restart",
                "chromadb.snapshot_rollback",
                "chromadb.index_rebuild",
                "openwebui.model_failover",
                "system.process_restart",
            ]
            .map(String::from)
            .to_vec(),
            redis: RedisRecovery::default(),
            openwebui: OpenWebUiRecovery::default(),
            system: SystemRecovery::default(),
            chromadb: ChromaRecovery::default(),
            degraded_modes: Default::default(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RedisRecovery {
    pub restart_command: Option<String>,
    /// `flush_unexpiring` deletes keys without TTL matching these (never a bare `*`).
    pub flush_patterns: Vec<String>,
    /// `flush_unexpiring` deletes at most this many keys per attempt.
    pub flush_max_keys: u64,
}

impl Default for RedisRecovery {
    fn default() -> Self {
        RedisRecovery { restart_command: None, flush_patterns: vec!["cache:*".into()], flush_max_keys: 100_000 }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OpenWebUiRecovery {
    pub primary_model: Option<String>,
    pub fallback_models: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SystemRecovery {
    pub cleanup_paths: Vec<CleanupPath>,
    pub memory_relief_command: Option<String>,
    pub process_restart_command: Option<String>,
    /// `disk_cleanup` also prunes ifctl's own snapshots down to this many (0: leave them).
    pub snapshot_keep_last: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CleanupPath {
    pub path: PathBuf,
    #[serde(with = "human_duration")]
    pub older_than: Duration,
    #[serde(default = "default_glob")]
    pub glob: String,
}

fn default_glob() -> String {
    "*".into()
}

/// Durations in config are human strings: `90s`, `5m`, `1h`.
pub mod human_duration {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&humantime::format_duration(*value).to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(d)?;
        humantime::parse_duration(&text).map_err(|e| {
            serde::de::Error::custom(format!("`{text}` is not a duration ({e}); write e.g. `90s`, `5m`, `1h`"))
        })
    }
}

/// The shortest probe interval: below it a probe's deadline is too short to tell a slow server
/// from a dead one, and healthy servers flap.
pub const MIN_INTERVAL: Duration = Duration::from_millis(250);

/// Checks what types alone cannot: URL schemes, collection names, threshold order.
pub(super) fn validate(resolved: &Resolved) -> Result<(), ConfigError> {
    let c = &resolved.config;
    let fail = |key: &str, reason: String| {
        let mut shown = key.to_string();
        let origin = match resolved.source_of(key) {
            Source::Default => "built-in default".to_string(),
            Source::File(path) | Source::Target(path, _) => match resolved.line_of(key) {
                Some(line) => format!("config file `{}` (line {line})", path.display()),
                None => format!("config file `{}`", path.display()),
            },
            Source::Env(var) => format!("environment variable `{var}`"),
            Source::Flag(flag) => format!("flag `{flag}`"),
        };
        if let Source::Target(_, name) = resolved.source_of(key) {
            shown = format!("targets.{name}.{key}");
        }
        let reason = match &resolved.config.target {
            Some(name) if !shown.starts_with("targets.") => format!("{reason} (in target `{name}`, which inherits it)"),
            _ => reason,
        };
        Err(ConfigError::Invalid { origin, key: shown, reason })
    };
    check_url(&c.redis.url, &["redis", "rediss", "unix"]).or_else(|r| fail("redis.url", r))?;
    check_url(&c.chromadb.url, &["http", "https"]).or_else(|r| fail("chromadb.url", r))?;
    check_url(&c.openwebui.url, &["http", "https"]).or_else(|r| fail("openwebui.url", r))?;
    for (i, name) in c.chromadb.expected_collections.iter().enumerate() {
        if !valid_collection_name(name) {
            fail(
                &format!("chromadb.expected_collections[{i}]"),
                format!(
                    "`{name}` is not a valid Chroma collection name (3–512 characters from [a-zA-Z0-9._-], starting and ending with a letter or digit)"
                ),
            )?;
        }
    }
    for (key, value) in [("chromadb.tenant", &c.chromadb.tenant), ("chromadb.database", &c.chromadb.database)] {
        if value.trim().is_empty() {
            fail(key, "must not be empty".into())?;
        }
    }
    if c.system.disk_paths.iter().any(|p| !p.is_absolute()) {
        fail("system.disk_paths", "every path must be absolute".into())?;
    }
    if c.openwebui.depends_on.contains(&Component::Openwebui) {
        fail("openwebui.depends_on", "OpenWebUI cannot depend on itself".into())?;
    }
    if c.health.timeout.is_zero() {
        fail("health.timeout", "must be greater than zero".into())?;
    }
    if c.health.interval.is_zero() {
        fail("health.interval", "must be greater than zero".into())?;
    }
    // Ranges: short enough not to overflow time arithmetic, long enough to mean something.
    let day = Duration::from_secs(86_400);
    for (key, value, min, max) in [
        ("health.interval", c.health.interval, MIN_INTERVAL, day),
        ("health.timeout", c.health.timeout, Duration::from_millis(50), Duration::from_secs(600)),
        ("health.breaker_open_for", c.health.breaker_open_for, Duration::ZERO, day),
        ("chromadb.lock_stale_after", c.chromadb.lock_stale_after, Duration::from_secs(1), day),
        ("snapshots.lock_stale_after", c.snapshots.lock_stale_after, Duration::from_secs(1), day),
        (
            "openwebui.first_token_probe.timeout",
            c.openwebui.first_token_probe.timeout,
            Duration::from_millis(100),
            Duration::from_secs(600),
        ),
        ("recovery.chromadb.rollback_max_age", c.recovery.chromadb.rollback_max_age, Duration::ZERO, day * 3650),
    ] {
        if value < min || value > max {
            fail(
                key,
                format!(
                    "{} is outside {} … {}",
                    humantime::format_duration(value),
                    humantime::format_duration(min),
                    humantime::format_duration(max)
                ),
            )?;
        }
    }
    let week = 7 * 86_400;
    for (key, value, max) in [
        ("recovery.cooldown_seconds", c.recovery.cooldown_seconds, week),
        ("recovery.healthy_reset_seconds", c.recovery.healthy_reset_seconds, week),
        ("recovery.approval_ttl_seconds", c.recovery.approval_ttl_seconds, week),
        ("recovery.backoff_initial_seconds", c.recovery.backoff_initial_seconds, week),
        ("recovery.command_timeout_seconds", c.recovery.command_timeout_seconds, 86_400),
    ] {
        if value > max {
            fail(key, format!("{value} is more than {max}"))?;
        }
    }
    if c.health.timeout > c.health.interval {
        // Name the one that was set: a short interval under the default timeout is the interval's.
        let key =
            if resolved.source_of("health.timeout") == Source::Default { "health.interval" } else { "health.timeout" };
        fail(
            key,
            format!(
                "`health.timeout` ({}) is longer than `health.interval` ({}): a probe would still run when the next is due",
                humantime::format_duration(c.health.timeout),
                humantime::format_duration(c.health.interval)
            ),
        )?;
    }
    let r = &c.recovery;
    for (key, value) in [
        ("recovery.healthy_reset_seconds", r.healthy_reset_seconds),
        ("recovery.approval_ttl_seconds", r.approval_ttl_seconds),
        ("recovery.backoff_initial_seconds", r.backoff_initial_seconds),
        ("recovery.command_timeout_seconds", r.command_timeout_seconds),
    ] {
        if value == 0 {
            fail(key, "must be at least 1".into())?;
        }
    }
    for (i, pattern) in r.redis.flush_patterns.iter().enumerate() {
        if pattern.chars().all(|c| matches!(c, '*' | '?')) {
            fail(
                &format!("recovery.redis.flush_patterns[{i}]"),
                format!(
                    "`{pattern}` matches every key: `flush_unexpiring` would delete all data without a TTL, not only a cache; name the cache's prefix, e.g. `cache:*`"
                ),
            )?;
        }
    }
    if r.redis.flush_max_keys == 0 {
        fail("recovery.redis.flush_max_keys", "must be at least 1".into())?;
    }
    if r.cooldown_seconds < r.backoff_initial_seconds {
        fail(
            "recovery.cooldown_seconds",
            format!(
                "{} is shorter than `recovery.backoff_initial_seconds` ({}); the back-off grows from that up to this",
                r.cooldown_seconds, r.backoff_initial_seconds
            ),
        )?;
    }
    if c.serve.listen.parse::<std::net::SocketAddr>().is_err() {
        fail("serve.listen", format!("`{}` is not an address like 127.0.0.1:9109", c.serve.listen))?;
    }
    if c.health.breaker_failures == 0 {
        fail("health.breaker_failures", "must be at least 1".into())?;
    }
    if c.chromadb.lock_stale_after < Duration::from_secs(1) {
        fail("chromadb.lock_stale_after", "must be at least 1s (holders refresh every sixth of it)".into())?;
    }
    let t = &c.thresholds;
    for (key, levels) in [
        ("thresholds.redis.latency_ms", t.redis.latency_ms),
        ("thresholds.redis.memory_pct", t.redis.memory_pct),
        ("thresholds.redis.blocked_clients", t.redis.blocked_clients),
        ("thresholds.chromadb.latency_ms", t.chromadb.latency_ms),
        ("thresholds.openwebui.latency_ms", t.openwebui.latency_ms),
        ("thresholds.system.disk_pct", t.system.disk_pct),
        ("thresholds.system.memory_pct", t.system.memory_pct),
    ] {
        if !(levels.degraded.is_finite() && levels.unhealthy.is_finite()) {
            fail(
                key,
                format!(
                    "degraded ({}) and unhealthy ({}) must be finite numbers: nan and inf compare with nothing and are not JSON",
                    levels.degraded, levels.unhealthy
                ),
            )?;
        }
        if !(levels.degraded >= 0.0 && levels.degraded <= levels.unhealthy) {
            fail(
                key,
                format!(
                    "degraded ({}) must be a non-negative number no greater than unhealthy ({})",
                    levels.degraded, levels.unhealthy
                ),
            )?;
        }
    }
    for (i, name) in c.recovery.needs_approval.iter().enumerate() {
        if crate::recovery::Strategy::from_qualified(name).is_none() {
            let known: Vec<String> = crate::recovery::Strategy::ALL.iter().map(|s| s.qualified()).collect();
            fail(
                &format!("recovery.needs_approval[{i}]"),
                format!(
                    "`{name}` is not a strategy; a typo here would let it run without approval. Known: {}",
                    known.join(", ")
                ),
            )?;
        }
    }
    Ok(())
}

fn check_url(raw: &str, schemes: &[&str]) -> Result<(), String> {
    let url = url::Url::parse(raw).map_err(|e| format!("`{raw}` is not a URL ({e})"))?;
    if !schemes.contains(&url.scheme()) {
        return Err(format!("`{raw}` has scheme `{}`; expected one of: {}", url.scheme(), schemes.join(", ")));
    }
    if url.scheme() != "unix" && url.host_str().is_none_or(str::is_empty) {
        return Err(format!("`{raw}` has no host"));
    }
    Ok(())
}

/// Chroma's rule: 3–512 characters from `[a-zA-Z0-9._-]`, starting and ending alphanumeric.
pub fn valid_collection_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    (3..=512).contains(&bytes.len())
        && bytes.iter().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(b))
        && bytes[0].is_ascii_alphanumeric()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
}
