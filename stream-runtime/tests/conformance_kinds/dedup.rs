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
