//! Records on their way between Chroma's JSON and a Parquet file, in the documented schema:
//! `id` (utf8, not null), `document`, `metadata` (JSON text, keys sorted), `uri` (utf8),
//! `embedding` (fixed_size_list<float32>[dim]).
//!
//! Embeddings are parsed from the server's decimal text straight to `f32` (correctly rounded), so
//! the Parquet file holds exactly the float32 values the server returned.

use std::sync::Arc;

use arrow_array::{Array, ArrayRef, FixedSizeListArray, Float32Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::journal::canonical_json;

/// One page of records, column by column.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Records {
    pub ids: Vec<String>,
    pub documents: Vec<Option<String>>,
    /// Canonical JSON text of each record's metadata (`None` when it has none).
    pub metadatas: Vec<Option<String>>,
    pub uris: Vec<Option<String>>,
    /// Row-major, `dim` floats per record.
    pub embeddings: Vec<f32>,
    pub dim: usize,
}

impl Records {
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Parses a `get` answer. `dim` is the collection's dimension, when known.
    pub fn from_get_json(body: &[u8], dim: Option<usize>) -> Result<Records, String> {
        #[derive(Deserialize)]
        struct Get<'a> {
            ids: Vec<String>,
            #[serde(borrow)]
            embeddings: Option<&'a RawValue>,
            documents: Option<Vec<Option<String>>>,
            metadatas: Option<Vec<Option<serde_json::Map<String, serde_json::Value>>>>,
            uris: Option<Vec<Option<String>>>,
        }
        let get: Get = serde_json::from_slice(body).map_err(|e| format!("cannot parse Chroma's get answer: {e}"))?;
        let n = get.ids.len();
        let column = |len: Option<usize>, what: &str| -> Result<(), String> {
            match len {
                Some(l) if l != n => Err(format!("Chroma returned {n} ids but {l} {what}")),
                _ => Ok(()),
            }
        };
        column(get.documents.as_ref().map(Vec::len), "documents")?;
        column(get.metadatas.as_ref().map(Vec::len), "metadatas")?;
        column(get.uris.as_ref().map(Vec::len), "uris")?;
        let mut embeddings = Vec::with_capacity(n * dim.unwrap_or(0));
        let found_dim = match get.embeddings {
            Some(raw) if raw.get() != "null" => parse_embeddings(raw.get(), &mut embeddings)?,
            _ => (0, 0),
        };
        let (rows, row_dim) = found_dim;
        let with_embeddings = get.embeddings.is_some_and(|raw| raw.get() != "null");
        if !with_embeddings {
            // Asked without embeddings (metadata-only reads).
            return Ok(Records {
                documents: get.documents.unwrap_or_else(|| vec![None; n]),
                metadatas: canonical_metadatas(get.metadatas, n),
                uris: get.uris.unwrap_or_else(|| vec![None; n]),
                ids: get.ids,
                embeddings: Vec::new(),
                dim: 0,
            });
        }
        if n > 0 && rows != n {
            return Err(format!("Chroma returned {n} ids but {rows} embeddings"));
        }
        let dim = match dim {
            Some(d) if n > 0 && d != row_dim => {
                return Err(format!("embeddings have {row_dim} dimensions, the collection says {d}"));
            }
            Some(d) => d,
            None => row_dim,
        };
        Ok(Records {
            ids: get.ids,
            documents: get.documents.unwrap_or_else(|| vec![None; n]),
            metadatas: canonical_metadatas(get.metadatas, n),
            uris: get.uris.unwrap_or_else(|| vec![None; n]),
            embeddings,
            dim,
        })
    }

    /// The Arrow batch for these records (consumed: the columns move into Arrow buffers).
    pub fn into_batch(self, schema: &SchemaRef) -> Result<RecordBatch, arrow_schema::ArrowError> {
        let item = Arc::new(Field::new("item", DataType::Float32, false));
        let embedding =
            FixedSizeListArray::try_new(item, self.dim as i32, Arc::new(Float32Array::from(self.embeddings)), None)?;
        let columns: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from_iter_values(self.ids.iter())),
            Arc::new(StringArray::from(self.documents)),
            Arc::new(StringArray::from(self.metadatas)),
            Arc::new(StringArray::from(self.uris)),
            Arc::new(embedding),
        ];
        RecordBatch::try_new(schema.clone(), columns)
    }

    /// Records from a batch read back from a snapshot file, checking the schema.
    pub fn from_batch(batch: &RecordBatch) -> Result<Records, String> {
        let strings = |name: &str| -> Result<&StringArray, String> {
            batch
                .column_by_name(name)
                .ok_or_else(|| format!("column `{name}` is missing"))?
                .as_any()
                .downcast_ref::<StringArray>()
                .ok_or_else(|| format!("column `{name}` is not utf8"))
        };
        let opt = |a: &StringArray, i: usize| (!a.is_null(i)).then(|| a.value(i).to_string());
        let (ids, docs, metas, uris) = (strings("id")?, strings("document")?, strings("metadata")?, strings("uri")?);
        let list = batch
            .column_by_name("embedding")
            .ok_or("column `embedding` is missing")?
            .as_any()
            .downcast_ref::<FixedSizeListArray>()
            .ok_or("column `embedding` is not a fixed-size list")?;
        let values = list.values().as_any().downcast_ref::<Float32Array>().ok_or("embeddings are not float32")?;
        let n = batch.num_rows();
        if ids.null_count() > 0 {
            return Err("column `id` has nulls".into());
        }
        // Metadata text goes into request bodies as it is: each must be exactly one JSON object,
        // or a crafted value (`…],"uris":[…`) could add fields the archive's columns do not hold.
        for i in 0..n {
            if let Some(text) = (!metas.is_null(i)).then(|| metas.value(i)) {
                let object = serde_json::from_str::<&serde_json::value::RawValue>(text)
                    .map_err(|e| e.to_string())
                    .and_then(|raw| if raw.get().starts_with('{') { Ok(()) } else { Err("not an object".into()) });
                if let Err(e) = object {
                    return Err(format!("row {i} (id `{}`): metadata is not one JSON object ({e})", ids.value(i)));
                }
            }
        }
        let dim = list.value_length() as usize;
        let start = list.offset() * dim;
        Ok(Records {
            ids: (0..n).map(|i| ids.value(i).to_string()).collect(),
            documents: (0..n).map(|i| opt(docs, i)).collect(),
            metadatas: (0..n).map(|i| opt(metas, i)).collect(),
            uris: (0..n).map(|i| opt(uris, i)).collect(),
            embeddings: values.values()[start..start + n * dim].to_vec(),
            dim,
        })
    }

    /// The JSON body of an `add` for these records. Embeddings go as base64 little-endian f32
    /// (exact, and a third of the size of decimal text); metadata text is embedded as it is.
    pub fn add_body(&self) -> Vec<u8> {
        use base64::Engine;
        let mut out = String::with_capacity(self.len() * (self.dim * 6 + 256));
        out.push_str("{\"ids\":");
        out.push_str(&serde_json::to_string(&self.ids).expect("strings serialize"));
        out.push_str(",\"embeddings\":[");
        let mut bytes = Vec::with_capacity(self.dim * 4);
        for (i, row) in self.embeddings.chunks(self.dim.max(1)).take(self.len()).enumerate() {
            if i > 0 {
                out.push(',');
            }
            bytes.clear();
            for f in row {
                bytes.extend_from_slice(&f.to_le_bytes());
            }
            out.push('"');
            out.push_str(&base64::engine::general_purpose::STANDARD.encode(&bytes));
            out.push('"');
        }
        out.push_str("],\"documents\":");
        out.push_str(&serde_json::to_string(&self.documents).expect("strings serialize"));
        out.push_str(",\"metadatas\":[");
        for (i, m) in self.metadatas.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(m.as_deref().unwrap_or("null"));
        }
        out.push(']');
        if self.uris.iter().any(Option::is_some) {
            out.push_str(",\"uris\":");
            out.push_str(&serde_json::to_string(&self.uris).expect("strings serialize"));
        }
        out.push('}');
        out.into_bytes()
    }

    /// Rows `range` of these records.
    pub fn slice(&self, range: std::ops::Range<usize>) -> Records {
        Records {
            ids: self.ids[range.clone()].to_vec(),
            documents: self.documents[range.clone()].to_vec(),
            metadatas: self.metadatas[range.clone()].to_vec(),
            uris: self.uris[range.clone()].to_vec(),
            embeddings: self.embeddings[range.start * self.dim..range.end * self.dim].to_vec(),
            dim: self.dim,
        }
    }

    /// Approximate size of one row in an `add` body, for batching by bytes.
    pub fn row_bytes(&self, i: usize) -> usize {
        self.ids[i].len()
            + self.documents[i].as_ref().map_or(4, |d| d.len() * 6 / 5 + 2)
            + self.metadatas[i].as_ref().map_or(4, |m| m.len())
            + self.uris[i].as_ref().map_or(0, |u| u.len() + 2)
            + self.dim * 4 * 4 / 3
            + 16
    }
}

/// Each record's metadata as canonical JSON text; empty metadata reads as none (as Chroma does).
fn canonical_metadatas(
    metadatas: Option<Vec<Option<serde_json::Map<String, serde_json::Value>>>>,
    n: usize,
) -> Vec<Option<String>> {
    metadatas
        .unwrap_or_else(|| vec![None; n])
        .into_iter()
        .map(|m| m.filter(|m| !m.is_empty()).map(|m| canonical_json(&serde_json::Value::Object(m))))
        .collect()
}

/// The Arrow schema of a snapshot file for embeddings of `dim` dimensions.
pub fn schema(dim: usize) -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Utf8, false),
        Field::new("document", DataType::Utf8, true),
        Field::new("metadata", DataType::Utf8, true),
        Field::new("uri", DataType::Utf8, true),
        Field::new(
            "embedding",
            DataType::FixedSizeList(Arc::new(Field::new("item", DataType::Float32, false)), dim as i32),
            true,
        ),
    ]))
}

/// Parses `[[f, f, …], …]` into `out`; returns (rows, dimension). Each number goes straight from
/// its decimal text to the nearest f32, with no detour through f64.
fn parse_embeddings(text: &str, out: &mut Vec<f32>) -> Result<(usize, usize), String> {
    let bytes = text.as_bytes();
    let mut i = 0;
    let skip_ws = |i: &mut usize| {
        while *i < bytes.len() && bytes[*i].is_ascii_whitespace() {
            *i += 1;
        }
    };
    let expect = |i: &mut usize, c: u8| -> Result<(), String> {
        skip_ws(i);
        if bytes.get(*i) == Some(&c) {
            *i += 1;
            Ok(())
        } else {
            Err(format!("embeddings: expected `{}` at byte {}", c as char, *i))
        }
    };
    expect(&mut i, b'[')?;
    let (mut rows, mut dim) = (0usize, None::<usize>);
    skip_ws(&mut i);
    if bytes.get(i) == Some(&b']') {
        return Ok((0, 0));
    }
    loop {
        expect(&mut i, b'[')?;
        let mut count = 0;
        skip_ws(&mut i);
        if bytes.get(i) != Some(&b']') {
            loop {
                skip_ws(&mut i);
                let start = i;
                while i < bytes.len() && matches!(bytes[i], b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E') {
                    i += 1;
                }
                let token = &text[start..i];
                let value: f32 =
                    token.parse().map_err(|_| format!("embeddings: `{token}` at byte {start} is not a number"))?;
                out.push(value);
                count += 1;
                skip_ws(&mut i);
                match bytes.get(i) {
                    Some(b',') => i += 1,
                    Some(b']') => break,
                    _ => return Err(format!("embeddings: expected `,` or `]` at byte {i}")),
                }
            }
        }
        i += 1; // the row's `]`
        match dim {
            None => dim = Some(count),
            Some(d) if d != count => return Err(format!("embeddings: row {rows} has {count} values, not {d}")),
            Some(_) => {}
        }
        rows += 1;
        skip_ws(&mut i);
        match bytes.get(i) {
            Some(b',') => i += 1,
            Some(b']') => return Ok((rows, dim.unwrap_or(0))),
            _ => return Err(format!("embeddings: expected `,` or `]` at byte {i}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_get_answer_exactly() {
        let body = br#"{"ids":["a","b"],"embeddings":[[0.617691,-1e-7,3.4028235e38],[1,2.5,-0.0]],
            "documents":["doc a",null],"uris":null,
            "metadatas":[{"z":1,"a":true,"f":0.5,"big":1099511627776,"tags":["x","y"]},null],"include":[]}"#;
        let r = Records::from_get_json(body, Some(3)).unwrap();
        assert_eq!(r.ids, vec!["a", "b"]);
        assert_eq!(r.dim, 3);
        assert_eq!(r.embeddings[0].to_bits(), "0.617691".parse::<f32>().unwrap().to_bits());
        assert_eq!(r.embeddings[2], f32::MAX);
        assert_eq!(r.embeddings[5].to_bits(), (-0.0f32).to_bits());
        assert_eq!(r.documents, vec![Some("doc a".to_string()), None]);
        assert_eq!(r.metadatas[0].as_deref(), Some(r#"{"a":true,"big":1099511627776,"f":0.5,"tags":["x","y"],"z":1}"#));
        assert_eq!(r.metadatas[1], None);
        assert_eq!(r.uris, vec![None, None]);
    }

    #[test]
    fn decimal_goes_straight_to_f32() {
        // 16777217 is between two f32s; via f64 it is exact and then rounds to even (16777216);
        // a decimal slightly above the midpoint must round up, which a detour through f64 can miss.
        let mut out = Vec::new();
        parse_embeddings("[[16777217.000000001]]", &mut out).unwrap();
        assert_eq!(out[0], "16777217.000000001".parse::<f32>().unwrap());
        assert_eq!(out[0], 16777218.0);
    }

    #[test]
    fn rejects_ragged_or_mismatched_answers() {
        assert!(Records::from_get_json(br#"{"ids":["a","b"],"embeddings":[[1,2],[3]]}"#, None).is_err());
        assert!(Records::from_get_json(br#"{"ids":["a"],"embeddings":[[1,2]]}"#, Some(3)).is_err());
        assert!(Records::from_get_json(br#"{"ids":["a","b"],"embeddings":[[1,2]]}"#, None).is_err());
        assert!(Records::from_get_json(br#"{"ids":["a"],"embeddings":[[1,2]],"documents":[]}"#, None).is_err());
    }

    #[test]
    fn batch_round_trip_and_add_body() {
        let body = br#"{"ids":["a","b"],"embeddings":[[0.1,0.2],[0.3,0.4]],"documents":["x",null],
            "metadatas":[{"k":"v"},null],"uris":["s3://u",null]}"#;
        let r = Records::from_get_json(body, None).unwrap();
        let batch = r.clone().into_batch(&schema(2)).unwrap();
        let back = Records::from_batch(&batch).unwrap();
        assert_eq!(back, r);
        let second = Records::from_batch(&batch.slice(1, 1)).unwrap();
        assert_eq!(second, r.slice(1..2));
        let add: serde_json::Value = serde_json::from_slice(&r.add_body()).unwrap();
        assert_eq!(add["ids"], serde_json::json!(["a", "b"]));
        assert_eq!(add["metadatas"], serde_json::json!([{"k": "v"}, null]));
        assert_eq!(add["uris"], serde_json::json!(["s3://u", null]));
        use base64::Engine;
        let raw = base64::engine::general_purpose::STANDARD.decode(add["embeddings"][1].as_str().unwrap()).unwrap();
        assert_eq!(raw, [0.3f32.to_le_bytes(), 0.4f32.to_le_bytes()].concat());
    }
}
