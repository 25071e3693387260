//! Canonical JSON: object keys sorted at every level, no whitespace. The hash chain is computed over
//! such a form, so it must not depend on how a map happens to be ordered in memory. Two forms
//! share this writer and differ only in key order and number text: ifctl's first form (format
//! `v: 1`, serde_json's numbers, keys by byte) and RFC 8785 (`v: 2`, see `jcs`).

use std::cmp::Ordering;

use serde_json::{Number, Value};

/// What distinguishes one canonical form from another.
pub(super) struct Form {
    /// The order of object members.
    pub key_order: fn(&str, &str) -> Ordering,
    /// The text of a number.
    pub number: fn(&Number) -> String,
}

/// ifctl's first canonical form (journal format `v: 1`; also the metadata text in snapshots).
const FIRST: Form = Form { key_order: |a, b| a.cmp(b), number: Number::to_string };

pub fn canonical_json(value: &Value) -> String {
    write_form(value, &FIRST)
}

/// `value` written in `form`. Strings use JSON's minimal escapes (`\"`, `\\`, `\b \f \n \r \t`,
/// other control characters as lowercase `\u00xx`), which both forms require.
pub(super) fn write_form(value: &Value, form: &Form) -> String {
    let mut out = String::with_capacity(256);
    write(value, form, &mut out);
    out
}

fn write(value: &Value, form: &Form, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut members: Vec<(&String, &Value)> = map.iter().collect();
            members.sort_by(|a, b| (form.key_order)(a.0, b.0));
            out.push('{');
            for (i, (key, item)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::to_string(key).expect("strings serialize"));
                out.push(':');
                write(item, form, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(item, form, out);
            }
            out.push(']');
        }
        Value::Number(n) => out.push_str(&(form.number)(n)),
        scalar => out.push_str(&scalar.to_string()),
    }
}
