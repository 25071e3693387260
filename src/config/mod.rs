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
    /// The named target to use (`--target` wins).
    pub const TARGET: &str = "IFCTL_TARGET";
    /// The variables that describe one stack: applied to the target in use, and ignored (with a
    /// warning) where every target is used at once.
    pub const PER_TARGET: [&str; 9] = [
        REDIS_URL,
        CHROMADB_URL,
        CHROMADB_TENANT,
        CHROMADB_DATABASE,
        CHROMADB_COLLECTIONS,
        OPENWEBUI_URL,
        SNAPSHOT_DIR,
        SNAPSHOT_REPO,
        DISK_PATHS,
    ];
}

/// Where a resolved value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Default,
    File(PathBuf),
    Env(String),
    Flag(&'static str),
    /// Set in the config file's `[targets.<name>]` table.
    Target(PathBuf, String),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Default => f.write_str("default"),
            Source::File(path) => write!(f, "file {}", path.display()),
            Source::Env(var) => write!(f, "env {var}"),
            Source::Flag(flag) => write!(f, "flag {flag}"),
            Source::Target(path, name) => write!(f, "file {} [targets.{name}]", path.display()),
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
    /// `--target NAME`.
    pub target: Option<String>,
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
    /// How this config was chosen among the file's targets (`None` without targets).
    pub chosen_by: Option<Source>,
    /// What the operator should know about how it resolved (an environment variable overriding
    /// what a target's file says).
    pub warnings: Vec<String>,
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

/// Resolves the configuration from defaults, file, environment and flags, then validates it —
/// for the target named by `--target`, `IFCTL_TARGET` or `default_target`, else the top level.
pub fn resolve(env: &dyn Environment, overrides: &Overrides) -> Result<Resolved, ConfigError> {
    let loaded = load(env, overrides)?;
    let chosen = loaded.chosen(env, overrides)?;
    loaded.stack(env, chosen, true)
}

/// Every target at once ([`Loaded::every`]) and what the operator should know about it.
#[derive(Debug)]
pub struct Every {
    pub all: Vec<Resolved>,
    /// Per-stack variables that are set but not used.
    pub warnings: Vec<String>,
    /// Inherited secrets that are set but not used (names and paths, never values).
    pub secrets: Vec<String>,
}

/// The config file read and checked, before a target is chosen.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The top level with the process-wide layers applied (state dir), not yet validated.
    base: Resolved,
    /// The file's tables without `targets` and `default_target`, as written.
    top: toml::Table,
}

/// Reads the config file (or the defaults) and applies the process-wide layers.
pub fn load(env: &dyn Environment, overrides: &Overrides) -> Result<Loaded, ConfigError> {
    let file = match (&overrides.config_file, env.var(env::CONFIG)) {
        (Some(path), _) => Some((path.clone(), true)),
        (None, Some(path)) => Some((PathBuf::from(path), true)),
        (None, None) => default_config_file(env).map(|p| (p, false)),
    };
    let mut sources = BTreeMap::new();
    let mut lines = BTreeMap::new();
    let mut top = toml::Table::new();
    let (mut config, file) = match file {
        Some((path, explicit)) => match std::fs::read_to_string(&path) {
            Ok(text) => {
                // The file's real directory: a config reached through a link anchors where it lives,
                // so every way of naming it gives one journal.
                let real = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
                check_file_mode(&path, &real)?;
                let mut config = parse_file(&path, &text)?;
                record_file_keys(&path, &text, &mut sources, &mut lines);
                top = toml::from_str(&text).unwrap_or_default();
                top.remove("targets");
                top.remove("default_target");
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
    if let Some(dir) = env.var(env::STATE_DIR) {
        config.state_dir = PathBuf::from(dir);
        sources.insert("state_dir".into(), Source::Env(env::STATE_DIR.to_string()));
    }
    if let Some(dir) = &overrides.state_dir {
        config.state_dir = dir.clone();
        sources.insert("state_dir".into(), Source::Flag("--state-dir"));
    }
    let base = Resolved { config, file, sources, lines, chosen_by: None, warnings: Vec::new() };
    for name in base.config.targets.keys() {
        if !model::valid_target_name(name) {
            return Err(ConfigError::Invalid {
                origin: base.file_origin(&format!("targets.{name}")),
                key: format!("targets.{name}"),
                reason: format!(
                    "`{name}` is not a valid target name: 1–63 characters from [A-Za-z0-9_.-], starting with a letter or digit"
                ),
            });
        }
    }
    if let Some(name) = &base.config.default_target {
        if !base.config.targets.contains_key(name) {
            let names: Vec<&str> = base.config.targets.keys().map(String::as_str).collect();
            return Err(ConfigError::Invalid {
                origin: base.file_origin("default_target"),
                key: "default_target".into(),
                reason: if names.is_empty() {
                    format!("there is no target `{name}`: the config file defines no `[targets.<name>]` tables")
                } else {
                    format!("there is no target `{name}`; the config file defines: {}", names.join(", "))
                },
            });
        }
    }
    Ok(Loaded { base, top })
}

impl Loaded {
    /// The names of the file's targets, sorted.
    pub fn names(&self) -> Vec<String> {
        self.base.config.targets.keys().cloned().collect()
    }

    pub fn default_target(&self) -> Option<&str> {
        self.base.config.default_target.as_deref()
    }

    pub fn file(&self) -> Option<&Path> {
        self.base.file.as_deref()
    }

    /// The target named by `--target`, else `IFCTL_TARGET`, else `default_target`, and which of
    /// them named it; `None` when none is named. A name the file does not define is an error.
    pub fn chosen(
        &self,
        env: &dyn Environment,
        overrides: &Overrides,
    ) -> Result<Option<(String, Source)>, ConfigError> {
        let named = match (&overrides.target, env.var(env::TARGET), &self.base.config.default_target) {
            (Some(name), _, _) => Some((name.clone(), Source::Flag("--target"), "flag `--target`".to_string())),
            (None, Some(name), _) => {
                Some((name, Source::Env(env::TARGET.into()), format!("environment variable `{}`", env::TARGET)))
            }
            (None, None, Some(name)) => {
                let source = self.base.source_of("default_target");
                Some((name.clone(), source, self.base.file_origin("default_target")))
            }
            (None, None, None) => None,
        };
        let Some((name, source, origin)) = named else { return Ok(None) };
        if self.base.config.targets.contains_key(&name) {
            return Ok(Some((name, source)));
        }
        let reason = if self.base.config.targets.is_empty() {
            format!("there is no target `{name}`: the config file defines no `[targets.<name>]` tables")
        } else {
            format!("there is no target `{name}`; the config file defines: {}", self.names().join(", "))
        };
        let key = if matches!(source, Source::Flag(_) | Source::Env(_)) { "target" } else { "default_target" };
        Err(ConfigError::Invalid { origin, key: key.into(), reason })
    }

    /// The resolved, validated config of one target (or of the top level, for `None`):
    /// the top level with the target's sections merged over it key by key, then — when
    /// `with_env` — the per-stack `IFCTL_*` variables over that.
    pub fn stack(
        &self,
        env: &dyn Environment,
        chosen: Option<(String, Source)>,
        with_env: bool,
    ) -> Result<Resolved, ConfigError> {
        let mut resolved = match &chosen {
            None => self.base.clone(),
            Some((name, _)) => self.merged(name)?,
        };
        resolved.chosen_by = chosen.map(|(_, source)| source);
        if resolved.config.target.is_some() {
            drop_inherited_secrets(&mut resolved, env, false);
        }
        if with_env {
            let before = resolved.sources.clone();
            apply_env(env, &mut resolved.config, &mut resolved.sources)?;
            // An old `export IFCTL_REDIS_URL=…` would silently point a named target at another
            // stack, whose restart command is this target's: say so every time.
            if let Some(name) = &resolved.config.target {
                for (key, source) in &resolved.sources {
                    if let (Source::Env(var), Some(was @ (Source::File(_) | Source::Target(..)))) =
                        (source, before.get(key))
                    {
                        resolved.warnings.push(format!(
                            "{var} overrides `{key}` of target `{name}` ({was}): this command acts on the stack it names"
                        ));
                    }
                }
            }
        }
        for url in [&resolved.config.redis.url, &resolved.config.chromadb.url, &resolved.config.openwebui.url] {
            secret::remember_url_secrets(url);
        }
        // Relative paths from the environment or flags mean the working directory, as on any command
        // line; made absolute now, so every process and `config show` agree on one journal.
        if let Ok(cwd) = std::env::current_dir() {
            anchor_paths(&mut resolved.config, &cwd);
        }
        model::validate(&resolved)?;
        Ok(resolved)
    }

    /// Every target, resolved (the top level alone for a file without targets), and warnings
    /// for the operator. Two things a target inherits would reach every stack at once, so here —
    /// unlike for the one target in use — they do not apply: the per-stack variables (one server
    /// for all) and secrets the target's own table does not name (one stack's password sent to
    /// every other). Snapshot places must be apart: neither the same nor one inside another.
    pub fn every(&self, env: &dyn Environment) -> Result<Every, ConfigError> {
        if self.base.config.targets.is_empty() {
            return Ok(Every { all: vec![self.stack(env, None, true)?], warnings: Vec::new(), secrets: Vec::new() });
        }
        let mut warnings = Vec::new();
        let set: Vec<&'static str> = env::PER_TARGET.iter().copied().filter(|v| env.var(v).is_some()).collect();
        if !set.is_empty() {
            warnings.push(format!(
                "{} set: a command on one target (--target, IFCTL_TARGET, default_target) uses {} instead of the file, but with every target at once {} ignored",
                set.join(", "),
                if set.len() == 1 { "it" } else { "them" },
                if set.len() == 1 { "it is" } else { "they are" },
            ));
        }
        let mut all: Vec<Resolved> = Vec::new();
        let mut dropped: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for name in self.names() {
            let source = self.base.source_of(&format!("targets.{name}"));
            let mut resolved = self.stack(env, Some((name.clone(), source)), false)?;
            for what in drop_inherited_secrets(&mut resolved, env, true) {
                dropped.entry(what).or_default().push(name.clone());
            }
            let location = resolved.config.snapshot_repository();
            let inside = |a: &str, b: &str| {
                // `file:///x` and `/x` are one place.
                let plain = |p: &str| p.strip_prefix("file://").unwrap_or(p).trim_end_matches('/').to_string();
                let (a, b) = (plain(a), plain(b));
                let (a, b) = (a.as_str(), b.as_str());
                a == b || b.starts_with(&format!("{a}/")) || a.starts_with(&format!("{b}/"))
            };
            if let Some(other) = all.iter().find(|o| inside(&o.config.snapshot_repository(), &location)) {
                return Err(ConfigError::Invalid {
                    origin: self.base.file_origin(&format!("targets.{name}.snapshots")),
                    key: format!("targets.{name}.snapshots"),
                    reason: format!(
                        "targets `{}` and `{name}` keep snapshots in the same place or one inside the other ({} and {location}); prune and restore would mix their snapshots — give each its own `snapshots.dir` or `snapshots.repository`",
                        other.config.target_name(),
                        other.config.snapshot_repository()
                    ),
                });
            }
            all.push(resolved);
        }
        let mut secrets = Vec::new();
        for (what, targets) in dropped {
            secrets.push(format!(
                "{what} is not used for target{} {} when every target is checked: inherited secrets would go to every stack; name one in each target's own table (e.g. `[targets.{}.redis] password_env = \"…\"`)",
                if targets.len() == 1 { "" } else { "s" },
                targets.join(", "),
                targets[0]
            ));
        }
        Ok(Every { all, warnings, secrets })
    }

    /// The top level with `[targets.<name>]` merged over it; sources and lines re-keyed so that
    /// `redis.url` set by the target reads "file … [targets.prod]" at the target's line.
    fn merged(&self, name: &str) -> Result<Resolved, ConfigError> {
        let base = &self.base;
        let sections = base.config.targets.get(name).cloned().unwrap_or_default();
        let mut tree = self.top.clone();
        let own = toml::Value::try_from(&sections).ok().and_then(|v| v.as_table().cloned()).unwrap_or_default();
        merge_tables(&mut tree, &own);
        let prefix = format!("targets.{name}.");
        let path = base.file.clone().unwrap_or_default();
        let mut config: Config = serde_path_to_error::deserialize(toml::Value::Table(tree)).map_err(|err| {
            let key = format!("{prefix}{}", err.path());
            ConfigError::Invalid {
                origin: base.file_origin(&key),
                key,
                reason: err.into_inner().message().trim().to_string(),
            }
        })?;
        if let Some(dir) = base.config.source_file.as_deref().and_then(Path::parent) {
            anchor_paths(&mut config, dir);
        }
        config.state_dir = base.config.state_dir.clone();
        config.source_file = base.config.source_file.clone();
        config.default_target = base.config.default_target.clone();
        config.targets = base.config.targets.clone();
        config.target = Some(name.to_string());
        let mut sources: BTreeMap<String, Source> = base
            .sources
            .iter()
            .filter(|(k, _)| !k.starts_with("targets."))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let mut lines: BTreeMap<String, usize> =
            base.lines.iter().filter(|(k, _)| !k.starts_with("targets.")).map(|(k, v)| (k.clone(), *v)).collect();
        for (key, _) in base.sources.iter().filter(|(k, _)| k.starts_with(&prefix)) {
            sources.insert(key[prefix.len()..].to_string(), Source::Target(path.clone(), name.to_string()));
        }
        for (key, line) in base.lines.iter().filter(|(k, _)| k.starts_with(&prefix)) {
            lines.insert(key[prefix.len()..].to_string(), *line);
        }
        // Snapshots inherited from the top level get a place of their own per target: two
        // stacks' snapshots in one place would be pruned and restored as one.
        let own_place = |key: &str| matches!(sources.get(key), Some(Source::Target(..)));
        if !own_place("snapshots.dir") && !own_place("snapshots.repository") {
            if let Some(dir) = config.snapshots.dir.as_mut().filter(|_| sources.contains_key("snapshots.dir")) {
                *dir = dir.join(name);
            }
            if let Some(repo) = config.snapshots.repository.as_mut().filter(|r| !r.is_empty()) {
                *repo = format!("{}/{name}", repo.trim_end_matches('/'));
            }
        }
        Ok(Resolved { config, file: base.file.clone(), sources, lines, chosen_by: None, warnings: Vec::new() })
    }
}

/// Where each secret comes from: its variable's key and, if any, its file's key.
const SECRET_SOURCES: [(&str, Option<&str>); 6] = [
    ("redis.password_env", Some("redis.password_file")),
    ("chromadb.token_env", Some("chromadb.token_file")),
    ("openwebui.api_key_env", Some("openwebui.api_key_file")),
    ("openwebui.token_env", Some("openwebui.token_file")),
    ("openwebui.email_env", None),
    ("openwebui.password_env", Some("openwebui.password_file")),
];

/// Whether a secret variable name is one ifctl put in place of an inherited one it does not use
/// (its text says why and which key to set); hints show it as it is.
pub fn unused_secret(name: &str) -> bool {
    name.starts_with('<')
}

/// The secrets a target may use. A target that names one source of a secret (its variable or
/// its file) uses only that: the inherited other one (say the default `IFCTL_REDIS_PASSWORD`,
/// exported for another stack) is not used. With `every_target`, one that names neither uses none:
/// the top level's would go to every stack at once. Returns what was set and is not used
/// (variable names, `file` paths — never values), for a warning.
fn drop_inherited_secrets(resolved: &mut Resolved, env: &dyn Environment, every_target: bool) -> Vec<String> {
    let name = resolved.config.target_name().to_string();
    let mut value = serde_json::to_value(&resolved.config).unwrap_or_default();
    let mut dropped = Vec::new();
    let mut changed = false;
    for (var_key, file_key) in SECRET_SOURCES {
        let own = |key: &str| matches!(resolved.source_of(key), Source::Target(..));
        let (own_var, own_file) = (own(var_key), file_key.is_some_and(own));
        if own_var && (own_file || file_key.is_none()) {
            continue;
        }
        let (var_section, var_field) = var_key.split_once('.').expect("dotted");
        let file = file_key.map(|k| k.split_once('.').expect("dotted"));
        let placeholder = match (own_var, own_file) {
            (false, true) => format!("<not used: targets.{name}.{} is set>", file_key.unwrap_or_default()),
            (true, _) => String::new(),
            (false, false) if every_target => {
                format!("<inherited, not used with every target at once: set targets.{name}.{var_key}>")
            }
            (false, false) => continue,
        };
        if !own_var {
            if let Some(var) = value[var_section][var_field].as_str().filter(|v| env.var(v).is_some())
                && !own_file
            {
                dropped.push(var.to_string());
            }
            value[var_section][var_field] = serde_json::json!(placeholder);
            changed = true;
        }
        if let Some((section, field)) = file.filter(|_| !own_file) {
            if let Some(path) = value[section][field].as_str().filter(|_| !own_var) {
                dropped.push(format!("file `{path}`"));
            }
            if !value[section][field].is_null() {
                value[section][field] = serde_json::Value::Null;
                changed = true;
            }
        }
    }
    if changed && let Ok(mut config) = serde_json::from_value::<Config>(value) {
        config.source_file = resolved.config.source_file.take();
        config.target = resolved.config.target.take();
        config.targets = std::mem::take(&mut resolved.config.targets);
        resolved.config = config;
    }
    dropped
}

/// Merges `over` into `into` key by key: tables merge, every other value (arrays too) replaces.
fn merge_tables(into: &mut toml::Table, over: &toml::Table) {
    for (key, value) in over {
        match (into.get_mut(key), value) {
            (Some(toml::Value::Table(mine)), toml::Value::Table(theirs)) => merge_tables(mine, theirs),
            _ => {
                into.insert(key.clone(), value.clone());
            }
        }
    }
}

impl Resolved {
    /// "config file `…` (line N)" for a key of the file.
    fn file_origin(&self, key: &str) -> String {
        let path = self.file.as_deref().unwrap_or(Path::new("(none)"));
        match self.line_of(key) {
            Some(line) => format!("config file `{}` (line {line})", path.display()),
            None => format!("config file `{}`", path.display()),
        }
    }

    /// Whether the target was named for this command (`--target`, `IFCTL_TARGET`) rather than
    /// taken from `default_target`: commands that read across targets narrow only to a named one.
    pub fn target_named(&self) -> bool {
        matches!(self.chosen_by, Some(Source::Flag(_) | Source::Env(_)))
    }

    /// The names of the config file's targets, sorted.
    pub fn target_names(&self) -> Vec<String> {
        self.config.targets.keys().cloned().collect()
    }
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
                    // An inline table sets its keys, not the whole section (a target's
                    // `redis = { url = … }` leaves the rest of `redis` inherited).
                    match value {
                        Value::InlineTable(inner) => inline_sources(&full, inner, path, sources),
                        _ => {
                            sources.insert(full, Source::File(path.to_path_buf()));
                        }
                    }
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
    fn inline_sources(
        prefix: &str,
        table: &toml_edit::InlineTable,
        path: &Path,
        sources: &mut BTreeMap<String, Source>,
    ) {
        for (key, value) in table.iter() {
            let full = format!("{prefix}.{key}");
            match value {
                Value::InlineTable(inner) => inline_sources(&full, inner, path, sources),
                _ => {
                    sources.insert(full, Source::File(path.to_path_buf()));
                }
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
