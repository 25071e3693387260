//! The eight checks of `validate` (DESIGN §8), run against the migrated collections with the
//! pre-migration snapshot as the baseline. `migrate` runs them on its import collections before
//! swapping anything in.

use std::collections::{BTreeMap, HashSet};

use serde::Serialize;
use serde_json::{Map, Value};

use crate::clients::chroma::ChromaClient;
use crate::snapshot::archive::Unpacked;
use crate::snapshot::records::Records;
use crate::snapshot::verify::read_records;
use crate::snapshot::{CollectionEntry, SnapshotError};

use super::RowFailure;
use super::spec::{Derivation, Spec};
use super::transform::{has_type, is_citation};

/// Neighbours compared per sampled query.
const K: usize = 10;
/// Mean overlap with exact neighbours below which the index counts as damaged…
pub const MIN_OVERLAP: f64 = 0.9;
/// …unless the source's own index, measured the same way, does no better: then the target may
/// fall short of the source by at most this much.
pub const OVERLAP_TOLERANCE: f64 = 0.05;
const LISTED_PROBLEMS: usize = 20;

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub passed: bool,
    pub baseline: String,
    pub checks: Vec<Check>,
}

impl Report {
    pub fn failures(&self) -> Vec<String> {
        self.checks
            .iter()
            .filter(|c| !c.passed)
            .map(|c| format!("{}: {}", c.name, c.problems.first().cloned().unwrap_or_else(|| c.detail.clone())))
            .collect()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub passed: bool,
    pub detail: String,
    /// The first problems found (collection and row named).
    pub problems: Vec<String>,
}

struct Tally {
    name: &'static str,
    problems: Vec<String>,
    count: u64,
    detail: String,
}

impl Tally {
    fn new(name: &'static str) -> Tally {
        Tally { name, problems: Vec::new(), count: 0, detail: String::new() }
    }

    fn problem(&mut self, text: impl FnOnce() -> String) {
        self.count += 1;
        if self.problems.len() < LISTED_PROBLEMS {
            self.problems.push(text());
        }
    }

    fn done(self, ok_detail: &str) -> Check {
        let passed = self.count == 0;
        let detail = if !self.detail.is_empty() {
            self.detail
        } else if passed {
            ok_detail.to_string()
        } else {
            format!("{} problems", self.count)
        };
        Check { name: self.name, passed, detail, problems: self.problems }
    }
}

/// Runs the checks. `targets` pairs each baseline collection with the collection to check;
/// `quarantine` lists rows the migration left out on purpose.
pub async fn validate(
    chroma: &ChromaClient,
    spec: &Spec,
    baseline: &Unpacked,
    targets: &[(String, String)],
    quarantine: &BTreeMap<String, Vec<RowFailure>>,
    sample: usize,
) -> Result<Report, SnapshotError> {
    let mut exist = Tally::new("collections_exist");
    let mut ids_equal = Tally::new("id_sets_equal");
    let mut present = Tally::new("fields_present");
    let mut types = Tally::new("field_types");
    let mut required = Tally::new("required_non_null");
    let mut overlap = Tally::new("nearest_neighbour_overlap");
    let mut dims = Tally::new("embedding_dimension");
    let mut citations = Tally::new("citation_uris");
    let citation_fields: Vec<&str> = spec
        .fields
        .iter()
        .filter(|(_, f)| {
            f.source.derive == Some(Derivation::Citation)
                || f.collections.values().any(|s| s.derive == Some(Derivation::Citation))
        })
        .map(|(name, _)| name.as_str())
        .collect();
    let mut overlaps = Vec::new();
    for (source, target) in targets {
        let entry = baseline
            .manifest
            .collections
            .iter()
            .find(|c| &c.name == source)
            .ok_or_else(|| SnapshotError::Usage(format!("the baseline snapshot has no collection `{source}`")))?;
        let Some(collection) = chroma.collection(target).await? else {
            exist.problem(|| format!("`{target}` does not exist"));
            continue;
        };
        if collection.dimension != entry.dimension && entry.rows_exported > 0 {
            dims.problem(|| {
                format!("`{target}` has dimension {:?}, the baseline {:?}", collection.dimension, entry.dimension)
            });
        }
        // Id sets: baseline minus quarantine, exactly.
        let left_out: HashSet<&str> =
            quarantine.get(source).map(|q| q.iter().map(|r| r.id.as_str()).collect()).unwrap_or_default();
        let (baseline_ids, embeddings, dim) = baseline_rows(baseline, entry)?;
        let expected: HashSet<&str> =
            baseline_ids.iter().map(String::as_str).filter(|id| !left_out.contains(id)).collect();
        let actual_ids = chroma.all_ids(&collection.id).await?;
        let actual: HashSet<&str> = actual_ids.iter().map(String::as_str).collect();
        let missing: Vec<&&str> = expected.difference(&actual).collect();
        let extra: Vec<&&str> = actual.difference(&expected).collect();
        if !missing.is_empty() || !extra.is_empty() {
            ids_equal.problem(|| {
                let example = |ids: &[&&str]| ids.first().map_or(String::new(), |id| format!(" (e.g. `{id}`)"));
                format!(
                    "`{target}`: {} ids missing{}, {} unexpected{}",
                    missing.len(),
                    example(&missing),
                    extra.len(),
                    example(&extra)
                )
            });
        }
        // Every row's metadata.
        for page in actual_ids.chunks(1000) {
            let body = chroma.get_raw(&collection.id, page, &["metadatas"]).await?;
            let records = Records::from_get_json(&body, None).map_err(SnapshotError::Failed)?;
            for (id, metadata) in records.ids.iter().zip(&records.metadatas) {
                let metadata: Map<String, Value> =
                    metadata.as_deref().map_or_else(Map::new, |m| serde_json::from_str(m).unwrap_or_default());
                for (name, field) in &spec.fields {
                    match metadata.get(name) {
                        None | Some(Value::Null) => {
                            if field.required {
                                required.problem(|| format!("`{target}` row `{id}`: required `{name}` is missing"));
                            }
                            if field.required || field.default.is_some() {
                                present.problem(|| format!("`{target}` row `{id}`: no `{name}`"));
                            }
                        }
                        Some(value) => {
                            if let Some(kind) = field.kind {
                                if !has_type(value, kind) {
                                    types.problem(|| {
                                        format!("`{target}` row `{id}`: `{name}` = {value} is not {}", kind.name())
                                    });
                                }
                            }
                        }
                    }
                }
                for name in &citation_fields {
                    if let Some(value) = metadata.get(*name) {
                        if !value.as_str().is_some_and(is_citation) {
                            citations.problem(|| {
                                format!("`{target}` row `{id}`: `{name}` = {value} is not if://citation/<16 hex>")
                            });
                        }
                    }
                }
            }
        }
        // Nearest neighbours of sampled rows: the target's index against exact brute force.
        if dim > 0 && !baseline_ids.is_empty() && sample > 0 {
            let space = space_of(entry);
            let step = (baseline_ids.len() / sample.min(baseline_ids.len())).max(1);
            let queries: Vec<usize> = (0..baseline_ids.len()).step_by(step).take(sample).collect();
            let vectors: Vec<Vec<f32>> = queries.iter().map(|&q| embeddings[q * dim..(q + 1) * dim].to_vec()).collect();
            let k = K.min(expected.len());
            if k > 0 {
                let exact: Vec<HashSet<&str>> = queries
                    .iter()
                    .map(|q| exact_neighbours(&embeddings, dim, &baseline_ids, &left_out, *q, k, &space))
                    .collect();
                let mean_overlap = |found: Vec<Vec<String>>| -> f64 {
                    let hits: f64 = found
                        .iter()
                        .zip(&exact)
                        .map(|(got, exact)| {
                            got.iter().filter(|id| exact.contains(id.as_str())).count() as f64 / k as f64
                        })
                        .sum();
                    hits / queries.len() as f64
                };
                let after = mean_overlap(chroma.query_many(&collection.id, &vectors, k as u32).await?);
                // Before vs after: while the source collection still exists (a staging or suffixed
                // target), its own index sets the bar, so approximate-index noise is not loss.
                let before = match chroma.collection(source).await? {
                    Some(live) if source != target => {
                        Some(mean_overlap(chroma.query_many(&live.id, &vectors, k as u32).await?))
                    }
                    _ => None,
                };
                let bar = before.map_or(MIN_OVERLAP, |b| MIN_OVERLAP.min(b - OVERLAP_TOLERANCE));
                overlaps.push(match before {
                    Some(b) => format!("{target} {after:.3} (source {b:.3})"),
                    None => format!("{target} {after:.3}"),
                });
                if after < bar {
                    overlap.problem(|| {
                        format!("`{target}`: mean overlap {after:.3} with exact neighbours (needs {bar:.3})")
                    });
                }
            }
        }
    }
    overlap.detail = if overlaps.is_empty() {
        "no vectors to sample".into()
    } else {
        format!(
            "mean overlap of top-{K} with exact neighbours, {sample} queries per collection: {}",
            overlaps.join(", ")
        )
    };
    if citation_fields.is_empty() {
        citations.detail = "the spec derives no citation field".into();
    }
    let checks = vec![
        exist.done("every target collection exists"),
        ids_equal.done("id sets equal the baseline's (minus quarantined rows)"),
        present.done("every row has every target field"),
        types.done("every field has its declared type"),
        required.done("no required field is missing"),
        overlap.done(""),
        dims.done("embedding dimensions match"),
        citations.done("every citation id is well formed"),
    ];
    let passed = checks.iter().all(|c| c.passed);
    Ok(Report { passed, baseline: baseline.manifest.name.clone(), checks })
}

/// Ids and row-major embeddings of a baseline collection.
fn baseline_rows(
    baseline: &Unpacked,
    entry: &CollectionEntry,
) -> Result<(Vec<String>, Vec<f32>, usize), SnapshotError> {
    let file = baseline.collection_file(entry);
    let integrity = |e: String| SnapshotError::Integrity(format!("`{}`: {e}", file.display()));
    let mut ids = Vec::new();
    let mut embeddings = Vec::new();
    let mut dim = entry.dimension.unwrap_or(0) as usize;
    for records in read_records(&file, entry).map_err(integrity)? {
        let records = records.map_err(integrity)?;
        dim = records.dim;
        ids.extend(records.ids);
        embeddings.extend(records.embeddings);
    }
    Ok((ids, embeddings, dim))
}

/// The collection's distance space; Chroma's default when the snapshot does not say.
fn space_of(entry: &CollectionEntry) -> String {
    crate::snapshot::restore::space_of(entry).unwrap_or_else(|| "l2".into())
}

/// The exact top-k ids for row `q` by brute force, in the collection's distance space.
fn exact_neighbours<'a>(
    embeddings: &[f32],
    dim: usize,
    ids: &'a [String],
    left_out: &HashSet<&str>,
    q: usize,
    k: usize,
    space: &str,
) -> HashSet<&'a str> {
    let query = &embeddings[q * dim..(q + 1) * dim];
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    let qn = norm(query);
    let mut scored: Vec<(f32, usize)> = (0..ids.len())
        .filter(|&i| !left_out.contains(ids[i].as_str()))
        .map(|i| {
            let row = &embeddings[i * dim..(i + 1) * dim];
            let distance = match space {
                "ip" => 1.0 - row.iter().zip(query).map(|(a, b)| a * b).sum::<f32>(),
                "cosine" => {
                    1.0 - row.iter().zip(query).map(|(a, b)| a * b).sum::<f32>()
                        / (norm(row) * qn).max(f32::MIN_POSITIVE)
                }
                _ => row.iter().zip(query).map(|(a, b)| (a - b) * (a - b)).sum::<f32>(),
            };
            (distance, i)
        })
        .collect();
    let k = k.min(scored.len());
    if k == 0 {
        return HashSet::new();
    }
    scored.select_nth_unstable_by(k - 1, |a, b| a.0.total_cmp(&b.0));
    scored[..k].iter().map(|&(_, i)| ids[i].as_str()).collect()
}
