//! The migration spec: a TOML file mapping old record metadata to the new schema, field by field.
//!
//! Each target field takes its value from exactly one source — `from` (a source field), `value`
//! (a constant), `derive` (`word_count` of the document, or a `citation` id) or `template`
//! (`"{source}/{speaker}"`) — is converted to its `type`, falls back to `default` when the source
//! is missing, and fails the row when `required` and still missing. A field can take another
//! source in some collections (`[fields.X.collections.NAME]`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The parsed spec.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// Spec format version (1).
    pub version: u32,
    /// Collections to migrate; empty means every collection.
    #[serde(default)]
    pub collections: Vec<String>,
    /// `in_place` (staging collection, then swap) or `suffix` (new collections `<name><suffix>`).
    #[serde(default)]
    pub target: Target,
    #[serde(default = "default_suffix")]
    pub target_suffix: String,
    /// Keep source metadata keys no target field maps (default: drop them).
    #[serde(default)]
    pub keep_unmapped: bool,
    /// Share of rows per collection that may be quarantined as unconvertible (default 0).
    #[serde(default)]
    pub max_quarantine_pct: f64,
    /// Merged into each target collection's metadata (scalars only).
    #[serde(default)]
    pub collection_metadata: BTreeMap<String, toml::Value>,
    /// Target fields, by name. Order of the output metadata does not matter (Chroma sorts nothing).
    pub fields: BTreeMap<String, FieldSpec>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    #[default]
    InPlace,
    Suffix,
}

fn default_suffix() -> String {
    "_v2".into()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldSpec {
    #[serde(flatten)]
    pub source: SourceSpec,
    #[serde(rename = "type")]
    pub kind: Option<FieldType>,
    pub default: Option<toml::Value>,
    #[serde(default = "yes")]
    pub required: bool,
    /// Per-collection sources, replacing `from`/`value`/`derive`/`template` there.
    #[serde(default)]
    pub collections: BTreeMap<String, SourceSpec>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceSpec {
    pub from: Option<String>,
    pub value: Option<toml::Value>,
    pub derive: Option<Derivation>,
    pub template: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Derivation {
    /// Words in the document (whitespace-separated).
    WordCount,
    /// `if://citation/<16 hex>`: the first 64 bits of sha256("<collection>/<id>"), stable per row.
    Citation,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    String,
    Int,
    Float,
    Bool,
    /// RFC 3339 text (or Unix seconds) in, integer Unix seconds out: filterable with `$gt`/`$lt`.
    Timestamp,
    /// A real array of strings (Chroma ≥ 1.5 record metadata); a comma-separated string is split.
    StringList,
}

impl FieldType {
    pub fn name(self) -> &'static str {
        match self {
            FieldType::String => "string",
            FieldType::Int => "int",
            FieldType::Float => "float",
            FieldType::Bool => "bool",
            FieldType::Timestamp => "timestamp",
            FieldType::StringList => "string_list",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("cannot read spec `{}`: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("spec `{}`{}: key `{key}`: {reason}", path.display(), line.map_or(String::new(), |l| format!(" (line {l})")))]
    Invalid { path: PathBuf, line: Option<usize>, key: String, reason: String },
}

/// Where the TOML parser gives up, for a text that is not TOML at all.
fn syntax_line(text: &str) -> Option<usize> {
    let err = text.parse::<toml::Table>().err()?;
    err.span().map(|span| text[..span.start.min(text.len())].matches('\n').count() + 1)
}

impl Spec {
    /// Reads and checks a spec file; errors name the key, its line and the reason.
    pub fn load(path: &Path) -> Result<Spec, SpecError> {
        let text = std::fs::read_to_string(path).map_err(|source| SpecError::Read { path: path.into(), source })?;
        Spec::parse(&text).map_err(|(key, reason)| SpecError::Invalid {
            path: path.into(),
            line: crate::config::line_in(&crate::config::key_lines(&text), &key).or_else(|| syntax_line(&text)),
            key,
            reason,
        })
    }

    /// Parses spec text; an error is (key, reason).
    pub fn parse(text: &str) -> Result<Spec, (String, String)> {
        let de = toml::Deserializer::new(text);
        let spec: Spec = serde_path_to_error::deserialize(de).map_err(|e| {
            let key = e.path().to_string();
            let inner = e.into_inner();
            (if key == "." { "(file)".into() } else { key }, inner.message().trim().to_string())
        })?;
        spec.check()?;
        Ok(spec)
    }

    fn check(&self) -> Result<(), (String, String)> {
        let fail = |key: String, reason: &str| Err((key, reason.to_string()));
        if self.version != 1 {
            return fail("version".into(), "only spec version 1 exists");
        }
        if self.fields.is_empty() {
            return fail("fields".into(), "no target fields");
        }
        if !(0.0..=100.0).contains(&self.max_quarantine_pct) {
            return fail("max_quarantine_pct".into(), "must be between 0 and 100");
        }
        if self.target == Target::Suffix
            && !(self.target_suffix.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
                && self.target_suffix.chars().last().is_some_and(|c| c.is_ascii_alphanumeric()))
        {
            return fail("target_suffix".into(), "must be [A-Za-z0-9._-] and end with a letter or digit");
        }
        let non_finite =
            "nan and inf are not JSON numbers, so Chroma cannot store them; use a finite number or a string";
        for (key, value) in &self.collection_metadata {
            if !finite(value) {
                return fail(format!("collection_metadata.{key}"), non_finite);
            }
            if value.is_array() || value.is_table() || value.is_datetime() {
                return fail(
                    format!("collection_metadata.{key}"),
                    "collection metadata holds only strings, numbers and booleans (Chroma rejects arrays there)",
                );
            }
        }
        for (name, field) in &self.fields {
            let key = format!("fields.{name}");
            field.source.check().map_err(|reason| (key.clone(), reason))?;
            for (collection, source) in &field.collections {
                source.check().map_err(|reason| (format!("{key}.collections.{collection}"), reason))?;
            }
            if field.default.as_ref().is_some_and(|d| !finite(d)) {
                return fail(format!("{key}.default"), non_finite);
            }
            if field.kind == Some(FieldType::StringList)
                && field.default.as_ref().is_some_and(|d| !d.is_array() && !d.is_str())
            {
                return fail(format!("{key}.default"), "a string_list default is an array of strings or a string");
            }
            if field.source.template.is_some() && field.kind.is_some_and(|k| k != FieldType::String) {
                return fail(format!("{key}.type"), "a template makes a string");
            }
        }
        Ok(())
    }

    /// The source of a field in a collection: its override there, else its own.
    pub fn source_for<'a>(&self, field: &'a FieldSpec, collection: &str) -> &'a SourceSpec {
        field.collections.get(collection).unwrap_or(&field.source)
    }

    /// A stable fingerprint of the spec, for checkpoints: resume refuses a changed spec.
    pub fn fingerprint(&self) -> String {
        use sha2::Digest;
        let text = crate::journal::canonical_json(&serde_json::to_value(self).expect("specs serialize"));
        hex::encode(sha2::Sha256::digest(text.as_bytes()))[..16].to_string()
    }
}

/// No `nan` or `inf` anywhere in a TOML value (TOML allows them; JSON has no way to say them).
fn finite(value: &toml::Value) -> bool {
    match value {
        toml::Value::Float(f) => f.is_finite(),
        toml::Value::Array(items) => items.iter().all(finite),
        toml::Value::Table(table) => table.values().all(finite),
        _ => true,
    }
}

impl SourceSpec {
    fn check(&self) -> Result<(), String> {
        let set = [self.from.is_some(), self.value.is_some(), self.derive.is_some(), self.template.is_some()];
        match set.iter().filter(|s| **s).count() {
            1 => {}
            0 => return Err("needs one of `from`, `value`, `derive`, `template`".into()),
            _ => return Err("give only one of `from`, `value`, `derive`, `template`".into()),
        }
        if let Some(value) = &self.value {
            if value.is_table() || value.is_datetime() {
                return Err("`value` must be a string, number, boolean or array of strings".into());
            }
            if !finite(value) {
                return Err("`value` is nan or inf: not a JSON number, so Chroma cannot store it".into());
            }
        }
        if let Some(template) = &self.template {
            let opens = template.matches('{').count();
            if opens != template.matches('}').count() || opens == 0 {
                return Err(format!("template `{template}` needs `{{field}}` placeholders with matching braces"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn value() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<i64>().prop_map(|i| i.to_string()),
            any::<bool>().prop_map(|b| b.to_string()),
            "[a-z0-9 _.{}-]{0,16}".prop_map(|s| format!("{s:?}")),
            Just("nan".to_string()),
            Just("[1, \"x\"]".to_string()),
            Just("\"string\"".to_string()),
            Just("\"int\"".to_string()),
            Just("\"string_list\"".to_string()),
            Just("{ from = \"a\" }".to_string()),
            Just("= broken".to_string()),
        ]
    }

    fn line() -> impl Strategy<Value = String> {
        let key = prop_oneof![
            Just("version"),
            Just("collections"),
            Just("target"),
            Just("keep_unmapped"),
            Just("max_quarantine_pct"),
            Just("from"),
            Just("type"),
            Just("default"),
            Just("template"),
            Just("target_suffix"),
            Just("junk"),
        ];
        let table = prop_oneof![
            Just("[fields.a]"),
            Just("[fields.b]"),
            Just("[fields.a.collections.c1]"),
            Just("[collection_metadata]"),
            Just("[fields]"),
            Just("[[fields.x]]"),
        ];
        prop_oneof![
            3 => (key, value()).prop_map(|(k, v)| format!("{k} = {v}")),
            1 => table.prop_map(String::from),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        /// Random spec files never panic the loader; a rejected one names the key, and the line
        /// whenever the file has one for it.
        #[test]
        fn random_specs_are_accepted_or_rejected_with_key_and_line(lines in proptest::collection::vec(line(), 0..14)) {
            let text = format!("version = 1\n{}\n", lines.join("\n"));
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("spec.toml");
            std::fs::write(&path, &text).unwrap();
            match Spec::load(&path) {
                Ok(_) => {}
                Err(SpecError::Invalid { key, line, .. }) => {
                    prop_assert!(!key.is_empty());
                    let known = crate::config::line_in(&crate::config::key_lines(&text), &key);
                    if known.is_some() {
                        prop_assert_eq!(line, known, "{}", text);
                    }
                }
                Err(e) => prop_assert!(false, "{}", e),
            }
        }
    }

    #[test]
    fn errors_name_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("spec.toml");
        std::fs::write(&path, "version = 1\n\n[fields.a]\nfrom = \"x\"\ntype = \"bogus\"\n").unwrap();
        let err = Spec::load(&path).unwrap_err().to_string();
        assert!(err.contains("(line 5)") && err.contains("fields.a.type"), "{err}");
        std::fs::write(&path, "version = 1\n[fields.a\n").unwrap();
        let err = Spec::load(&path).unwrap_err().to_string();
        assert!(err.contains("(line 2)"), "{err}");
    }
}
