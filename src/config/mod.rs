//! Resolved configuration (DESIGN §3): built-in defaults < TOML file < `IFCTL_*` environment < flags.
//!
//! Commands read only the resolved [`Config`]; [`Resolved::sources`] says where each value came from.

mod model;
mod secret;
mod show;

pub use model::*;
pub use secret::{Secret, mask_values, redact_json, redact_userinfo, remember};
pub use show::{ShownValue, shown_values};

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// Environment variables ifctl reads. Each is documented in `ifctl config show` and the README.
pub mod env {
    pub const CONFIG: &str = "IFCTL_CONFIG";
    pub const STATE_DIR: &str = "IFCTL_STATE_DIR";
    pub const REDIS_URL: &str = "IFCTL_REDIS_URL";
    pub const CHROMADB_URL: &str = "IFCTL_CHROMADB_URL";
    pub const CHROMADB_TENANT: &str = "IFCTL_CHROMADB_TENANT";
    pub const CHROMADB_DATABASE: &str = "IFCTL_CHROMADB_DATABASE";
    /// Comma-separated collection names.
    pub const CHROMADB_COLLECTIONS: &str = "IFCTL_CHROMADB_COLLECTIONS";
    pub const OPENWEBUI_URL: &str = "IFCTL_OPENWEBUI_URL";
    pub const SNAPSHOT_DIR: &str = "IFCTL_SNAPSHOT_DIR";
    pub const SNAPSHOT_REPO: &str = "IFCTL_SNAPSHOT_REPO";
    /// Comma-separated paths whose disk use the system check reports.
    pub const DISK_PATHS: &str = "IFCTL_DISK_PATHS";
}

/// Where a resolved value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Default,
    File(PathBuf),
    Env(String),
    Flag(&'static str),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Default => f.write_str("default"),
            Source::File(path) => write!(f, "file {}", path.display()),
            Source::Env(var) => write!(f, "env {var}"),
            Source::Flag(flag) => write!(f, "flag {flag}"),
        }
    }
}

/// A configuration error: what was wrong, where (file, key, env var) and why.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file `{}`: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("config file `{}` is not valid TOML (line {line}, column {column}): {reason}", path.display())]
    Syntax { path: PathBuf, line: usize, column: usize, reason: String },
    #[error("{origin}: key `{key}`: {reason}")]
    Invalid { origin: String, key: String, reason: String },
    #[error("config file `{}` {reason}", path.display())]
    Insecure { path: PathBuf, reason: String },
}

impl ConfigError {
    /// The config key at fault, when there is one.
    pub fn key(&self) -> Option<&str> {
        match self {
            ConfigError::Invalid { key, .. } => Some(key),
            _ => None,
        }
    }
}

/// Values given on the command line, the last layer.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub config_file: Option<PathBuf>,
    pub state_dir: Option<PathBuf>,
}

/// The process environment as seen by config resolution, so tests can pass their own.
pub trait Environment {
    fn var(&self, name: &str) -> Option<String>;
}

/// The real process environment.
pub struct ProcessEnv;

impl Environment for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.is_empty())
    }
}

impl Environment for BTreeMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).cloned().filter(|v| !v.is_empty())
    }
}

/// The configuration in force and where every value came from.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub config: Config,
    /// The config file that was read, if any.
    pub file: Option<PathBuf>,
    /// Source of every value not left at its default, by dotted key (`redis.url`).
    pub sources: BTreeMap<String, Source>,
    /// The line of every key and array element set in the config file (`recovery.needs_approval[1]`).
    pub lines: BTreeMap<String, usize>,
}

impl Resolved {
    /// The config file line that sets `key` (or the table or array that holds it).
    pub fn line_of(&self, key: &str) -> Option<usize> {
        line_in(&self.lines, key)
    }

    pub fn source_of(&self, key: &str) -> Source {
        // A value set as a whole table or array covers the keys below it.
        let mut probe = key;
        loop {
            if let Some(source) = self.sources.get(probe) {
                return source.clone();
            }
            match probe.rfind(['.', '[']) {
                Some(cut) => probe = &probe[..cut],
                None => break,
            }
        }
        // A table shown as one value (`{degraded, unhealthy}`) takes the source of its keys.
        let below = format!("{key}.");
        self.sources.iter().find(|(k, _)| k.starts_with(&below)).map_or(Source::Default, |(_, source)| source.clone())
    }
}

/// Creates a directory of ifctl's state (and its missing parents) readable by its owner only
/// (0700): the journal, snapshots, locks and tokens are nobody else's business.
pub fn private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)
}

/// Refuses a config file others may change: it names commands that run by themselves (as ssh
/// refuses a group- or world-writable config). `real` is `path` with links resolved.
fn check_file_mode(path: &Path, real: &Path) -> Result<(), ConfigError> {
    use std::os::unix::fs::MetadataExt;
    let insecure = |reason: String| Err(ConfigError::Insecure { path: path.to_path_buf(), reason });
    let me = rustix::process::geteuid().as_raw();
    let Ok(meta) = std::fs::metadata(real) else { return Ok(()) };
    if meta.uid() != me && meta.uid() != 0 {
        return insecure(format!(
            "belongs to user id {}, neither you ({me}) nor root, and it names commands ifctl runs by itself; `chown` it",
            meta.uid()
        ));
    }
    if let Some(dir) = real.parent() {
        if let Ok(dir_meta) = std::fs::metadata(dir) {
            let dir_mode = dir_meta.mode() & 0o7777;
            // Others may replace the file in a directory they can write (unless it is sticky).
            if dir_mode & 0o022 != 0 && dir_mode & 0o1000 == 0 {
                return insecure(format!(
                    "is in `{}`, which others can write (mode {dir_mode:04o}): they could replace it; run `chmod go-w {}`",
                    dir.display(),
                    dir.display()
                ));
            }
        }
    }
    let mode = meta.mode() & 0o7777;
    if mode & 0o022 != 0 {
        return insecure(format!(
            "is writable by {} (mode {mode:04o}), and it names commands ifctl runs by itself; run `chmod go-w {}`",
            if mode & 0o002 != 0 { "every user" } else { "its group" },
            path.display()
        ));
    }
    Ok(())
}

/// Resolves the configuration from defaults, file, environment and flags, then validates it.
pub fn resolve(env: &dyn Environment, overrides: &Overrides) -> Result<Resolved, ConfigError> {
    let file = match (&overrides.config_file, env.var(env::CONFIG)) {
        (Some(path), _) => Some((path.clone(), true)),
        (None, Some(path)) => Some((PathBuf::from(path), true)),
        (None, None) => default_config_file(env).map(|p| (p, false)),
    };
    let mut sources = BTreeMap::new();
    let mut lines = BTreeMap::new();
    let (mut config, file) = match file {
        Some((path, explicit)) => match std::fs::read_to_string(&path) {
            Ok(text) => {
                // The file's real directory: a config reached through a link anchors where it lives,
                // so every way of naming it gives one journal.
                let real = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
                check_file_mode(&path, &real)?;
                let mut config = parse_file(&path, &text)?;
                record_file_keys(&path, &text, &mut sources, &mut lines);
                anchor_paths(&mut config, real.parent().unwrap_or(Path::new(".")));
                config.source_file = Some(real);
                (config, Some(path))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => (Config::defaults(env), None),
            Err(source) => return Err(ConfigError::Read { path, source }),
        },
        None => (Config::defaults(env), None),
    };
    if file.is_some() && !sources.contains_key("state_dir") {
        config.state_dir = default_state_dir(env);
    }
    apply_env(env, &mut config, &mut sources)?;
    if let Some(dir) = &overrides.state_dir {
        config.state_dir = dir.clone();
        sources.insert("state_dir".into(), Source::Flag("--state-dir"));
    }
    for url in [&config.redis.url, &config.chromadb.url, &config.openwebui.url] {
        secret::remember_url_secrets(url);
    }
    // Relative paths from the environment or flags mean the working directory, as on any command
    // line; made absolute now, so every process and `config show` agree on one journal.
    if let Ok(cwd) = std::env::current_dir() {
        anchor_paths(&mut config, &cwd);
    }
    let resolved = Resolved { config, file, sources, lines };
    model::validate(&resolved)?;
    Ok(resolved)
}

/// Makes every relative path of the config absolute against `base` — for the config file, its own
/// directory, so the state dir, secret files and cleanup paths do not depend on where a command
/// was started from. Already absolute paths stay as they are.
fn anchor_paths(config: &mut Config, base: &Path) {
    let base = if base.as_os_str().is_empty() { Path::new(".") } else { base };
    let base = std::path::absolute(base).unwrap_or_else(|_| base.to_path_buf());
    let anchor = |p: &mut PathBuf| {
        if !p.as_os_str().is_empty() && p.is_relative() {
            *p = base.join(&*p);
        }
    };
    anchor(&mut config.state_dir);
    anchor(&mut config.journal.syslog_socket);
    for p in [
        &mut config.redis.password_file,
        &mut config.redis.ca_file,
        &mut config.redis.client_cert_file,
        &mut config.redis.client_key_file,
        &mut config.chromadb.token_file,
        &mut config.chromadb.ca_file,
        &mut config.openwebui.api_key_file,
        &mut config.openwebui.ca_file,
        &mut config.openwebui.password_file,
        &mut config.openwebui.token_file,
        &mut config.snapshots.dir,
        &mut config.snapshots.encryption.passphrase_file,
        &mut config.snapshots.encryption.identity_file,
    ]
    .into_iter()
    .flatten()
    {
        anchor(p);
    }
    for rule in &mut config.recovery.system.cleanup_paths {
        anchor(&mut rule.path);
    }
    if let Some(repo) = config.snapshots.repository.as_mut().filter(|r| !r.contains("://") && !r.is_empty()) {
        let mut path = PathBuf::from(&*repo);
        anchor(&mut path);
        *repo = path.display().to_string();
    }
}

fn parse_file(path: &Path, text: &str) -> Result<Config, ConfigError> {
    let deserializer = toml::Deserializer::new(text);
    serde_path_to_error::deserialize::<_, Config>(deserializer).map_err(|err| {
        let key = err.path().to_string();
        let inner = err.into_inner();
        let (line, column) = inner.span().map(|s| line_col(text, s.start)).unwrap_or((0, 0));
        if key.is_empty() || key == "." {
            ConfigError::Syntax { path: path.to_path_buf(), line, column, reason: inner.message().to_string() }
        } else {
            let at = if line > 0 { format!(" (line {line})") } else { String::new() };
            ConfigError::Invalid {
                origin: format!("config file `{}`{at}", path.display()),
                key,
                reason: inner.message().trim().to_string(),
            }
        }
    })
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rfind('\n').map_or(before.len(), |nl| before.len() - nl - 1) + 1;
    (line, column)
}

/// The line of every key and array element of a TOML text (`fields.speaker.type`, `a.b[2]`).
pub fn key_lines(text: &str) -> BTreeMap<String, usize> {
    let mut lines = BTreeMap::new();
    record_file_keys(Path::new(""), text, &mut BTreeMap::new(), &mut lines);
    lines
}

/// The line that sets `key`, or the table or array that holds it.
pub fn line_in(lines: &BTreeMap<String, usize>, key: &str) -> Option<usize> {
    let mut probe = key;
    loop {
        if let Some(line) = lines.get(probe) {
            return Some(*line);
        }
        probe = &probe[..probe.rfind(['.', '['])?];
    }
}

fn record_file_keys(
    path: &Path,
    text: &str,
    sources: &mut BTreeMap<String, Source>,
    lines: &mut BTreeMap<String, usize>,
) {
    use toml_edit::{Item, Value};
    let line = |span: Option<std::ops::Range<usize>>| span.map(|s| line_col(text, s.start).0);
    fn walk_value(
        key: &str,
        value: &Value,
        line: &dyn Fn(Option<std::ops::Range<usize>>) -> Option<usize>,
        lines: &mut BTreeMap<String, usize>,
    ) {
        if let Some(at) = line(value.span()) {
            lines.insert(key.to_string(), at);
        }
        match value {
            Value::Array(array) => {
                for (i, v) in array.iter().enumerate() {
                    walk_value(&format!("{key}[{i}]"), v, line, lines);
                }
            }
            Value::InlineTable(table) => {
                for (k, v) in table.iter() {
                    walk_value(&format!("{key}.{k}"), v, line, lines);
                }
            }
            _ => {}
        }
    }
    fn walk(
        prefix: &str,
        table: &toml_edit::Table,
        path: &Path,
        line: &dyn Fn(Option<std::ops::Range<usize>>) -> Option<usize>,
        sources: &mut BTreeMap<String, Source>,
        lines: &mut BTreeMap<String, usize>,
    ) {
        for (key, item) in table.iter() {
            let full = if prefix.is_empty() { key.to_string() } else { format!("{prefix}.{key}") };
            match item {
                Item::Table(inner) => {
                    if let Some(at) = line(inner.span()) {
                        lines.insert(full.clone(), at);
                    }
                    walk(&full, inner, path, line, sources, lines)
                }
                Item::Value(value) => {
                    walk_value(&full, value, line, lines);
                    if let Some(at) = table.key(key).and_then(|k| line(k.span())) {
                        lines.insert(full.clone(), at);
                    }
                    sources.insert(full, Source::File(path.to_path_buf()));
                }
                Item::ArrayOfTables(array) => {
                    for (i, inner) in array.iter().enumerate() {
                        let element = format!("{full}[{i}]");
                        if let Some(at) = line(inner.span()) {
                            lines.insert(element.clone(), at);
                        }
                        walk(&element, inner, path, line, sources, lines);
                    }
                    sources.insert(full, Source::File(path.to_path_buf()));
                }
                Item::None => {}
            }
        }
    }
    if let Ok(doc) = toml_edit::ImDocument::parse(text) {
        walk("", doc.as_table(), path, &line, sources, lines);
    }
}

fn apply_env(
    env: &dyn Environment,
    config: &mut Config,
    sources: &mut BTreeMap<String, Source>,
) -> Result<(), ConfigError> {
    let mut set = |var: &str, key: &str, apply: &mut dyn FnMut(String)| {
        if let Some(value) = env.var(var) {
            apply(value);
            sources.insert(key.to_string(), Source::Env(var.to_string()));
        }
    };
    let list = |value: String| -> Vec<String> {
        value.split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect()
    };
    set(env::STATE_DIR, "state_dir", &mut |v| config.state_dir = PathBuf::from(v));
    set(env::REDIS_URL, "redis.url", &mut |v| config.redis.url = v);
    set(env::CHROMADB_URL, "chromadb.url", &mut |v| config.chromadb.url = v);
    set(env::CHROMADB_TENANT, "chromadb.tenant", &mut |v| config.chromadb.tenant = v);
    set(env::CHROMADB_DATABASE, "chromadb.database", &mut |v| config.chromadb.database = v);
    set(env::CHROMADB_COLLECTIONS, "chromadb.expected_collections", &mut |v| {
        config.chromadb.expected_collections = list(v)
    });
    set(env::OPENWEBUI_URL, "openwebui.url", &mut |v| config.openwebui.url = v);
    set(env::SNAPSHOT_DIR, "snapshots.dir", &mut |v| config.snapshots.dir = Some(PathBuf::from(v)));
    set(env::SNAPSHOT_REPO, "snapshots.repository", &mut |v| config.snapshots.repository = Some(v));
    set(env::DISK_PATHS, "system.disk_paths", &mut |v| {
        config.system.disk_paths = list(v).into_iter().map(PathBuf::from).collect()
    });
    Ok(())
}

fn home(env: &dyn Environment) -> PathBuf {
    env.var("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("/"))
}

/// `$XDG_CONFIG_HOME/ifctl/ifctl.toml`, else `~/.config/ifctl/ifctl.toml`.
pub fn default_config_file(env: &dyn Environment) -> Option<PathBuf> {
    let base = env.var("XDG_CONFIG_HOME").map(PathBuf::from).unwrap_or_else(|| home(env).join(".config"));
    Some(base.join("ifctl").join("ifctl.toml"))
}

/// `$XDG_STATE_HOME/ifctl`, else `~/.local/state/ifctl`.
pub fn default_state_dir(env: &dyn Environment) -> PathBuf {
    env.var("XDG_STATE_HOME").map(PathBuf::from).unwrap_or_else(|| home(env).join(".local").join("state")).join("ifctl")
}

#[cfg(test)]
mod tests;
