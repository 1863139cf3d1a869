//! `Dataset<T>`: the typed builder of a streaming query, in Spark's vocabulary. `stream!`
//! expands into these calls; applications may also call them directly.

use crate::dataflow::{self, Coll, Scope};
use crate::error::Result;
use crate::error::StreamError;
use crate::metrics::Metrics;
use crate::query::DataStreamWriter;
use crate::sink::Sink;
use crate::source::{IntoSource, Partition, ReadStats, Source, Split};
use crate::time::Time;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::fmt::Debug;
use std::hash::Hash;
use std::marker::PhantomData;
use std::sync::Arc;
use stream_core::agg::{Avg, Count, Extreme, Sum};
use stream_core::rules::AggShape;
use stream_core::{
    Aggregates, Field, Numeric, OutputMode, PlanShape, Record, Timestamp, Window, WindowSpec,
};

/// What a grouping key must be: any value that can be ordered, hashed and exchanged (every
/// `Record` is one, and so are integers, strings and tuples of them).
pub trait Key:
    Clone + Debug + Ord + Hash + Serialize + DeserializeOwned + Send + Sync + 'static
{
}
impl<K: Clone + Debug + Ord + Hash + Serialize + DeserializeOwned + Send + Sync + 'static> Key
    for K
{
}

/// Builds a dataset's dataflow on one worker.
pub(crate) type LowerFn<T> =
    Arc<dyn for<'a> Fn(Scope<'a>, &mut LowerCtx) -> Coll<'a, T> + Send + Sync>;

pub(crate) fn lower_fn<T, F>(f: F) -> LowerFn<T>
where
    F: for<'a> Fn(Scope<'a>, &mut LowerCtx) -> Coll<'a, T> + Send + Sync + 'static,
{
    Arc::new(f)
}

/// What lowering collects on a worker: the inputs that the micro-batch loop feeds, and the
/// operators' metrics.
pub(crate) struct LowerCtx {
    pub feeders: Vec<Box<dyn Feed>>,
    pub mode: OutputMode,
    pub metrics: Metrics,
}

impl LowerCtx {
    pub fn new(mode: OutputMode) -> LowerCtx {
        LowerCtx {
            feeders: Vec::new(),
            mode,
            metrics: Metrics::default(),
        }
    }
    /// Registers a watermark operator; returns its metrics index.
    fn watermark_op(&mut self) -> usize {
        let mut m = self.metrics.borrow_mut();
        m.event_time.push(Default::default());
        m.event_time.len() - 1
    }
    /// Registers a stateful operator; returns its metrics index.
    pub(crate) fn state_op(&mut self) -> usize {
        let mut m = self.metrics.borrow_mut();
        m.state.push(Default::default());
        m.state.len() - 1
    }
}

/// An input on one worker that the micro-batch loop feeds.
pub(crate) trait Feed {
    /// Reads this worker's share of the batch into the input, at the input's current time;
    /// returns what it read from its source, if the batch has a split of it.
    fn feed(
        &mut self,
        splits: &[(usize, Split)],
        part: Partition,
    ) -> Result<Option<(usize, ReadStats)>>;
    /// Moves the input's time forward.
    fn advance_to(&mut self, time: Time);
}

struct SourceFeed<T: Record> {
    id: usize,
    source: Arc<dyn Source<T>>,
    input: dataflow::RowInput<T>,
}

impl<T: Record> Feed for SourceFeed<T> {
    fn feed(
        &mut self,
        splits: &[(usize, Split)],
        part: Partition,
    ) -> Result<Option<(usize, ReadStats)>> {
        let Some((_, split)) = splits.iter().find(|(id, _)| *id == self.id) else {
            return Ok(None);
        };
        let input = &mut self.input;
        let stats = self
            .source
            .read(split, part, &mut |row| input.insert(row))?;
        Ok(Some((self.id, stats)))
    }
    fn advance_to(&mut self, time: Time) {
        self.input.advance_to(time);
    }
}

/// The driver's view of a source: planning batches, without the row type.
pub(crate) trait PlanSource: Send + Sync {
    fn description(&self) -> String;
    fn plan(
        &self,
        start: Option<&crate::source::Offset>,
        limit: &crate::source::ReadLimit,
    ) -> Result<Option<Split>>;
}

impl<T: 'static> PlanSource for Arc<dyn Source<T>> {
    fn description(&self) -> String {
        Source::description(&**self)
    }
    fn plan(
        &self,
        start: Option<&crate::source::Offset>,
        limit: &crate::source::ReadLimit,
    ) -> Result<Option<Split>> {
        Source::plan(&**self, start, limit)
    }
}

/// A source of a query, with the id its inputs carry.
#[derive(Clone)]
pub(crate) struct SourceEntry {
    pub id: usize,
    pub source: Arc<dyn PlanSource>,
}

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

    /// Groups rows by columns (a key record), for `agg` (Spark's `groupBy`).
    pub fn group_by<K: Record>(
        self,
        key: impl Fn(&T) -> K + Send + Sync + 'static,
    ) -> GroupedDataset<T, K> {
        self.group_by_key(key)
    }

    /// Groups rows by a computed key (Spark's typed `groupByKey`).
    pub fn group_by_key<K: Key>(
        self,
        key: impl Fn(&T) -> K + Send + Sync + 'static,
    ) -> GroupedDataset<T, K> {
        GroupedDataset {
            data: self,
            key: Arc::new(key),
        }
    }

    /// Groups rows by event-time window and key, for `agg` (Spark's
    /// `groupBy(window(time, size[, slide]), key...)`). With a watermark on `time`, a window's
    /// state is released once the watermark passes its end, and append mode emits its final
    /// row then.
    pub fn group_by_window<K: Key>(
        self,
        window: WindowSpec,
        time: impl Fn(&T) -> Timestamp + Send + Sync + 'static,
        key: impl Fn(&T) -> K + Send + Sync + 'static,
    ) -> WindowedDataset<T, K> {
        WindowedDataset {
            data: self,
            grouping: Grouping::Fixed(window),
            time: Arc::new(time),
            key: Arc::new(key),
        }
    }

    /// Groups rows by session window and key, for `agg` (Spark's
    /// `groupBy(session_window(time, gap), key...)`): per key, rows closer than the gap in
    /// event time form one session `[first, last + gap)`. With a watermark, a session is emitted
    /// (append mode) and released once the watermark passes its end.
    pub fn group_by_session<K: Key>(
        self,
        gap: SessionGap<T>,
        time: impl Fn(&T) -> Timestamp + Send + Sync + 'static,
        key: impl Fn(&T) -> K + Send + Sync + 'static,
    ) -> SessionDataset<T, K> {
        WindowedDataset {
            data: self,
            grouping: Grouping::Session(gap),
            time: Arc::new(time),
            key: Arc::new(key),
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

type KeyFn<T, K> = Arc<dyn Fn(&T) -> K + Send + Sync>;

/// Rows grouped by a key, waiting for aggregates (Spark's `RelationalGroupedDataset` /
/// `KeyValueGroupedDataset`).
pub struct GroupedDataset<T: 'static, K> {
    data: Dataset<T>,
    key: KeyFn<T, K>,
}

/// Typed constructors of aggregate functions over rows of type `T`, handed to
/// [`GroupedDataset::agg`] so that column closures know their row type.
pub struct Agg<T>(PhantomData<fn(&T)>);

impl<T> Agg<T> {
    /// `count()`: the number of rows.
    pub fn count(&self) -> Count {
        stream_core::count()
    }
    /// `sum(col)`: the sum of a numeric column.
    pub fn sum<V: Numeric, F: Fn(&T) -> V + Clone + Send + Sync + 'static>(
        &self,
        col: F,
    ) -> Sum<F, V> {
        stream_core::sum(col)
    }
    /// `avg(col)`: the mean of a numeric column, as `f64`.
    pub fn avg<V: Numeric, F: Fn(&T) -> V + Clone + Send + Sync + 'static>(
        &self,
        col: F,
    ) -> Avg<F, V> {
        stream_core::avg(col)
    }
    /// `min(col)`: the least value.
    pub fn min<V: Field, F: Fn(&T) -> V + Clone + Send + Sync + 'static>(
        &self,
        col: F,
    ) -> Extreme<F, V, false> {
        stream_core::min(col)
    }
    /// `max(col)`: the greatest value.
    pub fn max<V: Field, F: Fn(&T) -> V + Clone + Send + Sync + 'static>(
        &self,
        col: F,
    ) -> Extreme<F, V, true> {
        stream_core::max(col)
    }
}

/// The result of `group_by_key(..).count()`: a key and its number of rows.
#[derive(crate::Record)]
pub struct KeyCount<K> {
    /// The key.
    pub key: K,
    /// The number of rows with that key.
    pub count: i64,
}

impl<T: Record, K: Key> GroupedDataset<T, K> {
    /// Computes aggregates per key. `aggs` builds the aggregate functions from a typed
    /// [`Agg`]; `finish` makes the output row from the key and the aggregates' values.
    ///
    /// ```
    /// # use stream_runtime::prelude::*;
    /// #[derive(Record)]
    /// struct Bid { auction: u64, price: u64 }
    /// #[derive(Record)]
    /// struct Stats { auction: u64, bids: i64, top: u64 }
    ///
    /// let stats = read_stream::<Bid>(MemoryStream::new())
    ///     .group_by_key(|b| b.auction)
    ///     .agg(|a| (a.count(), a.max(|b: &Bid| b.price)), |auction, (bids, top)| Stats { auction, bids, top });
    /// ```
    pub fn agg<A, O>(
        self,
        aggs: impl FnOnce(Agg<T>) -> A,
        finish: impl Fn(K, A::Out) -> O + Send + Sync + 'static,
    ) -> Dataset<O>
    where
        A: Aggregates<T>,
        O: Record,
    {
        let aggs = aggs(Agg(PhantomData));
        let key = self.key;
        let finish = Arc::new(finish);
        let mut data = self.data;
        let stage = data.shape.aggregations.len() as u64;
        data.shape.aggregations.push(AggShape::default());
        data.then_ctx(move |rows, ctx| {
            let rows = chained_input(rows, stage, ctx.mode);
            let (key, init, aggs, finish) =
                (key.clone(), aggs.clone(), aggs.clone(), finish.clone());
            let op = ctx.state_op();
            let assign = move |row: &T, emit: &mut dyn FnMut(K, A::Acc, Option<u64>)| {
                emit(key(row), init.init(row), None)
            };
            dataflow::keyed_aggregate(rows, assign, false, stage, ctx.metrics.clone(), op)
                .map(move |(k, acc)| finish(k, aggs.finish(&acc)))
        })
    }
}

impl<T: Record, K: Key + Field> GroupedDataset<T, K> {
    /// The number of rows per key (Spark's `groupByKey(..).count()`).
    pub fn count(self) -> Dataset<KeyCount<K>> {
        self.agg(|a| (a.count(),), |key, (count,)| KeyCount { key, count })
    }
}

type TimeFn<T> = Arc<dyn Fn(&T) -> Timestamp + Send + Sync>;

/// The input of the aggregation at depth `stage` of a chain: in append mode, an aggregation
/// after another reads only the closed windows' final rows of the one before (Spark's chained
/// time-window aggregation, e.g. over `window_time(window)`).
fn chained_input<T: Record>(rows: Coll<'_, T>, stage: u64, mode: OutputMode) -> Coll<'_, T> {
    if stage > 0 && mode == OutputMode::Append {
        dataflow::finalized(rows, stage - 1)
    } else {
        rows
    }
}

/// `window_time(window)`: the event time of a window's result row, the last instant inside the
/// window (Spark: `window.end - 1 µs`; here `window.end - 1 ms`), for a chained window
/// aggregation.
pub fn window_time(window: Window) -> Timestamp {
    Timestamp(window.end.millis() - 1)
}

/// How rows are grouped in event time.
enum Grouping<T> {
    /// Tumbling or sliding windows.
    Fixed(WindowSpec),
    /// Session windows.
    Session(SessionGap<T>),
}

/// Rows grouped by event-time window (fixed or session) and key, waiting for aggregates.
pub struct WindowedDataset<T: 'static, K> {
    data: Dataset<T>,
    grouping: Grouping<T>,
    time: TimeFn<T>,
    key: KeyFn<T, K>,
}

/// Rows grouped by session window and key (the same type as for fixed windows).
pub type SessionDataset<T, K> = WindowedDataset<T, K>;

impl<T: Record, K: Key> WindowedDataset<T, K> {
    /// Computes aggregates per window and key; `finish` makes the output row from the window,
    /// the key and the aggregates' values. Complete mode keeps every window and never drops
    /// late rows; the other modes release a window's state once the watermark passes its end.
    pub fn agg<A, O>(
        self,
        aggs: impl FnOnce(Agg<T>) -> A,
        finish: impl Fn(Window, K, A::Out) -> O + Send + Sync + 'static,
    ) -> Dataset<O>
    where
        A: Aggregates<T>,
        O: Record,
    {
        let aggs = aggs(Agg(PhantomData));
        let (key, time) = (self.key, self.time);
        let grouping = Arc::new(self.grouping);
        let finish = Arc::new(finish);
        let mut data = self.data;
        let stage = data.shape.aggregations.len() as u64;
        data.shape.aggregations.push(AggShape {
            watermarked_event_time_key: !data.watermarks.is_empty(),
            session_window: matches!(*grouping, Grouping::Session(_)),
        });
        data.then_ctx(move |rows, ctx| {
            let rows = chained_input(rows, stage, ctx.mode);
            let (key, time, init) = (key.clone(), time.clone(), aggs.clone());
            let (aggs, finish) = (aggs.clone(), finish.clone());
            let op = ctx.state_op();
            let evict = ctx.mode != OutputMode::Complete;
            let metrics = ctx.metrics.clone();
            let windows = match &*grouping {
                Grouping::Fixed(spec) => {
                    let spec = *spec;
                    let assign =
                        move |row: &T, emit: &mut dyn FnMut((Window, K), A::Acc, Option<u64>)| {
                            let (k, acc) = (key(row), init.init(row));
                            for w in spec.windows_of(time(row)) {
                                emit(
                                    (w, k.clone()),
                                    acc.clone(),
                                    Some(w.end.millis().max(0) as u64),
                                );
                            }
                        };
                    dataflow::keyed_aggregate(rows, assign, evict, stage, metrics, op)
                }
                Grouping::Session(gap) => {
                    let gap = gap.clone();
                    let assign =
                        move |row: &T| (key(row), time(row).millis(), (gap.0)(row), init.init(row));
                    dataflow::session_aggregate(rows, assign, evict, stage, metrics, op)
                        .map(|((k, w), acc)| ((w, k), acc))
                }
            };
            windows.map(move |((w, k), acc)| finish(w, k, aggs.finish(&acc)))
        })
    }
}

/// The gap of session windows: fixed, or computed per row (Spark's dynamic gap).
pub struct SessionGap<T>(Arc<dyn Fn(&T) -> i64 + Send + Sync>);

impl<T> Clone for SessionGap<T> {
    fn clone(&self) -> Self {
        SessionGap(self.0.clone())
    }
}

impl<T> SessionGap<T> {
    /// The same gap for every row, e.g. `"5 seconds"`.
    pub fn fixed(gap: &str) -> std::result::Result<Self, stream_core::DurationError> {
        let ms = stream_core::parse_duration(gap)?;
        if ms <= 0 {
            return Err(stream_core::DurationError {
                input: gap.into(),
                reason: "a session gap must be positive".into(),
            });
        }
        Ok(SessionGap(Arc::new(move |_| ms)))
    }

    /// A gap in milliseconds computed from each row; rows with a gap of zero or less are
    /// dropped, as in Spark.
    pub fn per_row(gap: impl Fn(&T) -> i64 + Send + Sync + 'static) -> Self {
        SessionGap(Arc::new(gap))
    }
}
