//! Lowering: what a dataset's description turns into on each worker. A [`LowerFn`] builds the
//! dataset's part of the dataflow; the [`LowerCtx`] collects what the driver needs from it (the
//! inputs it feeds each batch, the operators' metrics). The builder writes these; the driver runs
//! them.

use crate::dataflow::{self, Coll, Scope};
use crate::error::{Result, StreamError};
use crate::metrics::Metrics;
use crate::source::{Offset, Partition, ReadLimit, ReadStats, Source, Split};
use crate::state::{Committer, KeyGroups, StateCtx, Store};
use crate::time::Time;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::cell::RefCell;
use std::hash::Hash;
use std::rc::Rc;
use std::sync::Arc;
use stream_core::{OutputMode, Record};

/// Builds a dataset's dataflow on one worker.
pub(crate) type LowerFn<T> =
    Arc<dyn for<'a> Fn(Scope<'a>, &mut LowerCtx) -> Coll<'a, T> + Send + Sync>;

/// A [`LowerFn`] from a closure.
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
    /// The query's sources, by their process-local keys: a source's place here is its number in
    /// the query, the same on every process that built the same query.
    source_keys: Vec<usize>,
    /// How many workers the query runs on (keyed state is placed by key group among them).
    pub workers: usize,
    /// The key groups of the query's state.
    pub groups: KeyGroups,
    /// Where this worker checkpoints state, if the query has a checkpoint.
    state: Option<StateCtx>,
    /// The stateful operators' stores, committed after every batch.
    pub committers: Vec<Rc<dyn Committer>>,
    /// The first error met while lowering (state that could not be restored).
    pub error: Option<StreamError>,
    /// Lowering the bounded side of a join in a streaming query: its sources are read whole,
    /// once per run, on worker 0 (as a static table is), not planned by the driver.
    pub static_side: bool,
}

impl LowerCtx {
    pub fn new(
        mode: OutputMode,
        sources: &[SourceEntry],
        workers: usize,
        groups: KeyGroups,
        state: Option<StateCtx>,
    ) -> LowerCtx {
        LowerCtx {
            feeders: Vec::new(),
            mode,
            metrics: Metrics::default(),
            source_keys: sources.iter().map(|s| s.key).collect(),
            workers,
            groups,
            state,
            committers: Vec::new(),
            error: None,
            static_side: false,
        }
    }

    /// The store of stateful operator `op` (`kind`: what it is), restored from the checkpoint
    /// if the query has one, and committed after every batch.
    pub(crate) fn store<K, V>(&mut self, op: usize, kind: &str) -> Rc<RefCell<Store<K, V>>>
    where
        K: Hash + Eq + Clone + Serialize + DeserializeOwned + 'static,
        V: Serialize + DeserializeOwned + 'static,
    {
        let store = Store::open(self.state.as_ref(), op, kind).unwrap_or_else(|e| {
            self.error.get_or_insert(e);
            Store::open(None, op, kind).expect("a store without a checkpoint opens")
        });
        let store = Rc::new(RefCell::new(store));
        self.committers.push(store.clone());
        store
    }
    /// Takes the worker's state directory away (lowering what must not be checkpointed: the
    /// bounded side of a join in a streaming query, read again at every run); give it back
    /// with [`restore_state`](LowerCtx::restore_state).
    pub(crate) fn take_state(&mut self) -> Option<StateCtx> {
        self.state.take()
    }

    /// Gives back what [`take_state`](LowerCtx::take_state) took.
    pub(crate) fn restore_state(&mut self, state: Option<StateCtx>) {
        if state.is_some() {
            self.state = state;
        }
    }

    /// Registers the input of a source (by its process-local key); returns the source's
    /// number in the query.
    pub(crate) fn source(&mut self, key: usize) -> usize {
        self.source_keys
            .iter()
            .position(|k| *k == key)
            .expect("every source of a dataset is a source of its query")
    }
    /// Registers a watermark operator; returns its metrics index.
    pub(crate) fn watermark_op(&mut self) -> usize {
        let mut m = self.metrics.borrow_mut();
        m.event_time.push(Default::default());
        m.event_time.len() - 1
    }
    /// Registers a `from_json` operator reading values of source `source`; returns its metrics
    /// index.
    pub(crate) fn parse_op(&mut self, source: Option<usize>) -> usize {
        let mut m = self.metrics.borrow_mut();
        m.parses.push(crate::metrics::ParseStats {
            source,
            ..Default::default()
        });
        m.parses.len() - 1
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
    /// Told what the driver planned for the batch, before [`feed`](Feed::feed).
    fn begin_batch(&mut self, _clock: &dataflow::BatchClock) {}
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

pub(crate) struct SourceFeed<T: Record> {
    /// The source's number in the query.
    pub index: usize,
    pub source: Arc<dyn Source<T>>,
    pub input: dataflow::RowInput<T>,
}

impl<T: Record> Feed for SourceFeed<T> {
    fn feed(
        &mut self,
        splits: &[(usize, Split)],
        part: Partition,
    ) -> Result<Option<(usize, ReadStats)>> {
        let Some((_, split)) = splits.iter().find(|(i, _)| *i == self.index) else {
            return Ok(None);
        };
        let input = &mut self.input;
        let stats = self
            .source
            .read(split, part, &mut |row| input.insert(row))?;
        Ok(Some((self.index, stats)))
    }
    fn advance_to(&mut self, time: Time) {
        self.input.advance_to(time);
    }
}

/// The driver's view of a source: planning batches, without the row type.
pub(crate) trait PlanSource: Send + Sync {
    fn description(&self) -> String;
    /// See [`Source::identity`].
    fn identity(&self) -> String;
    /// The source's row type, e.g. `Bid`.
    fn row_type(&self) -> String;
    fn plan(&self, start: Option<&Offset>, limit: &ReadLimit) -> Result<Option<Split>>;
    fn commit(&self, end: &Offset);
    fn restore(&self, dir: &std::path::Path) -> Result<()>;
    fn replan(&self, start: Option<&Offset>, end: &Offset) -> Result<Split>;
    /// See [`Source::is_bounded`].
    fn is_bounded(&self) -> bool;
}

impl<T: 'static> PlanSource for Arc<dyn Source<T>> {
    fn description(&self) -> String {
        Source::description(&**self)
    }
    fn identity(&self) -> String {
        Source::identity(&**self)
    }
    fn row_type(&self) -> String {
        super::describe::short_type_name::<T>()
    }
    fn is_bounded(&self) -> bool {
        Source::is_bounded(&**self)
    }
    fn plan(&self, start: Option<&Offset>, limit: &ReadLimit) -> Result<Option<Split>> {
        Source::plan(&**self, start, limit)
    }
    fn commit(&self, end: &Offset) {
        Source::commit(&**self, end)
    }
    fn restore(&self, dir: &std::path::Path) -> Result<()> {
        Source::restore(&**self, dir)
    }
    fn replan(&self, start: Option<&Offset>, end: &Offset) -> Result<Split> {
        Source::replan(&**self, start, end)
    }
}

/// A source of a dataset. Its `key` tells the same source apart within this process (a dataset
/// used twice reads it twice but plans it once); the query numbers its sources by their place
/// in the query instead, which every process agrees on.
#[derive(Clone)]
pub(crate) struct SourceEntry {
    pub key: usize,
    pub source: Arc<dyn PlanSource>,
}
