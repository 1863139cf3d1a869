//! Stream-static joins (docs/spark-semantics.md 1.8): a stream joined with a static table, which is loaded
//! once when the query starts and arranged once; the stream side keeps no state. The static
//! side may also be a bounded dataset (`read`), which is how two batch inputs are joined.

use super::lower::{lower_fn, Feed, LowerCtx};
use super::nulls::has_null;
use super::{Dataset, Key};
use crate::dataflow::{self, Coll};
use crate::error::{Result, StreamError};
use crate::source::{FileSource, Partition, ReadStats, Split};
use crate::time::Time;
use std::sync::Arc;
use stream_core::rules::{check_stream_static_join, JoinType};
use stream_core::Record;

type Loader<S> = Arc<dyn Fn() -> Result<Vec<S>> + Send + Sync>;

/// A static table: rows read once when the query starts (Spark's `spark.read...` joined with a
/// stream), or a bounded dataset ([`read`](super::read)) computed with the query.
pub struct StaticTable<S: 'static> {
    load: Load<S>,
}

/// Where a static table's rows come from.
enum Load<S: 'static> {
    /// Loaded on worker 0 at the run's first batch.
    Rows(Loader<S>),
    /// A bounded dataset, lowered into the query's dataflow.
    Dataset(Box<Dataset<S>>),
}

impl<S> Clone for StaticTable<S> {
    fn clone(&self) -> Self {
        StaticTable {
            load: match &self.load {
                Load::Rows(l) => Load::Rows(l.clone()),
                Load::Dataset(d) => Load::Dataset(d.clone()),
            },
        }
    }
}

impl<S: Record> StaticTable<S> {
    /// A table of the given rows.
    pub fn from_rows(rows: Vec<S>) -> Self {
        let rows = Arc::new(rows);
        StaticTable {
            load: Load::Rows(Arc::new(move || Ok(rows.as_ref().clone()))),
        }
    }

    /// A table read from files (all files present when the query starts).
    pub fn from_files(files: FileSource<S>) -> Self {
        StaticTable {
            load: Load::Rows(Arc::new(move || files.read_all().map(|(rows, _)| rows))),
        }
    }

    /// A table computed by a bounded dataset ([`read`](super::read) and any operators): in a
    /// batch query it is computed with the rest; in a streaming query its sources are read
    /// whole, once per run, on worker 0, as a static table is loaded.
    pub fn from_dataset(data: Dataset<S>) -> Self {
        StaticTable {
            load: Load::Dataset(Box::new(data)),
        }
    }

    /// Joins a stream to this table with the table on the left (Spark's
    /// `static.join(stream, on, how)`): `Inner` or `RightOuter` (every stream row, with `None`
    /// where no table row matches). `combine` makes the output row.
    pub fn join_stream<T: Record, K: Key, O: Record>(
        self,
        stream: Dataset<T>,
        table_key: impl Fn(&S) -> K + Send + Sync + 'static,
        stream_key: impl Fn(&T) -> K + Send + Sync + 'static,
        how: JoinType,
        combine: impl Fn(Option<&S>, &T) -> O + Send + Sync + 'static,
    ) -> Dataset<O> {
        if let Err(e) = check_stream_static_join(how, false) {
            let out =
                stream.join_static(self, stream_key, table_key, JoinType::Inner, move |t, s| {
                    combine(s, t)
                });
            return out.fail(e.into());
        }
        let how = if how == JoinType::RightOuter {
            JoinType::LeftOuter
        } else {
            how
        };
        stream.join_static(self, stream_key, table_key, how, move |t, s| combine(s, t))
    }
}

/// A static table read from a source: `read_static::<Person>(Files::csv("people.csv"))`.
pub fn read_static<S: Record>(source: impl Into<StaticTable<S>>) -> StaticTable<S> {
    source.into()
}

impl<S: Record> From<FileSource<S>> for StaticTable<S> {
    fn from(files: FileSource<S>) -> Self {
        StaticTable::from_files(files)
    }
}

impl<S: Record> From<Vec<S>> for StaticTable<S> {
    fn from(rows: Vec<S>) -> Self {
        StaticTable::from_rows(rows)
    }
}

impl<S: Record> From<Dataset<S>> for StaticTable<S> {
    fn from(data: Dataset<S>) -> Self {
        StaticTable::from_dataset(data)
    }
}

/// Loads the table into its input on the first batch, on worker 0 only; the arrangement
/// distributes it by key.
struct StaticFeed<K: Key, S: Record> {
    load: Loader<S>,
    key: Arc<dyn Fn(&S) -> K + Send + Sync>,
    input: dataflow::RowInput<(Option<K>, S)>,
    loaded: bool,
}

impl<K: Key, S: Record> Feed for StaticFeed<K, S> {
    fn feed(
        &mut self,
        _: &[(usize, Split)],
        part: Partition,
    ) -> Result<Option<(usize, ReadStats)>> {
        if !self.loaded && part.index == 0 {
            for row in (self.load)()? {
                // A table row whose key holds a NULL matches no stream row: leave it out.
                let key = (self.key)(&row);
                if !has_null(&key) {
                    self.input.insert((Some(key), row));
                }
            }
        }
        self.loaded = true;
        Ok(None)
    }
    fn advance_to(&mut self, time: Time) {
        self.input.advance_to(time);
    }
}

fn static_input<'a, K: Key, S: Record>(
    scope: dataflow::Scope<'a>,
    ctx: &mut LowerCtx,
    table: &StaticTable<S>,
    key: Arc<dyn Fn(&S) -> K + Send + Sync>,
    batch: bool,
) -> Coll<'a, (Option<K>, S)> {
    match &table.load {
        Load::Rows(load) => {
            let (input, rows) = dataflow::RowInput::new(scope);
            ctx.feeders.push(Box::new(StaticFeed {
                load: load.clone(),
                key,
                input,
                loaded: false,
            }));
            rows
        }
        Load::Dataset(data) => {
            // The bounded side lowers as in a batch query (complete mode: its aggregations give
            // their final rows, nothing is evicted) and, in a streaming query, as a static
            // table: read once per run, its state not checkpointed (it is read again).
            let saved = (ctx.mode, ctx.static_side);
            ctx.mode = stream_core::OutputMode::Complete;
            ctx.static_side = !batch;
            let state = if batch { None } else { ctx.take_state() };
            let rows = (data.lower)(scope, ctx);
            ctx.restore_state(state);
            (ctx.mode, ctx.static_side) = saved;
            // A table row whose key holds a NULL matches no stream row: leave it out.
            rows.flat_map(move |row| {
                let k = key(&row);
                (!has_null(&k)).then_some((Some(k), row))
            })
        }
    }
}

impl<T: Record> Dataset<T> {
    /// Joins this stream with a static table, the stream on the left (Spark's
    /// `stream.join(static, on, how)`): `Inner`, `LeftOuter`, `LeftSemi` or `LeftAnti`.
    /// `combine` makes the output row from a stream row and a matching table row: for `Inner`
    /// once per match; for `LeftOuter` once per match, or once with `None` when nothing matches;
    /// for `LeftSemi` / `LeftAnti` once with `None` for each stream row that has / has not a
    /// match. A key holding a NULL (`None`) matches nothing, not even another NULL, as in SQL.
    pub fn join_static<S: Record, K: Key, O: Record>(
        self,
        table: impl Into<StaticTable<S>>,
        stream_key: impl Fn(&T) -> K + Send + Sync + 'static,
        table_key: impl Fn(&S) -> K + Send + Sync + 'static,
        how: JoinType,
        combine: impl Fn(&T, Option<&S>) -> O + Send + Sync + 'static,
    ) -> Dataset<O> {
        let table = table.into();
        let this = self.ensure_unsorted("join");
        let check = check_stream_static_join(how, true);
        let stream_key = Arc::new(stream_key);
        let table_key: Arc<dyn Fn(&S) -> K + Send + Sync> = Arc::new(table_key);
        let combine = Arc::new(combine);
        let prev = this.lower.clone();
        let mut meta = this.meta;
        let batch = meta.bounded;
        let mut error = None;
        match &table.load {
            Load::Rows(_) => meta.operators.push(format!(
                "{} join with a static table of {}",
                how.name(),
                std::any::type_name::<S>()
            )),
            Load::Dataset(data) => {
                let side = &data.meta;
                error = side.error.clone();
                if !side.bounded {
                    error.get_or_insert(StreamError::Analysis(
                        "the right side of this join is a stream: stream-stream joins are not \
                         supported yet; join with a static table (read_static) or a bounded \
                         dataset (read)"
                            .into(),
                    ));
                }
                if data.sort.is_some() {
                    error.get_or_insert(StreamError::Analysis(
                        "the joined dataset ends with order_by or limit, which apply to a \
                         query's result only: remove them from the joined side"
                            .into(),
                    ));
                }
                // Two batch inputs: the driver plans the joined side's sources too. A stream
                // joined with a bounded dataset: worker 0 reads them (see `static_input`).
                if batch {
                    meta.sources.extend(side.sources.iter().cloned());
                }
                meta.operators.push(format!(
                    "{} join with a bounded dataset [{}]",
                    how.name(),
                    side.operators.join(", ")
                ));
            }
        }
        if let Some(e) = error {
            meta.error.get_or_insert(e);
        }
        let out = Dataset {
            lower: lower_fn(move |scope, ctx| {
                let stream = prev(scope, ctx);
                let table = static_input(scope, ctx, &table, table_key.clone(), batch);
                let (key, combine) = (stream_key.clone(), combine.clone());
                let op = ctx.state_op();
                let metrics = ctx.metrics.clone();
                // A NULL key (a `None` anywhere in it) equals nothing, as in SQL: it becomes
                // `None`, which no table key is.
                dataflow::half_join(
                    stream,
                    move |r| Some(key(r)).filter(|k| !has_null(k)),
                    table,
                    how,
                    move |r, s| combine(r, s),
                    metrics,
                    op,
                )
            }),
            meta,
            sort: None,
        };
        match check {
            Ok(()) => out,
            Err(e) => out.fail(StreamError::from(e)),
        }
    }
}
