//! The `dedup` and `dedup_within_watermark` kinds of the conformance format:
//! `df.withWatermark(event_time, watermark).dropDuplicates(subset)` (the watermark only if
//! given; no `subset`: all columns) and `.dropDuplicatesWithinWatermark(subset)`, with an
//! optional `then`: an aggregation kind applied to the deduplicated rows (two stateful
//! operators), its `event_time` inherited and no second watermark.

use super::{build as build_kind, event_time, key_of, strings, text, DynRowOut, InRow, Outcome};
use serde_json::Value as Json;
use std::path::Path;
use stream_runtime::prelude::*;

/// The query of a `dedup` or `dedup_within_watermark` scenario.
pub(super) fn build(
    query: &Json,
    dir: &Path,
    input: Dataset<InRow>,
) -> Result<Dataset<DynRowOut>, Outcome> {
    let kind = text(query, "kind").map_err(Outcome::Fail)?;
    let et = query.get("event_time").and_then(|e| e.as_str());
    let ds = match (et, query.get("watermark").and_then(|w| w.as_str())) {
        (Some(et), Some(delay)) => input.with_watermark_on(et, event_time(et.into()), delay),
        _ => input,
    };
    let subset = query.get("subset").map(|s| strings(Some(s)));
    let deduped = match (kind.as_str(), subset, et) {
        ("dedup", None, Some(et)) => {
            ds.drop_duplicates_on(et, event_time(et.into()), true, |r: &InRow| r.clone())
        }
        ("dedup", None, None) => ds.drop_duplicates_all(),
        ("dedup", Some(cols), Some(et)) => {
            let holds = cols.iter().any(|c| c == et);
            ds.drop_duplicates_on(et, event_time(et.into()), holds, key_of(cols))
        }
        ("dedup", Some(cols), None) => ds.drop_duplicates(key_of(cols)),
        // Without an event time the builder refuses the query when it starts, as Spark does.
        ("dedup_within_watermark", cols, et) => {
            let et = et.unwrap_or_default();
            match cols {
                Some(cols) => {
                    ds.drop_duplicates_within_watermark_on(et, event_time(et.into()), key_of(cols))
                }
                None => ds.drop_duplicates_within_watermark_on(
                    et,
                    event_time(et.into()),
                    |r: &InRow| r.clone(),
                ),
            }
        }
        (other, _, _) => return Err(Outcome::Fail(format!("not a dedup kind: `{other}`"))),
    };
    match query.get("then") {
        Some(then) => {
            let mut then = then.clone();
            if let (Some(et), Some(obj)) = (et, then.as_object_mut()) {
                obj.entry("event_time").or_insert_with(|| et.into());
            }
            build_kind(&serde_json::json!({ "query": then }), dir, deduped)
        }
        None => Ok(deduped.map(|r: InRow| DynRowOut(r.0))),
    }
}

/// Scenarios in the conformance format whose expected outputs were worked out by hand from
/// Spark's rules (docs/deduplication.md), not recorded from Spark: `dedup_cases/*` (no
/// watermark on all columns, a key without the event time, late rows, an aggregation after the
/// deduplication, within the watermark in update mode), on 1 and 2 workers.
#[test]
fn hand_worked_dedup_scenarios() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance_kinds/dedup_cases");
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("scenario.json").is_file())
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 4, "the hand-worked scenarios are there");
    let mut failures = Vec::new();
    for dir in dirs {
        let text = std::fs::read_to_string(dir.join("scenario.json")).unwrap();
        let scenario: Json = serde_json::from_str(&text).unwrap();
        for pattern in super::WORKER_PATTERNS {
            let name = format!("{} on {}", dir.display(), super::workers_label(pattern));
            match super::run(&dir, &scenario, pattern) {
                Outcome::Pass => println!("PASS {name}"),
                Outcome::Fail(why) => failures.push(format!("FAIL {name}: {why}")),
                Outcome::Skip(why) => failures.push(format!("SKIP {name}: {why}")),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
