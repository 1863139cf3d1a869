//! Spark conformance: replays scenario folders (format: `tests/conformance/FORMAT.md`) through
//! the engine and compares every micro-batch with what Apache Spark's sink received.
//!
//! Each scenario's query is built from its `scenario.json` through the public builder API; its
//! input is fed as Spark's was, one JSON file per step through the file source with
//! `max_files_per_trigger(1)`, each step a run of the query with `Trigger::AvailableNow` from
//! its checkpoint (so restarts, and state restored from the checkpoint, are exercised at every
//! step, as in Spark's runner). For every batch Spark ran, the batch id, the number of input
//! rows, the watermark and the rows (as a multiset) must match, with 1 and with 2 workers, and
//! with 2 and 1 workers in turn (each restart rescales the state: `WORKER_PATTERNS`).
//!
//! Scenarios: every folder under `tests/conformance/`, plus every folder listed in
//! `STREAM_CONFORMANCE_DIRS` (colon-separated; a folder holding `scenario.json`, or a folder of
//! such folders). One line is printed per scenario: `PASS name`, `FAIL name: ...` with the first
//! difference, or `SKIP name (kind not supported yet)`. The test fails if any scenario fails.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{json, Value as Json};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};
use stream_core::agg::Mergeable;
use stream_core::{Aggregates, Record, Schema, Timestamp, Value, WindowSpec};
use stream_runtime::prelude::*;

#[path = "conformance_kinds/dedup.rs"]
mod dedup_kinds;
#[path = "conformance_kinds/ss_join.rs"]
mod ss_join;

// ---------------------------------------------------------------------------------------------
// A row whose columns are known only at run time.

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Val {
    Null,
    Bool(bool),
    Int(i64),
    Str(String),
}

impl Val {
    fn json(&self) -> Json {
        match self {
            Val::Null => Json::Null,
            Val::Bool(b) => json!(b),
            Val::Int(i) => json!(i),
            Val::Str(s) => json!(s),
        }
    }
    fn from_json(v: &Json) -> Result<Val, String> {
        Ok(match v {
            Json::Null => Val::Null,
            Json::Bool(b) => Val::Bool(*b),
            Json::Number(n) => Val::Int(n.as_i64().ok_or(format!("not an integer: {n}"))?),
            Json::String(s) => Val::Str(s.clone()),
            other => return Err(format!("unsupported value {other}")),
        })
    }
    fn int(&self) -> Option<i64> {
        match self {
            Val::Int(i) => Some(*i),
            _ => None,
        }
    }
}

impl Serialize for Val {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.json().serialize(s)
    }
}

impl<'de> Deserialize<'de> for Val {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Val::from_json(&Json::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// Columns by name, in input order.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
struct DynRow(Vec<(String, Val)>);

impl DynRow {
    fn get(&self, col: &str) -> Val {
        self.0
            .iter()
            .find(|(k, _)| k == col)
            .map(|(_, v)| v.clone())
            .unwrap_or(Val::Null)
    }
    fn json(&self) -> Json {
        Json::Object(self.0.iter().map(|(k, v)| (k.clone(), v.json())).collect())
    }
}

/// Rows are read from JSON objects.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
struct InRow(DynRow);

/// An input row as a JSON object (from the files), or as it serializes (from operator state,
/// after a restart).
#[derive(Deserialize)]
#[serde(untagged)]
enum InRowRepr {
    Object(serde_json::Map<String, Json>),
    Row(DynRow),
}

impl<'de> Deserialize<'de> for InRow {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match InRowRepr::deserialize(d)? {
            InRowRepr::Row(row) => Ok(InRow(row)),
            InRowRepr::Object(map) => {
                let mut cols = Vec::new();
                for (k, v) in map {
                    cols.push((k, Val::from_json(&v).map_err(serde::de::Error::custom)?));
                }
                Ok(InRow(DynRow(cols)))
            }
        }
    }
}

impl Record for InRow {
    fn schema() -> Schema {
        Schema::default()
    }
    fn values(&self) -> Vec<Value> {
        Vec::new()
    }
}

impl<'de> Deserialize<'de> for DynRowOut {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(DynRowOut(DynRow::deserialize(d)?))
    }
}

/// Output rows.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
struct DynRowOut(DynRow);

impl Record for DynRowOut {
    fn schema() -> Schema {
        Schema::default()
    }
    fn values(&self) -> Vec<Value> {
        Vec::new()
    }
}

// ---------------------------------------------------------------------------------------------
// Aggregates named in scenario.json.

#[derive(Clone, Debug)]
enum AggKind {
    Count,
    Sum(String),
    Min(String),
    Max(String),
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
enum Acc {
    Count(i64),
    Sum(Option<i64>),
    Min(Option<Val>),
    Max(Option<Val>),
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
struct Accs(Vec<Acc>);

impl Mergeable for Accs {
    fn merge(&mut self, other: &Self) {
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            match (a, b) {
                (Acc::Count(x), Acc::Count(y)) => *x += y,
                (Acc::Sum(x), Acc::Sum(y)) => {
                    *x = match (*x, *y) {
                        (Some(p), Some(q)) => Some(p + q),
                        (p, q) => p.or(q),
                    }
                }
                (Acc::Min(x), Acc::Min(Some(y))) if x.as_ref().is_none_or(|v| y < v) => {
                    *x = Some(y.clone())
                }
                (Acc::Max(x), Acc::Max(Some(y))) if x.as_ref().is_none_or(|v| y > v) => {
                    *x = Some(y.clone())
                }
                _ => {}
            }
        }
    }
    fn scale(&mut self, n: i64) {
        for a in &mut self.0 {
            match a {
                Acc::Count(x) => *x *= n,
                Acc::Sum(Some(x)) => *x *= n,
                _ => {}
            }
        }
    }
}

#[derive(Clone, Debug)]
struct DynAggs(Vec<AggKind>);

impl Aggregates<InRow> for DynAggs {
    type Acc = Accs;
    type Out = Vec<Val>;
    fn init(&self, row: &InRow) -> Accs {
        let non_null = |c: &str| Some(row.0.get(c)).filter(|v| *v != Val::Null);
        Accs(
            self.0
                .iter()
                .map(|k| match k {
                    AggKind::Count => Acc::Count(1),
                    AggKind::Sum(c) => Acc::Sum(non_null(c).and_then(|v| v.int())),
                    AggKind::Min(c) => Acc::Min(non_null(c)),
                    AggKind::Max(c) => Acc::Max(non_null(c)),
                })
                .collect(),
        )
    }
    fn finish(&self, acc: &Accs) -> Vec<Val> {
        acc.0
            .iter()
            .map(|a| match a {
                Acc::Count(n) => Val::Int(*n),
                Acc::Sum(s) => s.map_or(Val::Null, Val::Int),
                Acc::Min(v) | Acc::Max(v) => v.clone().unwrap_or(Val::Null),
            })
            .collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Building the query.

enum Outcome {
    Pass,
    Fail(String),
    Skip(String),
}

fn field<'a>(v: &'a Json, key: &str) -> Result<&'a Json, String> {
    v.get(key)
        .ok_or_else(|| format!("scenario.json: missing `{key}`"))
}

fn text(v: &Json, key: &str) -> Result<String, String> {
    field(v, key)?
        .as_str()
        .map(String::from)
        .ok_or_else(|| format!("scenario.json: `{key}` is not a string"))
}

fn strings(v: Option<&Json>) -> Vec<String> {
    v.and_then(|v| v.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

fn aggs(query: &Json) -> Result<(DynAggs, Vec<String>), String> {
    let mut kinds = Vec::new();
    let mut names = Vec::new();
    for a in field(query, "aggs")?
        .as_array()
        .ok_or("`aggs` is not a list")?
    {
        let f = text(a, "fn")?;
        let col = || text(a, "col");
        kinds.push(match f.as_str() {
            "count" => AggKind::Count,
            "sum" => AggKind::Sum(col()?),
            "min" => AggKind::Min(col()?),
            "max" => AggKind::Max(col()?),
            other => return Err(format!("unsupported aggregate `{other}`")),
        });
        names.push(text(a, "as")?);
    }
    Ok((DynAggs(kinds), names))
}

fn event_time(col: String) -> impl Fn(&InRow) -> Timestamp + Send + Sync + 'static {
    move |r: &InRow| Timestamp(r.0.get(&col).int().unwrap_or(0))
}

fn key_of(cols: Vec<String>) -> impl Fn(&InRow) -> Vec<Val> + Send + Sync + 'static {
    move |r: &InRow| cols.iter().map(|c| r.0.get(c)).collect()
}

fn output(keys: &[String], key: Vec<Val>, names: &[String], outs: Vec<Val>) -> Vec<(String, Val)> {
    keys.iter()
        .cloned()
        .zip(key)
        .chain(names.iter().cloned().zip(outs))
        .collect()
}

/// The query of a scenario, or `Err(Skip or Fail)`.
fn build(
    scenario: &Json,
    dir: &Path,
    input: Dataset<InRow>,
) -> Result<Dataset<DynRowOut>, Outcome> {
    let query = field(scenario, "query").map_err(Outcome::Fail)?;
    let kind = text(query, "kind").map_err(Outcome::Fail)?;
    let fail = Outcome::Fail;
    let with_watermark = |ds: Dataset<InRow>| -> Result<Dataset<InRow>, String> {
        Ok(match query.get("watermark").and_then(|w| w.as_str()) {
            Some(delay) => ds.with_watermark(event_time(text(query, "event_time")?), delay),
            None => ds,
        })
    };
    match kind.as_str() {
        "window_agg" => {
            let ds = with_watermark(input).map_err(fail)?;
            let et = text(query, "event_time").map_err(Outcome::Fail)?;
            let size = text(query, "window").map_err(Outcome::Fail)?;
            let spec = match query.get("slide").and_then(|s| s.as_str()) {
                Some(slide) => WindowSpec::sliding(&size, slide),
                None => WindowSpec::tumbling(&size),
            }
            .map_err(|e| Outcome::Fail(e.to_string()))?;
            let keys = strings(query.get("group_by"));
            let (aggs, names) = aggs(query).map_err(Outcome::Fail)?;
            Ok(ds
                .group_by_window(spec, event_time(et), key_of(keys.clone()))
                .agg(
                    |_| aggs,
                    move |w, k, outs| {
                        let mut row = vec![
                            ("window_start".to_string(), Val::Int(w.start.millis())),
                            ("window_end".to_string(), Val::Int(w.end.millis())),
                        ];
                        row.extend(output(&keys, k, &names, outs));
                        DynRowOut(DynRow(row))
                    },
                ))
        }
        "session_window_agg" => {
            let ds = with_watermark(input).map_err(fail)?;
            let et = text(query, "event_time").map_err(Outcome::Fail)?;
            let gap = query
                .get("gap")
                .or_else(|| query.get("session_gap"))
                .and_then(|g| g.as_str())
                .ok_or_else(|| Outcome::Fail("scenario.json: missing `gap`".into()))?;
            let gap = SessionGap::fixed(gap).map_err(|e| Outcome::Fail(e.to_string()))?;
            let keys = strings(query.get("group_by"));
            let (aggs, names) = aggs(query).map_err(Outcome::Fail)?;
            Ok(ds
                .group_by_session(gap, event_time(et), key_of(keys.clone()))
                .agg(
                    |_| aggs,
                    move |w, k, outs| {
                        let mut row = vec![
                            (
                                "session_window_start".to_string(),
                                Val::Int(w.start.millis()),
                            ),
                            ("session_window_end".to_string(), Val::Int(w.end.millis())),
                        ];
                        row.extend(output(&keys, k, &names, outs));
                        DynRowOut(DynRow(row))
                    },
                ))
        }
        "groupby_agg" => {
            let ds = with_watermark(input).map_err(fail)?;
            let keys = strings(query.get("group_by"));
            let (aggs, names) = aggs(query).map_err(Outcome::Fail)?;
            Ok(ds.group_by_key(key_of(keys.clone())).agg(
                |_| aggs,
                move |k, outs| DynRowOut(DynRow(output(&keys, k, &names, outs))),
            ))
        }
        "stream_static_join" => {
            let how = text(query, "how").map_err(Outcome::Fail)?;
            let how = JoinType::parse(&how)
                .ok_or_else(|| Outcome::Fail(format!("unknown join `{how}`")))?;
            let on = strings(query.get("on"));
            let file = dir.join(text(query, "static_file").map_err(Outcome::Fail)?);
            let table = read_static(Files::json::<InRow>(file));
            let stream_on = on.clone();
            let table_on = on.clone();
            let combine = move |r: &InRow, s: Option<&InRow>| {
                let mut row = r.0 .0.clone();
                let semi = matches!(how, JoinType::LeftSemi | JoinType::LeftAnti);
                if !semi {
                    match s {
                        Some(s) => {
                            row.extend(s.0 .0.iter().filter(|(k, _)| !on.contains(k)).cloned())
                        }
                        None => {
                            // Unmatched left-outer rows: the static columns are NULL; their
                            // names come from the static schema.
                        }
                    }
                }
                DynRowOut(DynRow(row))
            };
            let static_cols: Vec<String> = query
                .get("static")
                .and_then(|s| s.get("schema"))
                .and_then(|s| s.as_str())
                .map(|s| {
                    s.split(',')
                        .filter_map(|c| c.split_whitespace().next().map(String::from))
                        .filter(|c| !table_on.contains(c))
                        .collect()
                })
                .unwrap_or_default();
            Ok(input
                .join_static(
                    table,
                    key_of(stream_on),
                    key_of(table_on.clone()),
                    how,
                    combine,
                )
                .map(move |mut r: DynRowOut| {
                    if how == JoinType::LeftOuter {
                        for c in &static_cols {
                            if !r.0 .0.iter().any(|(k, _)| k == c) {
                                r.0 .0.push((c.clone(), Val::Null));
                            }
                        }
                    }
                    r
                }))
        }
        "dedup" | "dedup_within_watermark" => dedup_kinds::build(query, dir, input),
        _ => Err(Outcome::Skip("kind not supported yet".into())),
    }
}

// ---------------------------------------------------------------------------------------------
// Running a scenario.

fn temp_dir(name: &str, workers: usize) -> PathBuf {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let dir = std::env::temp_dir().join(format!(
        "stream-conformance-{}-{name}-{workers}-{nanos}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn canonical(rows: &[Json]) -> Vec<String> {
    let mut v: Vec<String> = rows
        .iter()
        .map(|r| {
            // serde_json objects keep keys sorted (no preserve_order feature).
            serde_json::to_string(&serde_json::from_str::<Json>(&r.to_string()).unwrap()).unwrap()
        })
        .collect();
    v.sort();
    v
}

/// The numbers of workers a scenario runs with: step `i` runs on `pattern[i % len]` workers,
/// so `[2, 1]` restarts the query on another number of workers at every step.
const WORKER_PATTERNS: [&[usize]; 3] = [&[1], &[2], &[2, 1]];

/// `[1]` as "1 worker", `[2, 1]` as "2, 1 workers".
fn workers_label(pattern: &[usize]) -> String {
    let n: Vec<String> = pattern.iter().map(|w| w.to_string()).collect();
    let plural = if pattern == [1] { "" } else { "s" };
    format!("{} worker{plural}", n.join(", "))
}

fn run(dir: &Path, scenario: &Json, pattern: &[usize]) -> Outcome {
    let workers = pattern.iter().fold(0, |acc, w| acc * 10 + w);
    let name = scenario["name"].as_str().unwrap_or("?").to_string();
    let expected: Vec<Json> = match std::fs::read_to_string(dir.join("expected.jsonl")) {
        Ok(s) => s
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap())
            .collect(),
        Err(e) => return Outcome::Fail(format!("cannot read expected.jsonl: {e}")),
    };
    // One input (`main`), or two (`left`, `right`) whose rows share each batch file.
    let sides: Vec<&str> = match scenario["inputs"].get("main") {
        Some(_) => vec!["main"],
        None => vec!["left", "right"],
    };
    let input_dirs: Vec<PathBuf> = (sides.iter())
        .map(|side| temp_dir(&format!("{name}-{side}"), workers))
        .collect();
    let stream = |dir: &Path| {
        read_stream(
            Files::json::<InRow>(dir)
                .max_files_per_trigger(1)
                .mode(Mode::FailFast),
        )
    };
    let make = || match sides.len() {
        1 => build(scenario, dir, stream(&input_dirs[0])),
        _ => ss_join::build(scenario, stream(&input_dirs[0]), stream(&input_dirs[1])),
    };
    let mode = match scenario["output_mode"].as_str() {
        Some("append") => Append,
        Some("update") => Update,
        Some("complete") => Complete,
        other => return Outcome::Fail(format!("unknown output mode {other:?}")),
    };
    // Every batch as the sink receives it (a memory sink keeps only the latest in complete mode).
    let received = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let checkpoint = temp_dir(&format!("{name}-checkpoint"), workers);
    // As Spark's runner: each step is a run of the query with `Trigger.AvailableNow` from the
    // checkpoint, which reads the step's file and runs a batch without data if the watermark
    // asks for one, then stops. (Each run starts its inputs' own watermarks over from the
    // checkpoint's global one, as Spark's WatermarkTracker does: it shows with two inputs.)
    let start = |step: usize| -> Result<StreamingQuery, Outcome> {
        let query = make()?;
        let sink = {
            let received = received.clone();
            ForeachBatch::new(move |id, rows| received.lock().unwrap().push((id, rows)))
        };
        let writer = query
            .write_stream(sink)
            .output_mode(mode)
            .checkpoint_location(&checkpoint)
            .trigger(Trigger::AvailableNow);
        Session::with_workers(pattern[step % pattern.len()])
            .start(writer)
            .map_err(|e| Outcome::Fail(format!("the query did not start: {e}")))
    };
    if let Some(err) = scenario.get("expect_error").and_then(|e| e.as_str()) {
        let _ = std::fs::remove_dir_all(&checkpoint);
        return match start(0) {
            Err(_) => Outcome::Pass,
            Ok(_) => Outcome::Fail(format!("Spark rejects this query ({err}); we accepted it")),
        };
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("batch-"))
        })
        .collect();
    files.sort();
    let base = SystemTime::now() - Duration::from_secs(3600);
    let mut progress = Vec::new();
    for (i, f) in files.iter().enumerate() {
        // Every input's file of the step, written whole before the run starts.
        let text = std::fs::read_to_string(f).unwrap();
        for (side, input_dir) in sides.iter().zip(&input_dirs) {
            let path = input_dir.join(f.file_name().unwrap());
            std::fs::write(&path, rows_of(&text, side)).unwrap();
            let file = std::fs::File::options().write(true).open(&path).unwrap();
            file.set_modified(base + Duration::from_secs(i as u64))
                .unwrap();
        }
        let handle = match start(i) {
            Ok(h) => h,
            Err(o) => return o,
        };
        if let Err(e) = handle.await_termination() {
            return Outcome::Fail(format!("the query failed: {e}"));
        }
        progress.extend(handle.recent_progress());
    }
    for input_dir in &input_dirs {
        let _ = std::fs::remove_dir_all(input_dir);
    }
    let _ = std::fs::remove_dir_all(&checkpoint);
    let batches = std::mem::take(&mut *received.lock().unwrap());
    if progress.len() != expected.len() {
        let ours: Vec<String> = progress
            .iter()
            .map(|p| format!("{}:{}", p.batch_id, p.num_input_rows))
            .collect();
        return Outcome::Fail(format!(
            "Spark ran {} batches, we ran {} (batch:rows {ours:?})",
            expected.len(),
            progress.len()
        ));
    }
    for (exp, p) in expected.iter().zip(&progress) {
        let id = exp["batch"].as_u64().unwrap();
        if p.batch_id != id {
            return Outcome::Fail(format!("batch {id}: we ran batch {} here", p.batch_id));
        }
        if exp["num_input_rows"].as_u64() != Some(p.num_input_rows) {
            return Outcome::Fail(format!(
                "batch {id}: {} input rows, Spark had {}",
                p.num_input_rows, exp["num_input_rows"]
            ));
        }
        let wm = p
            .event_time
            .get("watermark")
            .and_then(|w| Timestamp::parse_iso(w))
            .map(|t| t.millis());
        if exp["watermark_ms"].as_i64() != wm {
            return Outcome::Fail(format!(
                "batch {id}: watermark {wm:?}, Spark had {}",
                exp["watermark_ms"]
            ));
        }
        let ours: Vec<Json> = batches
            .iter()
            .find(|(b, _)| *b == id)
            .map(|(_, rows)| rows.iter().map(|r| r.0.json()).collect())
            .unwrap_or_default();
        let (a, b) = (canonical(&ours), canonical(exp["rows"].as_array().unwrap()));
        if a != b {
            return Outcome::Fail(format!("batch {id}: rows {a:?}, Spark had {b:?}"));
        }
    }
    Outcome::Pass
}

/// The lines of a batch file for input `side`: all of them for `main`, else those whose
/// `_stream` names the side, without `_stream`.
fn rows_of(text: &str, side: &str) -> String {
    if side == "main" {
        return text.to_string();
    }
    let mut out = String::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let mut row: serde_json::Map<String, Json> = serde_json::from_str(line).unwrap();
        if row
            .remove("_stream")
            .and_then(|s| s.as_str().map(String::from))
            .as_deref()
            == Some(side)
        {
            out.push_str(&Json::Object(row).to_string());
            out.push('\n');
        }
    }
    out
}

fn scenario_dirs() -> Vec<PathBuf> {
    let mut roots = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance")];
    if let Ok(extra) = std::env::var("STREAM_CONFORMANCE_DIRS") {
        roots.extend(
            extra
                .split(':')
                .filter(|s| !s.is_empty())
                .map(PathBuf::from),
        );
    }
    let mut dirs = Vec::new();
    for root in roots {
        if root.join("scenario.json").is_file() {
            dirs.push(root);
            continue;
        }
        let mut subs: Vec<PathBuf> = std::fs::read_dir(&root)
            .unwrap_or_else(|e| panic!("cannot read scenario folder {}: {e}", root.display()))
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.join("scenario.json").is_file())
            .collect();
        subs.sort();
        dirs.extend(subs);
    }
    dirs
}

struct Report(Vec<String>);

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join("\n"))
    }
}

#[test]
fn spark_conformance() {
    let mut failures = Vec::new();
    let (mut passed, mut skipped) = (0, 0);
    for dir in scenario_dirs() {
        let scenario: Json = match std::fs::read_to_string(dir.join("scenario.json"))
            .map_err(|e| e.to_string())
            .and_then(|s| serde_json::from_str(&s).map_err(|e| e.to_string()))
        {
            Ok(s) => s,
            Err(e) => {
                let line = format!("FAIL {}: cannot read scenario.json: {e}", dir.display());
                println!("{line}");
                failures.push(line);
                continue;
            }
        };
        let name = scenario["name"]
            .as_str()
            .map(String::from)
            .unwrap_or_else(|| dir.file_name().unwrap().to_string_lossy().into_owned());
        let mut outcome = Outcome::Pass;
        for pattern in WORKER_PATTERNS {
            match run(&dir, &scenario, pattern) {
                Outcome::Pass => {}
                Outcome::Fail(why) => {
                    outcome = Outcome::Fail(format!("({}) {why}", workers_label(pattern)));
                    break;
                }
                skip => {
                    outcome = skip;
                    break;
                }
            }
        }
        match outcome {
            Outcome::Pass => {
                passed += 1;
                println!("PASS {name}");
            }
            Outcome::Skip(why) => {
                skipped += 1;
                println!("SKIP {name} ({why})");
            }
            Outcome::Fail(why) => {
                let line = format!("FAIL {name}: {why}");
                println!("{line}");
                failures.push(line);
            }
        }
    }
    println!(
        "conformance: {passed} passed, {} failed, {skipped} skipped",
        failures.len()
    );
    assert!(failures.is_empty(), "{}", Report(failures));
}
