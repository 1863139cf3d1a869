//! The builder: `Dataset<T>`, a typed description of a streaming query in Spark's vocabulary.
//! `stream!` expands into these calls; applications may also call them directly.
//!
//! This layer describes a query and knows nothing of sessions or drivers: a dataset is a
//! [`LowerFn`](lower::LowerFn) that builds its dataflow on a worker, the query shape the rules
//! check, and its sources; [`DataStreamWriter`] adds the sink and the query's options.

mod aggregate;
mod join;
pub(crate) mod lower;
mod writer;

pub use aggregate::{
    window_time, Agg, GroupedDataset, Key, KeyCount, SessionDataset, SessionGap, WindowedDataset,
};
pub use join::{read_static, StaticTable};
pub use writer::DataStreamWriter;
pub(crate) use writer::QueryDef;

use crate::dataflow::{self, Coll};
use crate::error::StreamError;
use crate::sink::Sink;
use crate::source::IntoSource;
use lower::{lower_fn, LowerCtx, LowerFn, SourceEntry, SourceFeed};
use std::sync::Arc;
use stream_core::{PlanShape, Record, Timestamp};

/// A stream of rows of type `T`, and how to compute it: Spark's `Dataset[T]`.
pub struct Dataset<T: 'static> {
    pub(crate) lower: LowerFn<T>,
    pub(crate) shape: PlanShape,
    pub(crate) sources: Vec<SourceEntry>,
    /// Delays of the `with_watermark` operators, in lowering order.
    pub(crate) watermarks: Vec<i64>,
    /// A mistake found while building (e.g. a malformed duration), reported at start.
    pub(crate) error: Option<StreamError>,
    /// How the output rows are sorted (`order_by`), applied to each batch's rows.
    pub(crate) sort: Option<SortFn<T>>,
}

/// Sorts a batch's output rows.
pub(crate) type SortFn<T> = Arc<dyn Fn(&mut Vec<T>) + Send + Sync>;

impl<T: 'static> Clone for Dataset<T> {
    fn clone(&self) -> Self {
        Dataset {
            lower: self.lower.clone(),
            shape: self.shape.clone(),
            sources: self.sources.clone(),
            watermarks: self.watermarks.clone(),
            error: self.error.clone(),
            sort: self.sort.clone(),
        }
    }
}

/// A streaming dataset read from `source`: Spark's `readStream...load()`.
pub fn read_stream<T: Record>(source: impl IntoSource<T>) -> Dataset<T> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT_ID: AtomicUsize = AtomicUsize::new(0);
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    let source = source.into_source();
    let entry = SourceEntry {
        id,
        source: Arc::new(source.clone()),
    };
    Dataset {
        lower: lower_fn(move |scope, ctx| {
            let (input, rows) = dataflow::RowInput::new(scope);
            ctx.feeders.push(Box::new(SourceFeed {
                id,
                source: source.clone(),
                input,
            }));
            rows
        }),
        shape: PlanShape::default(),
        sources: vec![entry],
        watermarks: Vec::new(),
        error: None,
        sort: None,
    }
}

impl<T: Record> Dataset<T> {
    fn then<U: Record>(
        self,
        step: impl for<'a> Fn(Coll<'a, T>) -> Coll<'a, U> + Send + Sync + 'static,
    ) -> Dataset<U> {
        self.then_ctx(move |rows, _| step(rows))
    }

    pub(crate) fn then_ctx<U: Record>(
        self,
        step: impl for<'a> Fn(Coll<'a, T>, &mut LowerCtx) -> Coll<'a, U> + Send + Sync + 'static,
    ) -> Dataset<U> {
        let prev = self.lower;
        Dataset {
            lower: lower_fn(move |scope, ctx| {
                let rows = prev(scope, ctx);
                step(rows, ctx)
            }),
            shape: self.shape,
            sources: self.sources,
            watermarks: self.watermarks,
            error: self.error,
            sort: None,
        }
    }

    /// Declares `time` the event-time column with a watermark `delay` behind the latest event
    /// time seen (Spark's `withWatermark`): stateful operators below drop rows older than the
    /// watermark and release state the watermark has passed.
    pub fn with_watermark(
        self,
        time: impl Fn(&T) -> Timestamp + Send + Sync + 'static,
        delay: &str,
    ) -> Dataset<T> {
        let delay_ms = match stream_core::parse_duration(delay) {
            Ok(ms) if ms >= 0 => ms,
            Ok(_) => {
                return self.fail(StreamError::Config(format!(
                    "watermark delay `{delay}` is negative"
                )))
            }
            Err(e) => return self.fail(e.into()),
        };
        let time = Arc::new(time);
        let mut out = self.then_ctx(move |rows, ctx| {
            let op = ctx.watermark_op();
            let time = time.clone();
            dataflow::observe_event_time(rows, move |r| time(r), ctx.metrics.clone(), op)
        });
        out.watermarks.push(delay_ms);
        out
    }

    pub(crate) fn fail(mut self, e: StreamError) -> Dataset<T> {
        self.error.get_or_insert(e);
        self
    }

    /// Keeps the rows for which `f` is true (Spark's `filter` / `where`).
    pub fn filter(self, f: impl Fn(&T) -> bool + Send + Sync + 'static) -> Dataset<T> {
        let f = Arc::new(f);
        self.then(move |rows| {
            let f = f.clone();
            rows.filter(move |r| f(r))
        })
    }

    /// Transforms every row (Spark's typed `map`; `select` and `with_column` in `stream!`).
    pub fn map<U: Record>(self, f: impl Fn(T) -> U + Send + Sync + 'static) -> Dataset<U> {
        let f = Arc::new(f);
        self.then(move |rows| {
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
        self.then(move |rows| {
            let f = f.clone();
            rows.flat_map(move |r| f(r))
        })
    }

    /// The rows of both datasets (Spark's `union`: a bag union, duplicates kept).
    pub fn union(self, other: Dataset<T>) -> Dataset<T> {
        let (a, b) = (self.lower, other.lower);
        let mut shape = self.shape;
        shape.aggregations.extend(other.shape.aggregations);
        shape.sorted |= other.shape.sorted;
        let mut sources = self.sources;
        sources.extend(other.sources);
        let mut watermarks = self.watermarks;
        watermarks.extend(other.watermarks);
        Dataset {
            lower: lower_fn(move |scope, ctx| {
                let left = a(scope, ctx);
                left.concat(b(scope, ctx))
            }),
            shape,
            sources,
            watermarks,
            error: self.error.or(other.error),
            sort: None,
        }
    }

    /// Sorts the output rows by `key` (Spark's `orderBy`): only after an aggregation in complete
    /// mode, where each batch's whole result table is sorted. Wrap the key in
    /// `std::cmp::Reverse` to sort descending.
    pub fn order_by<S: Ord + Send + Sync + 'static>(
        mut self,
        key: impl Fn(&T) -> S + Send + Sync + 'static,
    ) -> Dataset<T> {
        self.shape.sorted = true;
        let key = Arc::new(key);
        self.sort = Some(Arc::new(move |rows: &mut Vec<T>| {
            rows.sort_by_key(|r| key(r))
        }));
        self
    }

    /// Starts describing where and how the results are written (Spark's `writeStream`).
    pub fn write_stream<S: Sink<T>>(self, sink: S) -> DataStreamWriter<T> {
        DataStreamWriter::new(self, Box::new(sink))
    }

    /// The shape of the query as the rules see it.
    pub fn plan_shape(&self) -> &PlanShape {
        &self.shape
    }
}
