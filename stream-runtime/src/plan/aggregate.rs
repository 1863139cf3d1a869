//! Aggregations: grouping a dataset by columns, a computed key, event-time windows or session
//! windows, and the aggregates computed per group (Spark's `groupBy(..).agg(..)`).

use super::describe::{schema_text, short_type_name};
use super::lower::LowerCtx;
use super::Dataset;
use crate::checkpoint::OperatorDescription;
use crate::dataflow::{self, Coll};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::fmt::Debug;
use std::hash::Hash;
use std::marker::PhantomData;
use std::sync::Arc;
use stream_core::agg::{Avg, Count, CountNonNull, Extreme, Sum};
use stream_core::rules::AggShape;
use stream_core::{Aggregates, Field, Numeric, OutputMode, Record, Timestamp, Window, WindowSpec};

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

impl<T: Record> Dataset<T> {
    /// Groups rows by columns (a key record), for `agg` (Spark's `groupBy`).
    pub fn group_by<K: Record>(
        self,
        key: impl Fn(&T) -> K + Send + Sync + 'static,
    ) -> GroupedDataset<T, K> {
        self.group_by_key(key).__record_key()
    }

    /// Groups rows by a computed key (Spark's typed `groupByKey`).
    pub fn group_by_key<K: Key>(
        self,
        key: impl Fn(&T) -> K + Send + Sync + 'static,
    ) -> GroupedDataset<T, K> {
        GroupedDataset {
            data: self,
            key: Arc::new(key),
            event_time: None,
            late: None,
            key_schema: short_type_name::<K>(),
        }
    }

    /// Groups rows by a key that contains the event-time column `column` itself (Spark's
    /// `groupBy("ts", ..)` on the watermarked column): if `column` carries a watermark, a group
    /// is final once the watermark reaches its event time `time(row)`, so Append mode emits it
    /// then and its state is released, and rows at or below the watermark are late. `key` must
    /// include that time. Without a watermark on `column`, this is [`group_by_key`].
    ///
    /// [`group_by_key`]: Dataset::group_by_key
    pub fn group_by_event_time<K: Key>(
        self,
        column: &str,
        time: impl Fn(&T) -> Timestamp + Send + Sync + 'static,
        key: impl Fn(&T) -> K + Send + Sync + 'static,
    ) -> GroupedDataset<T, K> {
        GroupedDataset {
            data: self,
            key: Arc::new(key),
            event_time: Some((column.to_string(), Arc::new(time))),
            late: None,
            key_schema: short_type_name::<K>(),
        }
    }

    /// Groups rows by event-time window and key, for `agg` (Spark's
    /// `groupBy(window(time, size[, slide]), key...)`). With a watermark on `time`, a window's
    /// state is released once the watermark passes its end, and append mode emits its final
    /// row then. `time` has no name: it is taken to be the watermarked column (see
    /// [`group_by_window_on`](Dataset::group_by_window_on)).
    pub fn group_by_window<K: Key>(
        self,
        window: WindowSpec,
        time: impl Fn(&T) -> Timestamp + Send + Sync + 'static,
        key: impl Fn(&T) -> K + Send + Sync + 'static,
    ) -> WindowedDataset<T, K> {
        self.windowed(Grouping::Fixed(window), None, time, key)
    }

    /// [`group_by_window`](Dataset::group_by_window) on the event-time column `column`: the
    /// watermark closes the windows only if it is on that column (Spark's rule), otherwise
    /// they are never closed and Append mode is refused.
    pub fn group_by_window_on<K: Key>(
        self,
        window: WindowSpec,
        column: &str,
        time: impl Fn(&T) -> Timestamp + Send + Sync + 'static,
        key: impl Fn(&T) -> K + Send + Sync + 'static,
    ) -> WindowedDataset<T, K> {
        self.windowed(Grouping::Fixed(window), Some(column), time, key)
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
        self.windowed(Grouping::Session(gap), None, time, key)
    }

    /// [`group_by_session`](Dataset::group_by_session) on the event-time column `column` (see
    /// [`group_by_window_on`](Dataset::group_by_window_on)).
    pub fn group_by_session_on<K: Key>(
        self,
        gap: SessionGap<T>,
        column: &str,
        time: impl Fn(&T) -> Timestamp + Send + Sync + 'static,
        key: impl Fn(&T) -> K + Send + Sync + 'static,
    ) -> SessionDataset<T, K> {
        self.windowed(Grouping::Session(gap), Some(column), time, key)
    }

    fn windowed<K: Key>(
        self,
        grouping: Grouping<T>,
        column: Option<&str>,
        time: impl Fn(&T) -> Timestamp + Send + Sync + 'static,
        key: impl Fn(&T) -> K + Send + Sync + 'static,
    ) -> WindowedDataset<T, K> {
        WindowedDataset {
            data: self,
            grouping,
            column: column.map(str::to_string),
            time: Arc::new(time),
            key: Arc::new(key),
            key_schema: short_type_name::<K>(),
        }
    }
}

pub(super) type KeyFn<T, K> = Arc<dyn Fn(&T) -> K + Send + Sync>;

/// Rows grouped by a key, waiting for aggregates (Spark's `RelationalGroupedDataset` /
/// `KeyValueGroupedDataset`).
pub struct GroupedDataset<T: 'static, K> {
    data: Dataset<T>,
    key: KeyFn<T, K>,
    /// The key holds this event-time column (`group_by_event_time`).
    event_time: Option<(String, TimeFn<T>)>,
    /// The watermarked event-time column of the rows, by which
    /// `[flat_]map_groups_with_state` with `EventTimeTimeout` drops late rows (`late_rows_by`).
    late: Option<TimeFn<T>>,
    /// The key's schema, for the checkpoint's description of the query.
    key_schema: String,
}

/// What `[flat_]map_groups_with_state` takes of a grouping.
pub(super) struct GroupParts<T: 'static, K> {
    pub data: Dataset<T>,
    pub key: KeyFn<T, K>,
    pub key_schema: String,
    pub late: Option<TimeFn<T>>,
}

impl<T, K> GroupedDataset<T, K> {
    pub(super) fn into_parts(self) -> GroupParts<T, K> {
        GroupParts {
            data: self.data,
            key: self.key,
            key_schema: self.key_schema,
            late: self.late,
        }
    }

    /// Names the rows' watermarked event-time column (`time` reads it): with
    /// `EventTimeTimeout`, `[flat_]map_groups_with_state` drops the rows at or below the
    /// previous batch's watermark, as Spark does (`stream!` names it). If `column` carries no
    /// watermark, this does nothing.
    pub fn late_rows_by(
        mut self,
        column: &str,
        time: impl Fn(&T) -> Timestamp + Send + Sync + 'static,
    ) -> Self {
        if self.data.meta.has_watermark_on(Some(column)) {
            self.late = Some(Arc::new(time));
        }
        self
    }
}

impl<T, K: Record> GroupedDataset<T, K> {
    /// Names the key's columns in the checkpoint's description of the query (`stream!` does
    /// this, so that a restart can tell a changed key).
    #[doc(hidden)]
    pub fn __record_key(mut self) -> Self {
        self.key_schema = schema_text(&K::schema());
        self
    }
}

/// Typed constructors of aggregate functions over rows of type `T`, handed to
/// [`GroupedDataset::agg`] so that column closures know their row type.
pub struct Agg<T>(PhantomData<fn(&T)>);

impl<T> Agg<T> {
    /// `count()`: the number of rows.
    pub fn count(&self) -> Count {
        stream_core::count()
    }
    /// `count(col)`: the number of rows where the column is not NULL (`None`).
    pub fn count_non_null<V: Field, F: Fn(&T) -> V + Clone + Send + Sync + 'static>(
        &self,
        col: F,
    ) -> CountNonNull<F, V> {
        stream_core::count_non_null(col)
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
        let parameters = match &self.event_time {
            Some((column, _)) => format!("groups by event time {column}"),
            None => String::new(),
        };
        // A key holding the watermarked column expires when the watermark reaches its time.
        let expiry = self
            .event_time
            .filter(|(column, _)| data.meta.has_watermark_on(Some(column)));
        let stage = data.push_aggregation(
            AggShape {
                watermarked_event_time_key: expiry.is_some(),
                session_window: false,
            },
            OperatorDescription {
                kind: "aggregation".into(),
                key_schema: self.key_schema,
                state_schema: short_type_name::<A::Acc>(),
                parameters,
                ..Default::default()
            },
        );
        data.meta.event_time = expiry.iter().map(|(c, _)| Some(c.clone())).collect();
        let expiry = expiry.map(|(_, time)| time);
        data.then_ctx("aggregation", move |rows, ctx| {
            let (key, init, aggs, finish) =
                (key.clone(), aggs.clone(), aggs.clone(), finish.clone());
            let op = ctx.state_op();
            let evict = expiry.is_some() && ctx.mode != OutputMode::Complete;
            let expiry = expiry.clone();
            let assign = move |row: &T, emit: &mut dyn FnMut(K, A::Acc, Option<u64>)| {
                let at = expiry.as_ref().map(|time| time(row).millis().max(0) as u64);
                emit(key(row), init.init(row), at)
            };
            let state = state_op(ctx, op, "aggregation");
            let out = dataflow::keyed_aggregate(
                rows,
                assign,
                evict,
                stage,
                state,
                ctx.metrics.clone(),
                op,
            )
            .map(move |(k, acc)| finish(k, aggs.finish(&acc)));
            closed_groups(out, stage, ctx.mode)
        })
    }
}

impl<T: Record, K: Key + Field> GroupedDataset<T, K> {
    /// The number of rows per key (Spark's `groupByKey(..).count()`).
    pub fn count(self) -> Dataset<KeyCount<K>> {
        self.agg(|a| (a.count(),), |key, (count,)| KeyCount { key, count })
    }
}

pub(super) type TimeFn<T> = Arc<dyn Fn(&T) -> Timestamp + Send + Sync>;

/// Where an aggregation keeps its keys: its store (restored and checkpointed if the query has
/// a checkpoint), placed on workers by key group.
fn state_op<K, A>(ctx: &mut LowerCtx, op: usize, kind: &str) -> dataflow::StateOp<K, A>
where
    K: Key + Eq,
    A: stream_core::Mergeable,
{
    dataflow::StateOp {
        store: ctx.store(op, kind),
        groups: ctx.groups,
        workers: ctx.workers,
        emit_restored: ctx.mode == OutputMode::Complete,
    }
}

impl<T: Record> Dataset<T> {
    /// Records an aggregation in the query's shape; returns its depth in the chain.
    fn push_aggregation(&mut self, shape: AggShape, description: OperatorDescription) -> u64 {
        self.meta.stateful.push(description);
        self.meta.shape.aggregation_after_join |= self.meta.shape.stream_joins > 0;
        let aggregations = &mut self.meta.shape.aggregations;
        aggregations.push(shape);
        aggregations.len() as u64 - 1
    }
}

/// What an aggregation gives the operators after it: in append mode each closed group's final
/// row, once, as an insertion at the time the watermark closed it (its state's retraction
/// there, negated); in the other modes every change. So whatever follows an aggregation (a
/// projection, a join, a union with other branches, another aggregation, the sink) sees rows
/// that are only ever added, as from a source. A chained aggregation at depth `stage + 1`
/// evicts at `(end, stage + 1)`, after these rows' time `(end, stage)`: an outer window closes
/// in the same batch as the last inner window inside it (Spark's chained time-window
/// aggregation, e.g. over `window_time(window)`).
fn closed_groups<T: Record>(rows: Coll<'_, T>, stage: u64, mode: OutputMode) -> Coll<'_, T> {
    if mode == OutputMode::Append {
        dataflow::finalized(rows, stage)
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

/// `window(time, "size")` in a projection: the tumbling window of `size_ms` that holds `time`
/// (`[start, start + size)`, `start` a multiple of the size from the epoch), the column a
/// stream-stream join on equal windows compares.
pub fn tumbling_window(time: Timestamp, size_ms: i64) -> Window {
    let t = time.millis();
    let start = t - t.rem_euclid(size_ms);
    Window {
        start: Timestamp(start),
        end: Timestamp(start + size_ms),
    }
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
    /// The event-time column the windows are on, by name (`None`: given only as a closure).
    column: Option<String>,
    time: TimeFn<T>,
    key: KeyFn<T, K>,
    /// The key's schema, for the checkpoint's description of the query.
    key_schema: String,
}

impl<T, K: Record> WindowedDataset<T, K> {
    /// Names the key's columns in the checkpoint's description of the query (`stream!` does
    /// this, so that a restart can tell a changed key).
    #[doc(hidden)]
    pub fn __record_key(mut self) -> Self {
        self.key_schema = schema_text(&K::schema());
        self
    }
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
        // Only windows on the watermarked column close (Spark's `watermarkPredicateForKeys`).
        let watermarked = data.meta.has_watermark_on(self.column.as_deref());
        let (kind, parameters) = match &*grouping {
            Grouping::Fixed(w) if w.size == w.slide => (
                "window aggregation",
                format!("tumbling windows of {} ms", w.size),
            ),
            Grouping::Fixed(w) => (
                "window aggregation",
                format!("windows of {} ms sliding by {} ms", w.size, w.slide),
            ),
            Grouping::Session(gap) => ("session window aggregation", gap.1.clone()),
        };
        let stage = data.push_aggregation(
            AggShape {
                watermarked_event_time_key: watermarked,
                session_window: matches!(*grouping, Grouping::Session(_)),
            },
            OperatorDescription {
                kind: kind.into(),
                key_schema: self.key_schema,
                state_schema: short_type_name::<A::Acc>(),
                parameters: match &*grouping {
                    Grouping::Fixed(w) if w.offset != 0 => {
                        format!("{parameters} starting {} ms after the epoch", w.offset)
                    }
                    _ => parameters,
                },
                ..Default::default()
            },
        );
        // The window column carries the watermark on (a chained window aggregation).
        data.meta.event_time = if watermarked {
            vec![self.column]
        } else {
            Vec::new()
        };
        let op = match *grouping {
            Grouping::Fixed(_) => "window aggregation",
            Grouping::Session(_) => "session window aggregation",
        };
        data.then_ctx(op, move |rows, ctx| {
            let (key, time, init) = (key.clone(), time.clone(), aggs.clone());
            let (aggs, finish) = (aggs.clone(), finish.clone());
            let op = ctx.state_op();
            let evict = watermarked && ctx.mode != OutputMode::Complete;
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
                    let state = state_op(ctx, op, "window aggregation");
                    dataflow::keyed_aggregate(rows, assign, evict, stage, state, metrics, op)
                }
                Grouping::Session(gap) => {
                    let gap = gap.clone();
                    let assign =
                        move |row: &T| (key(row), time(row).millis(), (gap.0)(row), init.init(row));
                    let state = dataflow::SessionState {
                        store: ctx.store(op, "session window aggregation"),
                        groups: ctx.groups,
                        workers: ctx.workers,
                        emit_restored: ctx.mode == OutputMode::Complete,
                    };
                    dataflow::session_aggregate(rows, assign, evict, stage, state, metrics, op)
                        .map(|((k, w), acc)| ((w, k), acc))
                }
            };
            let out = windows.map(move |((w, k), acc)| finish(w, k, aggs.finish(&acc)));
            closed_groups(out, stage, ctx.mode)
        })
    }
}

/// The gap of session windows: fixed, or computed per row (Spark's dynamic gap).
pub struct SessionGap<T>(Arc<dyn Fn(&T) -> i64 + Send + Sync>, String);

impl<T> Clone for SessionGap<T> {
    fn clone(&self) -> Self {
        SessionGap(self.0.clone(), self.1.clone())
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
        Ok(SessionGap(Arc::new(move |_| ms), format!("gap of {ms} ms")))
    }

    /// A gap in milliseconds computed from each row; rows with a gap of zero or less are
    /// dropped, as in Spark.
    pub fn per_row(gap: impl Fn(&T) -> i64 + Send + Sync + 'static) -> Self {
        SessionGap(Arc::new(gap), "gap computed per row".into())
    }
}
