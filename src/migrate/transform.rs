//! Applying a spec to one record: the new metadata, or why the record cannot be converted.

use std::collections::BTreeMap;

use chrono::DateTime;
use serde::Serialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::spec::{Derivation, FieldType, Spec};

/// How a field got its value, counted per field for the dry-run report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Provenance {
    /// Copied (and converted) from a source field.
    Source,
    /// The source was missing or null; the default was used.
    Default,
    Constant,
    Derived,
    Template,
}

/// Per-field counts of where values came from.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FieldStats {
    pub counts: BTreeMap<String, BTreeMap<Provenance, u64>>,
}

impl FieldStats {
    fn add(&mut self, field: &str, provenance: Provenance) {
        *self.counts.entry(field.to_string()).or_default().entry(provenance).or_default() += 1;
    }
}

/// The new metadata for one record, or the reason it cannot be converted.
pub fn transform(
    spec: &Spec,
    collection: &str,
    id: &str,
    document: Option<&str>,
    metadata: Option<&Map<String, Value>>,
    stats: &mut FieldStats,
) -> Result<Map<String, Value>, String> {
    let empty = Map::new();
    let source = metadata.unwrap_or(&empty);
    let mut out = Map::new();
    if spec.keep_unmapped {
        let mapped: Vec<&str> =
            spec.fields.values().filter_map(|f| spec.source_for(f, collection).from.as_deref()).collect();
        for (k, v) in source {
            if !mapped.contains(&k.as_str()) && !spec.fields.contains_key(k) {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    for (name, field) in &spec.fields {
        let how = spec.source_for(field, collection);
        let (raw, provenance) = if let Some(from) = &how.from {
            (source.get(from).filter(|v| !v.is_null()).cloned(), Provenance::Source)
        } else if let Some(value) = &how.value {
            (Some(toml_to_json(value)), Provenance::Constant)
        } else if let Some(derivation) = how.derive {
            (Some(derive(derivation, collection, id, document)), Provenance::Derived)
        } else {
            let template = how.template.as_deref().unwrap_or_default();
            (fill(template, source), Provenance::Template)
        };
        let (raw, provenance) = match raw {
            Some(v) => (Some(v), provenance),
            None => (field.default.as_ref().map(toml_to_json), Provenance::Default),
        };
        let Some(raw) = raw else {
            if field.required {
                let what = how.from.as_deref().map_or(String::new(), |f| format!(" (source field `{f}` is missing)"));
                return Err(format!("required field `{name}` has no value{what}"));
            }
            continue;
        };
        let kind = field.kind.unwrap_or_else(|| infer(&raw));
        let value = convert(&raw, kind).map_err(|e| format!("field `{name}`: {e}"))?;
        stats.add(name, provenance);
        out.insert(name.clone(), value);
    }
    Ok(out)
}

fn derive(derivation: Derivation, collection: &str, id: &str, document: Option<&str>) -> Value {
    match derivation {
        Derivation::WordCount => Value::from(document.map_or(0, |d| d.split_whitespace().count()) as i64),
        Derivation::Citation => Value::from(citation_id(collection, id)),
    }
}

/// `if://citation/<16 hex>`: stable for a (collection, id) pair.
pub fn citation_id(collection: &str, id: &str) -> String {
    let digest = Sha256::digest(format!("{collection}/{id}").as_bytes());
    format!("if://citation/{}", &hex::encode(digest)[..16])
}

/// Whether a value is a well-formed citation id.
pub fn is_citation(value: &str) -> bool {
    value
        .strip_prefix("if://citation/")
        .is_some_and(|h| h.len() == 16 && h.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
}

/// `{field}` placeholders filled from the source metadata; `None` when one is missing.
fn fill(template: &str, source: &Map<String, Value>) -> Option<Value> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = rest[open..].find('}')? + open;
        let key = &rest[open + 1..close];
        match source.get(key)? {
            Value::String(s) => out.push_str(s),
            Value::Null => return None,
            other => out.push_str(&other.to_string()),
        }
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    Some(Value::String(out))
}

fn infer(value: &Value) -> FieldType {
    match value {
        Value::Bool(_) => FieldType::Bool,
        Value::Number(n) if n.is_i64() || n.is_u64() => FieldType::Int,
        Value::Number(_) => FieldType::Float,
        Value::Array(_) => FieldType::StringList,
        _ => FieldType::String,
    }
}

/// Converts a value to a field type, or says why it cannot be.
pub fn convert(value: &Value, kind: FieldType) -> Result<Value, String> {
    let bad = || format!("{value} is not convertible to {}", kind.name());
    match kind {
        FieldType::String => match value {
            Value::String(_) => Ok(value.clone()),
            Value::Number(_) | Value::Bool(_) => Ok(Value::String(value.to_string())),
            _ => Err(bad()),
        },
        FieldType::Int => match value {
            Value::Number(n) if n.is_i64() => Ok(value.clone()),
            Value::Number(n) => match n.as_f64() {
                Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Ok(Value::from(f as i64)),
                _ => Err(bad()),
            },
            Value::String(s) => s.trim().parse::<i64>().map(Value::from).map_err(|_| bad()),
            Value::Bool(b) => Ok(Value::from(*b as i64)),
            _ => Err(bad()),
        },
        FieldType::Float => match value {
            Value::Number(n) => n.as_f64().map(Value::from).ok_or_else(bad),
            Value::String(s) => s.trim().parse::<f64>().ok().filter(|f| f.is_finite()).map(Value::from).ok_or_else(bad),
            _ => Err(bad()),
        },
        FieldType::Bool => match value {
            Value::Bool(_) => Ok(value.clone()),
            Value::Number(n) if n.as_i64() == Some(0) || n.as_i64() == Some(1) => {
                Ok(Value::Bool(n.as_i64() == Some(1)))
            }
            Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
                "true" | "yes" | "1" => Ok(Value::Bool(true)),
                "false" | "no" | "0" => Ok(Value::Bool(false)),
                _ => Err(bad()),
            },
            _ => Err(bad()),
        },
        FieldType::Timestamp => match value {
            Value::Number(n) if n.is_i64() => Ok(value.clone()),
            Value::String(s) => DateTime::parse_from_rfc3339(s.trim())
                .map(|t| Value::from(t.timestamp()))
                .map_err(|e| format!("`{s}` is not an RFC 3339 time ({e})")),
            _ => Err(bad()),
        },
        FieldType::StringList => match value {
            Value::Array(items) if items.iter().all(Value::is_string) => Ok(value.clone()),
            Value::String(s) => Ok(Value::Array(
                s.split(',').map(str::trim).filter(|t| !t.is_empty()).map(|t| Value::String(t.to_string())).collect(),
            )),
            _ => Err(bad()),
        },
    }
}

/// Whether a stored value has the field's type (for validation).
pub fn has_type(value: &Value, kind: FieldType) -> bool {
    match kind {
        FieldType::String => value.is_string(),
        FieldType::Int | FieldType::Timestamp => value.is_i64(),
        FieldType::Float => value.is_f64() || value.is_i64(),
        FieldType::Bool => value.is_boolean(),
        FieldType::StringList => value.as_array().is_some_and(|a| a.iter().all(Value::is_string)),
    }
}

pub fn toml_to_json(value: &toml::Value) -> Value {
    match value {
        toml::Value::String(s) => Value::String(s.clone()),
        toml::Value::Integer(i) => Value::from(*i),
        toml::Value::Float(f) => Value::from(*f),
        toml::Value::Boolean(b) => Value::Bool(*b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(items) => Value::Array(items.iter().map(toml_to_json).collect()),
        toml::Value::Table(t) => Value::Object(t.iter().map(|(k, v)| (k.clone(), toml_to_json(v))).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migrate::spec::Spec;

    fn reference() -> Spec {
        Spec::parse(include_str!("../../docs/migration/sergio-v2.toml")).expect("the shipped spec parses")
    }

    fn v1() -> Map<String, Value> {
        serde_json::from_str(
            r#"{"schema_version":"v1.0","source":"podcast","speaker":"sergio","category":"pun",
                "created_at":"2022-09-07T21:43:45Z","tags":"ai, madrid,,coffee","word_count":3,"lang":"en"}"#,
        )
        .unwrap()
    }

    #[test]
    fn reference_spec_makes_the_twelve_fields() {
        let spec = reference();
        let mut stats = FieldStats::default();
        let out =
            transform(&spec, "sergio_humor", "humo-1", Some("one two  three\nfour"), Some(&v1()), &mut stats).unwrap();
        assert_eq!(out.len(), 12);
        assert_eq!(out["source_file"], "podcast");
        assert_eq!(out["humor_type"], "pun", "sergio_humor takes humor_type from category");
        assert_eq!(out["rhetorical_device"], "none");
        assert_eq!(out["timestamp"], 1662587025);
        assert_eq!(out["word_count"], 4, "recounted from the document");
        assert_eq!(out["tags"], serde_json::json!(["ai", "madrid", "coffee"]));
        assert_eq!(out["citation_id"], citation_id("sergio_humor", "humo-1"));
        assert!(is_citation(out["citation_id"].as_str().unwrap()));
        assert_eq!((out["version"].as_str(), out["migrated_from"].as_str()), (Some("2.0"), Some("1.0")));
        assert_eq!(stats.counts["humor_type"][&Provenance::Source], 1);
        let out = transform(&spec, "sergio_corpus", "c-1", None, Some(&v1()), &mut stats).unwrap();
        assert_eq!(out["humor_type"], "none");
        assert_eq!(out["word_count"], 0);
    }

    #[test]
    fn missing_required_and_bad_values_fail_the_row() {
        let spec = reference();
        let mut stats = FieldStats::default();
        let mut m = v1();
        m.remove("created_at");
        let err = transform(&spec, "sergio_humor", "x", None, Some(&m), &mut stats).unwrap_err();
        assert!(err.contains("`timestamp`") && err.contains("created_at"), "{err}");
        let mut m = v1();
        m.insert("created_at".into(), Value::from("yesterday"));
        let err = transform(&spec, "sergio_humor", "x", None, Some(&m), &mut stats).unwrap_err();
        assert!(err.contains("RFC 3339"), "{err}");
        assert!(transform(&spec, "sergio_humor", "x", None, None, &mut stats).is_err(), "no metadata at all");
    }

    #[test]
    fn conversions() {
        assert_eq!(convert(&Value::from("42"), FieldType::Int).unwrap(), 42);
        assert_eq!(convert(&Value::from(3.0), FieldType::Int).unwrap(), 3);
        assert!(convert(&Value::from(3.5), FieldType::Int).is_err());
        assert_eq!(convert(&Value::from("yes"), FieldType::Bool).unwrap(), true);
        assert_eq!(convert(&Value::from(7), FieldType::String).unwrap(), "7");
        assert_eq!(convert(&Value::from(1_700_000_000i64), FieldType::Timestamp).unwrap(), 1_700_000_000i64);
        assert!(convert(&serde_json::json!({"a": 1}), FieldType::String).is_err());
        assert!(has_type(&serde_json::json!(["a"]), FieldType::StringList));
        assert!(!has_type(&serde_json::json!([1]), FieldType::StringList));
    }

    #[test]
    fn templates_and_unmapped_keys() {
        let spec = Spec::parse(
            "version = 1\nkeep_unmapped = true\n[fields.label]\ntemplate = \"{source}/{speaker}\"\n\
             [fields.speaker_name]\nfrom = \"speaker\"\n",
        )
        .unwrap();
        let mut stats = FieldStats::default();
        let out = transform(&spec, "c", "i", None, Some(&v1()), &mut stats).unwrap();
        assert_eq!(out["label"], "podcast/sergio");
        assert_eq!(out["lang"], "en", "kept");
        assert!(!out.contains_key("speaker"), "renamed, not copied");
    }

    #[test]
    fn malformed_specs_name_the_key() {
        let err = |text: &str| Spec::parse(text).unwrap_err();
        assert_eq!(err("version = 1\n[fields.a]\nfrom = \"x\"\nvalue = 1\n").0, "fields.a");
        assert_eq!(err("version = 1\n[fields.a]\n").0, "fields.a");
        assert_eq!(err("version = 2\n[fields.a]\nvalue = 1\n").0, "version");
        assert_eq!(err("version = 1\n[fields.a]\nvalue = 1\ntype = \"date\"\n").0, "fields.a.type");
        assert_eq!(
            err("version = 1\n[collection_metadata]\ntags = [\"a\"]\n[fields.a]\nvalue = 1\n").0,
            "collection_metadata.tags"
        );
        assert_eq!(err("version = 1\nmax_quarantine_pct = 150\n[fields.a]\nvalue = 1\n").0, "max_quarantine_pct");
        assert_eq!(err("version = 1\n[fields.a]\ntemplate = \"no braces\"\n").0, "fields.a");
        // TOML has nan and inf; JSON and Chroma do not. Said, not turned into null.
        let nan = err("version = 1\n[fields.a]\nfrom = \"x\"\ndefault = nan\n");
        assert_eq!(nan.0, "fields.a.default");
        assert!(nan.1.contains("nan and inf"), "{}", nan.1);
        assert_eq!(
            err("version = 1\n[collection_metadata]\nk = -inf\n[fields.a]\nvalue = 1\n").0,
            "collection_metadata.k"
        );
        assert_eq!(err("version = 1\n[fields.a]\nvalue = [1.0, inf]\n").0, "fields.a");
    }

    #[test]
    fn fingerprint_follows_the_content() {
        let a = reference();
        let mut b = reference();
        assert_eq!(a.fingerprint(), b.fingerprint());
        b.max_quarantine_pct = 1.0;
        assert_ne!(a.fingerprint(), b.fingerprint());
    }
}
