//! RFC 8785, the JSON Canonicalization Scheme: the canonical form of journal events of format
//! `v: 2`. Any JCS library (PyPI `rfc8785`, Go `webpki.org/jsoncanonicalizer`, …) produces the
//! same bytes, so the chain can be verified without ifctl (see `docs/journal.md`).
//!
//! - object members sorted by the UTF-16 code units of their names, no whitespace;
//! - strings with only the escapes JSON requires (`\"`, `\\`, `\b \f \n \r \t`, other control
//!   characters as `\u00xx`), everything else as UTF-8;
//! - numbers as ECMAScript's `Number.prototype.toString` writes an IEEE 754 double: the shortest
//!   digits that read back to the same double, `-0` as `0`, exponent form below 1e-6 and from 1e21.
//!
//! I-JSON (RFC 7493) numbers only: integers beyond ±(2^53 − 1) are not exact as doubles, so the
//! journal never writes them as numbers (see [`i_json`]).

use serde_json::{Number, Value};

use super::canonical::{Form, write_form};

/// Largest integer every JSON implementation reads exactly (2^53 − 1).
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// The JCS form of `value`.
pub fn jcs(value: &Value) -> String {
    write_form(value, &JCS)
}

const JCS: Form = Form { key_order: |a, b| a.encode_utf16().cmp(b.encode_utf16()), number: jcs_number };

/// Integers within ±(2^53 − 1) as they are (ECMAScript prints them so), everything else as the
/// double ECMAScript would print; beyond-range integers only occur in hand-made input, since the
/// journal never stores them (see `i_json`).
fn jcs_number(n: &Number) -> String {
    let safe_integer = n.as_u64().is_some_and(|u| u <= MAX_SAFE_INTEGER)
        || n.as_i64().is_some_and(|i| i.unsigned_abs() <= MAX_SAFE_INTEGER);
    if safe_integer {
        n.to_string()
    } else {
        // serde_json never holds NaN or infinities.
        es_number(n.as_f64().unwrap_or(0.0))
    }
}

/// ECMAScript's `Number::toString(x)` for a finite double (ECMA-262 §6.1.6.1.20).
pub fn es_number(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return "0".into();
    }
    let mut out = String::new();
    if x < 0.0 {
        out.push('-');
    }
    // The shortest round-trip digits `s` (k of them) and `n` with x = 0.s × 10^n.
    let mut buffer = ryu::Buffer::new();
    let text = buffer.format_finite(x.abs());
    let (mantissa, exponent) = match text.split_once('e') {
        Some((m, e)) => (m, e.parse::<i32>().expect("ryu writes a decimal exponent")),
        None => (text, 0),
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let all: String = format!("{int_part}{frac_part}");
    let leading_zeros = all.len() - all.trim_start_matches('0').len();
    let digits = all.trim_start_matches('0').trim_end_matches('0');
    let k = digits.len() as i32;
    let n = int_part.len() as i32 - leading_zeros as i32 + exponent;
    if k <= n && n <= 21 {
        out.push_str(digits);
        out.extend(std::iter::repeat_n('0', (n - k) as usize));
    } else if 0 < n && n <= 21 {
        out.push_str(&digits[..n as usize]);
        out.push('.');
        out.push_str(&digits[n as usize..]);
    } else if -6 < n && n <= 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', (-n) as usize));
        out.push_str(digits);
    } else {
        let e = n - 1;
        out.push_str(&digits[..1]);
        if k > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if e < 0 { '-' } else { '+' });
        out.push_str(&e.unsigned_abs().to_string());
    }
    out
}

/// Makes a value I-JSON so its JCS form is exact: integers beyond ±(2^53 − 1) become decimal
/// strings. Returns how many were converted.
pub fn i_json(value: &mut Value) -> usize {
    match value {
        Value::Number(n) => {
            let unsafe_int = n.as_u64().is_some_and(|u| u > MAX_SAFE_INTEGER)
                || n.as_i64().is_some_and(|i| i.unsigned_abs() > MAX_SAFE_INTEGER);
            if unsafe_int {
                *value = Value::String(n.to_string());
                1
            } else {
                0
            }
        }
        Value::Array(items) => items.iter_mut().map(i_json).sum(),
        Value::Object(map) => map.values_mut().map(i_json).sum(),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn numbers_follow_ecmascript() {
        let cases: &[(f64, &str)] = &[
            (0.0, "0"),
            (-0.0, "0"),
            (1.0, "1"),
            (-1.5, "-1.5"),
            (0.1 + 0.2, "0.30000000000000004"),
            (1e21, "1e+21"),
            (1e20, "100000000000000000000"),
            (123456789012345680000.0, "123456789012345680000"),
            (1e-6, "0.000001"),
            (1e-7, "1e-7"),
            (1.5e-7, "1.5e-7"),
            (2123.8429889999998, "2123.8429889999998"),
            (3.012308262564835e-9, "3.012308262564835e-9"),
            (f64::MAX, "1.7976931348623157e+308"),
            (f64::MIN_POSITIVE, "2.2250738585072014e-308"),
            (5e-324, "5e-324"),
            (9007199254740992.0, "9007199254740992"),
            (333333333.3333333, "333333333.3333333"),
            (4.5, "4.5"),
            (0.000001234, "0.000001234"),
        ];
        for (x, want) in cases {
            assert_eq!(es_number(*x), *want, "{x:e}");
        }
    }

    #[test]
    fn rfc8785_example_sorts_by_utf16_and_escapes_minimally() {
        // The member-sorting example of RFC 8785 §3.2.3: "\u{1f600}" sorts before "\u{fb33}"
        // by UTF-16 code units, though not by code points.
        let value = json!({"\u{20ac}": "Euro Sign", "\r": "Carriage Return", "\u{fb33}": "Hebrew Letter Dalet With Dagesh",
            "1": "One", "\u{1f600}": "Emoji: Grinning Face", "\u{80}": "Control", "\u{f6}": "Latin Small Letter O With Diaeresis"});
        let want = "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u{80}\":\"Control\",\"\u{f6}\":\"Latin Small Letter O With Diaeresis\",\"\u{20ac}\":\"Euro Sign\",\"\u{1f600}\":\"Emoji: Grinning Face\",\"\u{fb33}\":\"Hebrew Letter Dalet With Dagesh\"}";
        assert_eq!(jcs(&value), want);
        assert_eq!(jcs(&json!("\u{1}\u{1f}\"\\/é")), "\"\\u0001\\u001f\\\"\\\\/é\"");
        assert_eq!(jcs(&json!({"b": [1, 2.5, null, true], "a": {}})), r#"{"a":{},"b":[1,2.5,null,true]}"#);
    }

    #[test]
    fn unsafe_integers_become_strings() {
        let mut value = json!({"big": 9007199254740993u64, "neg": -9007199254740993i64, "ok": 9007199254740991u64});
        assert_eq!(i_json(&mut value), 2);
        assert_eq!(value, json!({"big": "9007199254740993", "neg": "-9007199254740993", "ok": 9007199254740991u64}));
    }

    fn any_f64() -> impl Strategy<Value = f64> {
        prop_oneof![
            any::<u64>().prop_map(f64::from_bits),
            (-1e6f64..1e6),
            (1u64..=0xF_FFFF_FFFF_FFFF).prop_map(f64::from_bits), // subnormals
            (-330i32..310, any::<f64>()).prop_map(|(e, m)| (m % 10.0) * 10f64.powi(e)),
        ]
        .prop_filter("finite", |x| x.is_finite())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]
        #[test]
        fn es_number_reads_back_to_the_same_double(x in any_f64()) {
            let text = es_number(x);
            let back: f64 = text.parse().unwrap();
            prop_assert_eq!(back.to_bits(), if x == 0.0 { 0 } else { x.to_bits() }, "{} -> {}", x, text);
            // And through serde_json, as the journal reads it.
            let parsed: Value = serde_json::from_str(&text).unwrap();
            prop_assert_eq!(parsed.as_f64().unwrap(), x);
        }
    }
}
