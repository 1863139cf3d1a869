//! `Dataset<T>`: the typed builder of a streaming query, in Spark's vocabulary. `stream!`
//! expands into these calls; applications may also call them directly.

use crate::dataflow::{self, Coll, Scope};
use crate::error::Result;
use crate::query::DataStreamWriter;
use crate::sink::Sink;
use crate::source::{IntoSource, Partition, ReadStats, Source, Split};
use crate::time::Time;
use differential_dataflow::input::InputSession;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::fmt::Debug;
use std::hash::Hash;
use std::marker::PhantomData;
use std::sync::Arc;
use stream_core::agg::{Avg, Count, Extreme, Sum};
use stream_core::rules::AggShape;
use stream_core::{Aggregates, Field, Numeric, PlanShape, Record};

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

fn lower_fn<T, F>(f: F) -> LowerFn<T>
where
    F: for<'a> Fn(Scope<'a>, &mut LowerCtx) -> Coll<'a, T> + Send + Sync + 'static,
{
    Arc::new(f)
}

/// What lowering collects on a worker: the inputs that the micro-batch loop feeds.
pub(crate) struct LowerCtx {
    pub feeders: Vec<Box<dyn Feed>>,
}

/// A source's input on one worker.
pub(crate) trait Feed {
    /// Which source this input reads.
    fn source_id(&self) -> usize;
    /// Reads this worker's share of `split` into the input, at the input's current time.
    fn feed(&mut self, split: &Split, part: Partition) -> Result<ReadStats>;
    /// Moves the input's time forward.
    fn advance_to(&mut self, time: Time);
}

struct SourceFeed<T: Record> {
    id: usize,
    source: Arc<dyn Source<T>>,
    input: InputSession<Time, T, isize>,
}

impl<T: Record> Feed for SourceFeed<T> {
    fn source_id(&self) -> usize {
        self.id
    }
    fn feed(&mut self, split: &Split, part: Partition) -> Result<ReadStats> {
        let input = &mut self.input;
        self.source.read(split, part, &mut |row| input.insert(row))
    }
    fn advance_to(&mut self, time: Time) {
        self.input.advance_to(time);
        self.input.flush();
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
}

impl<T: 'static> Clone for Dataset<T> {
    fn clone(&self) -> Self {
        Dataset {
            lower: self.lower.clone(),
            shape: self.shape.clone(),
            sources: self.sources.clone(),
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
            let (input, rows) = dataflow::new_input(scope);
            ctx.feeders.push(Box::new(SourceFeed {
                id,
                source: source.clone(),
                input,
            }));
            rows
        }),
        shape: PlanShape::default(),
        sources: vec![entry],
    }
}

impl<T: Record> Dataset<T> {
    fn then<U: Record>(
        self,
        step: impl for<'a> Fn(Coll<'a, T>) -> Coll<'a, U> + Send + Sync + 'static,
    ) -> Dataset<U> {
        let prev = self.lower;
        Dataset {
            lower: lower_fn(move |scope, ctx| step(prev(scope, ctx))),
            shape: self.shape,
            sources: self.sources,
        }
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
        Dataset {
            lower: lower_fn(move |scope, ctx| {
                let left = a(scope, ctx);
                left.concat(b(scope, ctx))
            }),
            shape,
            sources,
        }
    }

    /// Groups rows by columns (a key record), for `agg` (Spark's `groupBy`).
    pub fn group_by<K: Record>(
        self,
        key: impl Fn(&T) -> K + Send + Sync + 'static,
    ) -> GroupedDataset<T, K> {
        GroupedDataset {
            data: self,
            key: Arc::new(key),
        }
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
        data.shape.aggregations.push(AggShape::default());
        data.then(move |rows| {
            let (key, init, aggs, finish) =
                (key.clone(), aggs.clone(), aggs.clone(), finish.clone());
            dataflow::aggregate(rows, move |row: &T| (key(row), init.init(row)))
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
