//! The builder: `Dataset<T>`, a typed description of a streaming query in Spark's vocabulary.
//! `stream!` expands into these calls; applications may also call them directly.
//!
//! This layer describes a query and knows nothing of sessions or drivers: a dataset is a
//! [`LowerFn`](lower::LowerFn) that builds its dataflow on a worker, the query shape the rules
//! check, and its sources; [`DataStreamWriter`] adds the sink and the query's options.

mod aggregate;
mod batch;
mod dedup;
pub(crate) mod describe;
mod group_state;
mod groups_with_state;
mod join;
mod json;
pub(crate) mod lower;
mod nulls;
mod stateful_processor;
mod stream_join;
mod transform_with_state;
mod writer;

pub use aggregate::{
    tumbling_window, window_time, Agg, GroupedDataset, Key, KeyCount, SessionDataset, SessionGap,
    WindowedDataset,
};
pub use batch::read;
pub use group_state::{GroupRows, GroupState};
pub use groups_with_state::StateValue;
pub use join::{read_static, StaticTable};
pub use stateful_processor::{
    ListState, MapState, ProcessorHandle, StateDeclarations, StatefulProcessor, TimeMode,
    TimerValues, ValueState,
};
pub use stream_join::JoinOn;
pub use writer::DataStreamWriter;
pub(crate) use writer::QueryDef;

use crate::dataflow::{self, Coll};
use crate::error::StreamError;
use crate::sink::Sink;
use crate::source::IntoSource;
use crate::watermark::WatermarkDef;
use lower::{lower_fn, LowerCtx, LowerFn, SourceEntry, SourceFeed};
use std::sync::Arc;
use stream_core::{PlanShape, Record, Timestamp};

/// A stream of rows of type `T`, and how to compute it: Spark's `Dataset[T]`.
pub struct Dataset<T: 'static> {
    pub(crate) lower: LowerFn<T>,
    pub(crate) meta: Meta,
    /// How the output rows are sorted (`order_by`), applied to each batch's rows.
    pub(crate) sort: Option<SortFn<T>>,
}

/// What the builder knows of a query besides how to lower it: what the rules check, its
/// sources, its watermarks, and the first mistake found while building it.
#[derive(Clone, Default)]
pub(crate) struct Meta {
    pub shape: PlanShape,
    pub sources: Vec<SourceEntry>,
    /// The `with_watermark` operators, in lowering order.
    pub watermarks: Vec<WatermarkDef>,
    /// The columns of the current rows that carry a watermark (Spark's event-time metadata on
    /// an attribute): by name, or `None` for one known only as a closure.
    pub event_time: Vec<Option<String>>,
    /// A mistake found while building (e.g. a malformed duration), reported at start.
    pub error: Option<StreamError>,
    /// The operators, in the order they were built: with the sources' row types, the query's
    /// shape, which every process of a cluster must agree on.
    pub operators: Vec<String>,
    /// The rows come from bounded inputs only (`read`): a batch query (Spark's `!isStreaming`).
    pub bounded: bool,
    /// The stateful operators, in the order of their state's operator numbers (ids are given
    /// when the query is described for its checkpoint).
    pub stateful: Vec<crate::checkpoint::OperatorDescription>,
}

impl Meta {
    /// Both inputs' knowledge, for an operator with two inputs (a union).
    fn merge(mut self, other: Meta) -> Meta {
        if self.bounded != other.bounded {
            self.error.get_or_insert(StreamError::Analysis(
                "Union between streaming and batch Datasets is not supported: both inputs of a \
                 union read with read_stream(..), or both with read(..)"
                    .into(),
            ));
        }
        self.shape.aggregations.extend(other.shape.aggregations);
        self.shape.limited |= other.shape.limited;
        self.shape.group_states.extend(other.shape.group_states);
        self.shape.sorted |= other.shape.sorted;
        self.sources.extend(other.sources);
        self.watermarks.extend(other.watermarks);
        self.event_time.extend(other.event_time);
        self.stateful.extend(other.stateful);
        self.error = self.error.or(other.error);
        let (a, b) = (self.operators.join(", "), other.operators.join(", "));
        self.operators = vec![format!("union of [{a}] and [{b}]")];
        self
    }

    /// Whether an event-time column, by name (`None`: given only as a closure), carries a
    /// watermark of the current rows. A closure without a name is taken to be the watermarked
    /// column, and an unnamed watermark to be on any named column: the builder cannot see
    /// through closures, so it trusts them (`stream!` always names its columns).
    pub(crate) fn has_watermark_on(&self, column: Option<&str>) -> bool {
        match column {
            None => !self.event_time.is_empty(),
            Some(c) => self
                .event_time
                .iter()
                .any(|w| w.as_deref().is_none_or(|w| w == c)),
        }
    }
}

/// Sorts (and cuts, for `limit`) a batch's output rows.
pub(crate) type SortFn<T> = Arc<dyn Fn(&mut Vec<T>) + Send + Sync>;

impl<T: 'static> Clone for Dataset<T> {
    fn clone(&self) -> Self {
        Dataset {
            lower: self.lower.clone(),
            meta: self.meta.clone(),
            sort: self.sort.clone(),
        }
    }
}

/// A streaming dataset read from `source`: Spark's `readStream...load()`.
pub fn read_stream<T: Record>(source: impl IntoSource<T>) -> Dataset<T> {
    source_dataset(source.into_source(), false)
}

/// A dataset read from `source`, bounded (a batch input, [`read`]) or not.
fn source_dataset<T: Record>(
    source: Arc<dyn crate::source::Source<T>>,
    bounded: bool,
) -> Dataset<T> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT_KEY: AtomicUsize = AtomicUsize::new(0);
    let key = NEXT_KEY.fetch_add(1, Ordering::Relaxed);
    let entry = SourceEntry {
        key,
        source: Arc::new(source.clone()),
    };
    let kind = if bounded { "bounded source" } else { "source" };
    Dataset {
        lower: lower_fn(move |scope, ctx| {
            let (input, rows) = dataflow::RowInput::new(scope);
            // The bounded side of a join in a streaming query: read whole, once per run.
            if ctx.static_side {
                ctx.feeders.push(Box::new(batch::StaticSourceFeed::new(
                    source.clone(),
                    input,
                )));
                return rows;
            }
            let index = ctx.source(key);
            ctx.feeders.push(Box::new(SourceFeed {
                index,
                source: source.clone(),
                input,
            }));
            rows
        }),
        meta: Meta {
            sources: vec![entry],
            operators: vec![format!("{kind} of {}", std::any::type_name::<T>())],
            bounded,
            ..Meta::default()
        },
        sort: None,
    }
}

impl<T: Record> Dataset<T> {
    /// The dataset after the operator `op` (its name in the query's shape) applies `step`.
    fn then<U: Record>(
        self,
        op: &str,
        step: impl for<'a> Fn(Coll<'a, T>) -> Coll<'a, U> + Send + Sync + 'static,
    ) -> Dataset<U> {
        self.then_ctx(op, move |rows, _| step(rows))
    }

    /// [`then`](Dataset::then), with the lowering context at hand.
    pub(crate) fn then_ctx<U: Record>(
        self,
        op: &str,
        step: impl for<'a> Fn(Coll<'a, T>, &mut LowerCtx) -> Coll<'a, U> + Send + Sync + 'static,
    ) -> Dataset<U> {
        let this = self.ensure_unsorted(op);
        let prev = this.lower;
        let mut meta = this.meta;
        meta.operators.push(op.to_string());
        Dataset {
            lower: lower_fn(move |scope, ctx| {
                let rows = prev(scope, ctx);
                step(rows, ctx)
            }),
            meta,
            sort: None,
        }
    }

    /// `order_by` and `limit` apply to the result's rows as they are written: an operator after
    /// them is refused (it would silently drop the order, or the limit).
    pub(crate) fn ensure_unsorted(self, op: &str) -> Dataset<T> {
        if self.sort.is_none() {
            return self;
        }
        self.fail(StreamError::Analysis(format!(
            "{op} comes after order_by or limit, which apply to the rows written: call order_by \
             and limit last, right before write_stream, write, collect or show"
        )))
    }

    /// Declares `time` the event-time column with a watermark `delay` behind the latest event
    /// time seen (Spark's `withWatermark`): stateful operators below whose key carries this
    /// column (a window of it, or the column itself) drop rows older than the watermark and
    /// release state the watermark has passed. The column has no name here: the rules take
    /// every event-time column given as a closure to be this one (see
    /// [`with_watermark_on`](Dataset::with_watermark_on)).
    pub fn with_watermark(
        self,
        time: impl Fn(&T) -> Timestamp + Send + Sync + 'static,
        delay: &str,
    ) -> Dataset<T> {
        self.watermark(None, time, delay)
    }

    /// [`with_watermark`](Dataset::with_watermark) on the column named `column` (Spark's
    /// `withWatermark("ts", delay)`; `time` reads it). Windows and groupings name the column
    /// their event time comes from, so that only those on this column are closed by the
    /// watermark, as in Spark.
    pub fn with_watermark_on(
        self,
        column: &str,
        time: impl Fn(&T) -> Timestamp + Send + Sync + 'static,
        delay: &str,
    ) -> Dataset<T> {
        self.watermark(Some(column.to_string()), time, delay)
    }

    fn watermark(
        self,
        column: Option<String>,
        time: impl Fn(&T) -> Timestamp + Send + Sync + 'static,
        delay: &str,
    ) -> Dataset<T> {
        if self.meta.bounded {
            // Accepted and ignored on bounded inputs, as in Spark's batch queries (a batch
            // query reads all its input at once: no row is late, every group is final).
            let mut out = self;
            out.meta
                .operators
                .push("watermark (ignored: bounded input)".into());
            return out;
        }
        let delay_ms = match stream_core::parse_duration(delay) {
            Ok(ms) if ms >= 0 => ms,
            Ok(_) => {
                return self.fail(StreamError::Config(format!(
                    "watermark delay `{delay}` is negative"
                )))
            }
            Err(e) => return self.fail(e.into()),
        };
        if !self.meta.event_time.is_empty() {
            let on =
                |c: &Option<String>| c.as_deref().map_or("a column".into(), |c| format!("`{c}`"));
            let first = self
                .meta
                .event_time
                .iter()
                .map(on)
                .collect::<Vec<_>>()
                .join(", ");
            let second = on(&column);
            return self.fail(StreamError::Analysis(format!(
                "Redefining watermark is disallowed: these rows already have a watermark on \
                 {first}, and with_watermark defines another on {second}; keep one with_watermark \
                 per input, before its stateful operators"
            )));
        }
        let time = Arc::new(time);
        let mut out = self.then_ctx("watermark", move |rows, ctx| {
            let op = ctx.watermark_op();
            let time = time.clone();
            dataflow::observe_event_time(rows, move |r| time(r), ctx.metrics.clone(), op)
        });
        out.meta.watermarks.push(WatermarkDef {
            delay_ms,
            idle_timeout_ms: None,
        });
        out.meta.event_time.push(column);
        out
    }

    /// Lets the input of the last `with_watermark` stop holding the query's watermark back after
    /// `timeout` of processing time without data (beyond Spark, whose `min` policy stalls while
    /// any input is silent; like Flink's `withIdleness`). Once the input has data again it
    /// counts again; its rows older than the watermark that moved meanwhile are late.
    pub fn with_idle_timeout(mut self, timeout: &str) -> Dataset<T> {
        if self.meta.bounded {
            return self;
        }
        let ms = match stream_core::parse_duration(timeout) {
            Ok(ms) if ms > 0 => ms,
            Ok(_) => {
                return self.fail(StreamError::Config(format!(
                    "an idle timeout must be positive, not `{timeout}`"
                )))
            }
            Err(e) => return self.fail(e.into()),
        };
        match self.meta.watermarks.last_mut() {
            Some(w) => w.idle_timeout_ms = Some(ms),
            None => {
                return self.fail(StreamError::Analysis(
                    "with_idle_timeout applies to a watermark: call it right after \
                     with_watermark(col, delay)"
                        .into(),
                ))
            }
        }
        self
    }

    pub(crate) fn fail(mut self, e: StreamError) -> Dataset<T> {
        self.meta.error.get_or_insert(e);
        self
    }

    /// Keeps the rows for which `f` is true (Spark's `filter` / `where`).
    pub fn filter(self, f: impl Fn(&T) -> bool + Send + Sync + 'static) -> Dataset<T> {
        let f = Arc::new(f);
        self.then("filter", move |rows| {
            let f = f.clone();
            rows.filter(move |r| f(r))
        })
    }

    /// Transforms every row (Spark's typed `map`; `select` and `with_column` in `stream!`).
    pub fn map<U: Record>(self, f: impl Fn(T) -> U + Send + Sync + 'static) -> Dataset<U> {
        let f = Arc::new(f);
        self.then("map", move |rows| {
            let f = f.clone();
            rows.map(move |r| f(r))
        })
    }

    /// Transforms every row into zero or more rows (Spark's `flatMap`).
    pub fn flat_map<U: Record, I: IntoIterator<Item = U> + 'static>(
        self,
        f: impl Fn(T) -> I + Send + Sync + 'static,
    ) -> Dataset<U> {
        let f = Arc::new(f);
        self.then("flat_map", move |rows| {
            let f = f.clone();
            rows.flat_map(move |r| f(r))
        })
    }

    /// The rows of both datasets (Spark's `union`: a bag union, duplicates kept).
    pub fn union(self, other: Dataset<T>) -> Dataset<T> {
        let (this, other) = (
            self.ensure_unsorted("union"),
            other.ensure_unsorted("union"),
        );
        let (a, b) = (this.lower, other.lower);
        Dataset {
            lower: lower_fn(move |scope, ctx| {
                let left = a(scope, ctx);
                left.concat(b(scope, ctx))
            }),
            meta: this.meta.merge(other.meta),
            sort: None,
        }
    }

    /// Sorts the output rows by `key` (Spark's `orderBy`): on a stream only after an
    /// aggregation in complete mode, where each batch's whole result table is sorted; on a
    /// bounded input ([`read`]) any result. Wrap the key in `std::cmp::Reverse` to sort
    /// descending. Call it last (only [`limit`](Dataset::limit) may follow).
    pub fn order_by<S: Ord + Send + Sync + 'static>(
        mut self,
        key: impl Fn(&T) -> S + Send + Sync + 'static,
    ) -> Dataset<T> {
        if self.sort.is_some() {
            return self.fail(StreamError::Analysis(
                "order_by comes after order_by or limit: sort once, with every key, before limit"
                    .into(),
            ));
        }
        self.meta.shape.sorted = true;
        self.meta.operators.push("order_by".into());
        let key = Arc::new(key);
        self.sort = Some(Arc::new(move |rows: &mut Vec<T>| {
            rows.sort_by_key(|r| key(r))
        }));
        self
    }

    /// Keeps the first `n` rows of the result (Spark's `limit`), after
    /// [`order_by`](Dataset::order_by) if the rows are sorted (otherwise which rows is not
    /// defined). On a bounded input ([`read`]) any result; on a stream only in complete mode,
    /// where each batch's result table is cut (Spark also supports append mode). Call it last.
    pub fn limit(mut self, n: usize) -> Dataset<T> {
        self.meta.shape.limited = true;
        self.meta.operators.push(format!("limit {n}"));
        let sort = self.sort.take();
        self.sort = Some(Arc::new(move |rows: &mut Vec<T>| {
            if let Some(sort) = &sort {
                sort(rows);
            }
            rows.truncate(n);
        }));
        self
    }

    /// Starts describing where and how the results are written (Spark's `writeStream`).
    pub fn write_stream<S: Sink<T>>(self, sink: S) -> DataStreamWriter<T> {
        DataStreamWriter::new(self, Box::new(sink))
    }

    /// The shape of the query as the rules see it.
    pub fn plan_shape(&self) -> &PlanShape {
        &self.meta.shape
    }
}
