//! What a query was when its checkpoint was last used, and which changes a restart accepts
//! (Spark's "Recovery Semantics after Changes in a Streaming Query"; `docs/fault-tolerance.md`).
//!
//! The description is kept in `<checkpoint>/query` (our own file: Spark keeps the operators in
//! `state/<op>/_metadata` and checks schemas one at a time, failing on the first). A restarted
//! query is compared with it before any data is read; every change Spark's guide disallows is
//! listed in one error, with why.

use super::fs::{error, read_text, write_atomic};
use crate::error::{Result, StreamError};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// A query as far as its checkpoint cares.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct QueryDescription {
    /// The sources, in order.
    pub sources: Vec<SourceDescription>,
    /// The stateful operators, in the order of their ids.
    pub stateful_operators: Vec<OperatorDescription>,
    /// `append`, `update` or `complete`.
    pub output_mode: String,
    /// How several watermarks combine (`min` or `max`).
    pub watermark_policy: String,
    /// How many key groups the state is partitioned into.
    pub key_groups: u32,
    /// The sink.
    pub sink: SinkDescription,
}

/// A source of the query.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SourceDescription {
    /// What it reads, without rate limits, e.g. `FileStreamSource[/data/in]`.
    pub identity: String,
    /// Its row type.
    pub row_type: String,
}

/// A stateful operator of the query.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct OperatorDescription {
    /// Its id: its kind and its position among the query's stateful operators (Spark's
    /// `operatorId`), e.g. `window aggregation 0`; stable while the operators stay.
    pub id: String,
    /// Its kind, e.g. `window aggregation`.
    pub kind: String,
    /// The schema of its state's key, e.g. `(Window, user: string)`.
    pub key_schema: String,
    /// The schema of its state's value (the aggregates' buffers), e.g. `(i64, Sum<i128>)`.
    pub state_schema: String,
    /// What shapes its state besides the schemas, e.g. `tumbling window 10 seconds`.
    pub parameters: String,
}

/// The query's sink.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SinkDescription {
    /// Its description, e.g. `FileSink[/data/out]`.
    pub description: String,
    /// Set for sinks that keep their own log of batches (a file sink's directory): such a sink
    /// cannot change, or appear, on restart.
    pub identity: Option<String>,
}

/// One difference between the checkpoint's query and the restarted one.
struct Change {
    what: String,
    /// Why it is not allowed; `None` when it is.
    refused: Option<&'static str>,
}

const STATE_CHANGED: &str = "the operator's saved state would be read with the wrong layout; \
                             Spark's guide: any change to the stateful operations of a \
                             streaming query is not allowed between restarts";

/// Checks a restarted query against the checkpoint's, then records it. The first start only
/// records it.
pub(crate) fn check_and_record(root: &Path, now: &QueryDescription) -> Result<()> {
    let path = root.join("query");
    if let Some(text) = read_text(&path)? {
        let before: QueryDescription = serde_json::from_str(&text).map_err(|e| {
            error(
                &path,
                format!("is corrupt or truncated ({e}); it describes the query that wrote the checkpoint"),
            )
        })?;
        let refused: Vec<String> = changes(&before, now)
            .into_iter()
            .filter_map(|c| c.refused.map(|why| format!("  - {}: {why}", c.what)))
            .collect();
        if !refused.is_empty() {
            return Err(StreamError::Checkpoint(format!(
                "the query changed since its checkpoint `{}` was written, in ways a restart \
                 cannot honour:\n{}\nUndo these changes, or start the changed query with a new \
                 checkpoint_location (it then starts from its sources' starting offsets, \
                 without the old state).",
                root.display(),
                refused.join("\n")
            )));
        }
    }
    let text = serde_json::to_string_pretty(now).expect("a query description serializes");
    write_atomic(&path, text.as_bytes())
}

/// Every difference between `before` and `now`, each allowed or refused by Spark's rules.
fn changes(before: &QueryDescription, now: &QueryDescription) -> Vec<Change> {
    let mut out = Vec::new();
    let mut push = |what: String, refused: Option<&'static str>| out.push(Change { what, refused });
    if before.sources.len() != now.sources.len() {
        push(
            format!(
                "the query had {} sources and now has {}",
                before.sources.len(),
                now.sources.len()
            ),
            Some("the number of input sources cannot change (each source's offsets are logged by its position)"),
        );
    } else {
        for (i, (b, n)) in before.sources.iter().zip(&now.sources).enumerate() {
            if b.row_type != n.row_type {
                push(
                    format!(
                        "source {i}'s rows changed from {} to {}",
                        b.row_type, n.row_type
                    ),
                    Some("the type of an input source cannot change"),
                );
            }
            if b.identity != n.identity {
                push(
                    format!("source {i} changed from {} to {}", b.identity, n.identity),
                    Some("changing what a source reads (its files, topics or kind) is not allowed: its logged offsets would mean something else"),
                );
            }
        }
    }
    let (b_ops, n_ops) = (&before.stateful_operators, &now.stateful_operators);
    for op in b_ops.iter().skip(n_ops.len()) {
        push(
            format!("stateful operator {} was removed", op.id),
            Some(STATE_CHANGED),
        );
    }
    for op in n_ops.iter().skip(b_ops.len()) {
        push(
            format!("stateful operator {} was added", op.id),
            Some(STATE_CHANGED),
        );
    }
    for (b, n) in b_ops.iter().zip(n_ops) {
        let fields = [
            ("kind", &b.kind, &n.kind),
            ("key (grouping columns)", &b.key_schema, &n.key_schema),
            ("state (aggregates)", &b.state_schema, &n.state_schema),
            ("parameters", &b.parameters, &n.parameters),
        ];
        for (name, was, is) in fields {
            if was != is {
                push(
                    format!(
                        "stateful operator {}: its {name} changed from `{was}` to `{is}`",
                        b.id
                    ),
                    Some(STATE_CHANGED),
                );
            }
        }
    }
    if before.output_mode != now.output_mode {
        // Append and update keep the same state, evicted by the watermark; complete mode
        // keeps every group forever.
        let complete = before.output_mode == "complete" || now.output_mode == "complete";
        let refused = (!n_ops.is_empty() && complete).then_some(
            "the stateful operators kept their state for the old mode (complete mode never \
             evicts, append and update do), so a stateful query cannot switch to or from \
             complete mode",
        );
        push(
            format!(
                "the output mode changed from {} to {}",
                before.output_mode, now.output_mode
            ),
            refused,
        );
    }
    if before.watermark_policy != now.watermark_policy {
        push(
            format!(
                "the watermark policy changed from {} to {}",
                before.watermark_policy, now.watermark_policy
            ),
            Some("spark.sql.streaming.multipleWatermarkPolicy is fixed at the first start (Spark silently keeps the old one; we refuse rather than run another policy than asked)"),
        );
    }
    if before.key_groups != now.key_groups {
        push(
            format!("the key groups changed from {} to {}", before.key_groups, now.key_groups),
            Some("state is partitioned into key groups by hashing keys; their number is fixed at the first start (change workers or processes instead: that is allowed)"),
        );
    }
    let (b_sink, n_sink) = (&before.sink, &now.sink);
    if n_sink.identity.is_some() && b_sink.identity != n_sink.identity {
        push(
            format!("the sink changed from {} to {}", b_sink.description, n_sink.description),
            Some("a sink that keeps its own log of batches (a file sink's `_spark_metadata`) cannot change or appear on restart: its log would not match the checkpoint's batches"),
        );
    } else if b_sink.description != n_sink.description {
        push(
            format!(
                "the sink changed from {} to {}",
                b_sink.description, n_sink.description
            ),
            None,
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query() -> QueryDescription {
        QueryDescription {
            sources: vec![SourceDescription {
                identity: "FileStreamSource[/in]".into(),
                row_type: "Click{user: string, ts: timestamp}".into(),
            }],
            stateful_operators: vec![OperatorDescription {
                id: "window aggregation 0".into(),
                kind: "window aggregation".into(),
                key_schema: "(Window, String)".into(),
                state_schema: "(i64,)".into(),
                parameters: "tumbling window 10 seconds".into(),
            }],
            output_mode: "append".into(),
            watermark_policy: "min".into(),
            key_groups: 128,
            sink: SinkDescription {
                description: "MemorySink".into(),
                identity: None,
            },
        }
    }

    fn refused(before: &QueryDescription, now: &QueryDescription) -> Vec<String> {
        changes(before, now)
            .into_iter()
            .filter(|c| c.refused.is_some())
            .map(|c| c.what)
            .collect()
    }

    #[test]
    fn unchanged_and_allowed_changes_start() {
        let q = query();
        assert!(changes(&q, &q).is_empty());
        let mut console = q.clone();
        console.sink.description = "ConsoleSink".into();
        assert!(
            refused(&q, &console).is_empty(),
            "memory -> console is allowed"
        );
        let mut stateless = q.clone();
        stateless.stateful_operators.clear();
        let mut complete = stateless.clone();
        complete.output_mode = "complete".into();
        assert!(refused(&stateless, &complete).is_empty());
        let mut update = q.clone();
        update.output_mode = "update".into();
        assert!(
            refused(&q, &update).is_empty(),
            "append -> update keeps the state"
        );
    }

    #[test]
    fn every_refused_change_is_listed() {
        let q = query();
        let mut changed = q.clone();
        changed.stateful_operators[0].key_schema = "(Window, String, String)".into();
        changed.stateful_operators[0].parameters = "tumbling window 20 seconds".into();
        changed.output_mode = "complete".into();
        changed.sources[0].identity = "FileStreamSource[/other]".into();
        let refused = refused(&q, &changed);
        assert_eq!(refused.len(), 4, "{refused:#?}");
        assert!(refused[0].contains("source 0 changed"), "{refused:#?}");
        assert!(refused[1].contains("key (grouping columns) changed"));
        assert!(refused[2].contains("parameters changed"));
        assert!(refused[3].contains("output mode"));
    }

    #[test]
    fn operators_added_or_removed_are_refused() {
        let q = query();
        let mut more = q.clone();
        let mut second = q.stateful_operators[0].clone();
        second.id = "aggregation 1".into();
        more.stateful_operators.push(second);
        assert_eq!(
            refused(&q, &more),
            ["stateful operator aggregation 1 was added"]
        );
        assert_eq!(
            refused(&more, &q),
            ["stateful operator aggregation 1 was removed"]
        );
    }

    #[test]
    fn a_file_sink_cannot_change_or_appear() {
        let q = query();
        let mut file = q.clone();
        file.sink = SinkDescription {
            description: "FileSink[/out]".into(),
            identity: Some("/out".into()),
        };
        assert_eq!(refused(&q, &file).len(), 1, "memory -> file is refused");
        assert!(refused(&file, &q).is_empty(), "file -> memory is allowed");
        let mut other = file.clone();
        other.sink.identity = Some("/elsewhere".into());
        assert_eq!(
            refused(&file, &other).len(),
            1,
            "another directory is refused"
        );
    }

    #[test]
    fn the_record_is_checked_then_written() {
        let dir = std::env::temp_dir().join(format!("changes-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let q = query();
        check_and_record(&dir, &q).unwrap();
        check_and_record(&dir, &q).unwrap();
        let mut changed = q.clone();
        changed.key_groups = 64;
        let e = check_and_record(&dir, &changed).unwrap_err().to_string();
        assert!(e.contains("key groups changed from 128 to 64"), "{e}");
        assert!(e.contains("new checkpoint_location"), "{e}");
        std::fs::write(dir.join("query"), "{\"sources\":[").unwrap();
        let e = check_and_record(&dir, &q).unwrap_err().to_string();
        assert!(e.contains("query"), "names the file: {e}");
        assert!(e.contains("corrupt or truncated"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
