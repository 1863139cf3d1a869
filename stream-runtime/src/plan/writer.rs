//! `DataStreamWriter`: the sink, output mode, trigger and name of a query (Spark's
//! `writeStream`), and the checks made when it starts.

use super::lower::SourceEntry;
use super::Dataset;
use crate::checkpoint::{
    OperatorDescription, QueryDescription, SinkDescription, SourceDescription,
};
use crate::error::{Result, StreamError};
use crate::sink::Sink;
use crate::watermark::WatermarkPolicy;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use stream_core::{OutputMode, Record, Trigger};

/// A query ready to start: a dataset, a sink, an output mode, a trigger and a name.
pub struct DataStreamWriter<T: 'static> {
    pub(crate) data: Dataset<T>,
    pub(crate) sink: Box<dyn Sink<T>>,
    pub(crate) mode: OutputMode,
    pub(crate) trigger: Trigger,
    pub(crate) name: Option<String>,
    pub(crate) watermark_policy: WatermarkPolicy,
    pub(crate) checkpoint: Option<PathBuf>,
    /// A batch query (`collect`, `show`, `write` on bounded inputs): one batch reading
    /// everything, lowered as in complete mode, with no output-mode rules.
    pub(crate) batch: bool,
}

impl<T: Record> DataStreamWriter<T> {
    pub(crate) fn new(data: Dataset<T>, sink: Box<dyn Sink<T>>) -> Self {
        DataStreamWriter {
            data,
            sink,
            mode: OutputMode::Append,
            trigger: Trigger::Default,
            name: None,
            watermark_policy: WatermarkPolicy::Min,
            checkpoint: None,
            batch: false,
        }
    }

    /// The query of a batch run over bounded inputs: one batch that reads everything
    /// (`Trigger::Once`), lowered as in complete mode so that every operator's final result
    /// comes out of that one batch (nothing is late, no state is evicted).
    pub(crate) fn batch(data: Dataset<T>, sink: Box<dyn Sink<T>>) -> Self {
        DataStreamWriter {
            mode: OutputMode::Complete,
            trigger: Trigger::Once,
            batch: true,
            ..DataStreamWriter::new(data, sink)
        }
    }

    /// The output mode (Spark's default: `Append`).
    pub fn output_mode(mut self, mode: OutputMode) -> Self {
        self.mode = mode;
        self
    }

    /// When batches run (default: as soon as the previous one finished and data is available).
    pub fn trigger(mut self, trigger: Trigger) -> Self {
        self.trigger = trigger;
        self
    }

    /// How the watermarks of several inputs combine (Spark's
    /// `spark.sql.streaming.multipleWatermarkPolicy`): `Min` (default) or `Max`.
    pub fn watermark_policy(mut self, policy: WatermarkPolicy) -> Self {
        self.watermark_policy = policy;
        self
    }

    /// Where the query keeps its checkpoint (Spark's `checkpointLocation`): its id, the offsets
    /// of every batch before it runs, which batches the sink has, the sources' logs and the
    /// operators' state. A query restarted on the same directory resumes where it stopped, with
    /// exactly-once results in sinks that support them. Without one, a restart starts over (as
    /// Spark's console and memory sinks do).
    pub fn checkpoint_location(mut self, dir: impl AsRef<Path>) -> Self {
        self.checkpoint = Some(dir.as_ref().to_path_buf());
        self
    }

    /// The query's name, shown in progress reports.
    pub fn query_name(mut self, name: &str) -> Self {
        self.name = Some(name.to_string());
        self
    }

    /// Checks the query against the rules (the same that `stream!` applies at compile time).
    pub fn check(&self) -> Result<()> {
        if let Some(e) = &self.data.meta.error {
            return Err(e.clone());
        }
        if self.batch {
            return self.sink.check_mode(self.mode);
        }
        if self.data.meta.bounded {
            return Err(StreamError::Analysis(
                "write_stream can be called only on a streaming Dataset: this one reads bounded \
                 inputs only (read(..)); run it with collect(), show(n) or write(sink), or read \
                 its input with read_stream(..)"
                    .into(),
            ));
        }
        stream_core::rules::check_output_mode(&self.data.meta.shape, self.mode)?;
        self.sink.check_mode(self.mode)?;
        if self.data.meta.shape.aggregations.len() as u64 >= crate::time::BATCH_SEQ_BASE {
            return Err(StreamError::Analysis(format!(
                "at most {} chained aggregations are supported",
                crate::time::BATCH_SEQ_BASE - 1
            )));
        }
        Ok(())
    }

    pub(crate) fn into_def(self) -> QueryDef<T> {
        let mut sources = self.data.meta.sources.clone();
        let mut seen = std::collections::HashSet::new();
        sources.retain(|s| seen.insert(s.key));
        // Row-at-a-time sinks write on every worker, except in complete mode, where the driver
        // keeps the whole result table.
        let writer = match self.mode {
            OutputMode::Complete => None,
            _ => self.sink.row_writer(),
        };
        let sink_description = SinkDescription {
            description: self.sink.description(),
            identity: self.sink.batch_log(),
        };
        QueryDef {
            writer,
            sink_description,
            partitioned: self.sink.partitioned(),
            sink: Mutex::new(Some(self.sink)),
            data: self.data,
            sources,
            mode: self.mode,
            trigger: self.trigger,
            watermark_policy: self.watermark_policy,
            checkpoint: self.checkpoint,
        }
    }
}

/// A started query's definition, shared by all workers of a process.
pub(crate) struct QueryDef<T: 'static> {
    pub data: Dataset<T>,
    pub sources: Vec<SourceEntry>,
    pub sink: Mutex<Option<Box<dyn Sink<T>>>>,
    /// Set when every worker writes its own output rows.
    pub writer: Option<crate::sink::RowWriter<T>>,
    /// Set when every worker writes its own rows of each batch, and the driver commits it.
    pub partitioned: Option<std::sync::Arc<dyn crate::sink::PartitionedSink<T>>>,
    pub mode: OutputMode,
    pub trigger: Trigger,
    pub watermark_policy: WatermarkPolicy,
    pub checkpoint: Option<PathBuf>,
    pub sink_description: SinkDescription,
}

impl<T> QueryDef<T> {
    /// The query as its checkpoint records it, for a restart to compare.
    pub fn description(&self, key_groups: u32) -> QueryDescription {
        // An operator's id is its number, the one its state directory has (Spark's
        // `operatorId`), with its kind.
        let stateful_operators = (self.data.meta.stateful.iter().enumerate())
            .map(|(i, op)| OperatorDescription {
                id: format!("{i} ({})", op.kind),
                ..op.clone()
            })
            .collect();
        QueryDescription {
            sources: (self.sources.iter())
                .map(|s| SourceDescription {
                    identity: s.source.identity(),
                    row_type: s.source.row_type(),
                })
                .collect(),
            stateful_operators,
            output_mode: self.mode.name().to_ascii_lowercase(),
            watermark_policy: self.watermark_policy.name().to_string(),
            key_groups,
            sink: self.sink_description.clone(),
        }
    }

    /// The query's shape as every process of a cluster must build it: its operators in order,
    /// with the sources' and tables' row types, its output mode, and where its rows are written.
    pub fn shape(&self) -> String {
        let written = if self.writer.is_some() || self.partitioned.is_some() {
            "written on every worker"
        } else {
            "gathered to the driver"
        };
        format!(
            "[{}] in {} mode, {written}",
            self.data.meta.operators.join(", "),
            self.mode.name()
        )
    }
}
