//! Arbitrary stateful processing on a keyed dataset: Spark's `mapGroupsWithState` and
//! `flatMapGroupsWithState`, as `GroupedDataset::map_groups_with_state` and
//! `GroupedDataset::flat_map_groups_with_state`. The state lives behind the one state
//! mechanism (checkpointed, restored and rescaled by key group); the operator is
//! `dataflow::groups_with_state`.

use super::aggregate::{GroupedDataset, Key, KeyFn, TimeFn};
use super::describe::short_type_name;
use super::group_state::{GroupRows, GroupState};
use super::lower::{Feed, LowerCtx};
use super::Dataset;
use crate::checkpoint::OperatorDescription;
use crate::dataflow::{self, BatchClock, Coll, RowInput, TimeoutClock};
use crate::error::{Result, StreamError};
use crate::source::{Partition, ReadStats, Split};
use crate::time::Time;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::rc::Rc;
use std::sync::Arc;
use stream_core::rules::GroupStateShape;
use stream_core::{GroupStateTimeout, OutputMode, Record};

/// What a key's state may be: any value that can be cloned and written to the checkpoint.
pub trait StateValue: Clone + Serialize + DeserializeOwned + Send + Sync + 'static {}
impl<S: Clone + Serialize + DeserializeOwned + Send + Sync + 'static> StateValue for S {}

impl<T: Record, K: Key> GroupedDataset<T, K> {
    /// Calls `func` once per key with rows in a batch, and once per key whose timeout passed
    /// (with no rows and `state.has_timed_out()`), keeping a state of type `S` per key; each
    /// call gives one output row (Spark's `mapGroupsWithState`, Update output mode only).
    ///
    /// ```
    /// # use stream_runtime::prelude::*;
    /// #[derive(Record)]
    /// struct Click { user: String }
    /// #[derive(Record)]
    /// struct Clicks { user: String, clicks: i64 }
    ///
    /// let counts = read_stream::<Click>(MemoryStream::new())
    ///     .group_by_key(|c| c.user.clone())
    ///     .map_groups_with_state(NoTimeout, |user, rows, state: &mut GroupState<i64>| {
    ///         let clicks = state.get().copied().unwrap_or(0) + rows.len() as i64;
    ///         state.update(clicks);
    ///         Clicks { user, clicks }
    ///     });
    /// ```
    pub fn map_groups_with_state<S, O>(
        self,
        timeout: GroupStateTimeout,
        func: impl Fn(K, GroupRows<T>, &mut GroupState<S>) -> O + Send + Sync + 'static,
    ) -> Dataset<O>
    where
        S: StateValue,
        O: Record,
    {
        self.groups_with_state(true, OutputMode::Update, timeout, move |k, rows, state| {
            std::iter::once(func(k, rows, state))
        })
    }

    /// Calls `func` as [`map_groups_with_state`](GroupedDataset::map_groups_with_state) does;
    /// each call gives any number of output rows (Spark's `flatMapGroupsWithState`). `mode` is
    /// the operator's output mode, Append or Update, which must be the query's when no
    /// aggregation follows (an aggregation may follow it in Append).
    pub fn flat_map_groups_with_state<S, O, I>(
        self,
        mode: OutputMode,
        timeout: GroupStateTimeout,
        func: impl Fn(K, GroupRows<T>, &mut GroupState<S>) -> I + Send + Sync + 'static,
    ) -> Dataset<O>
    where
        S: StateValue,
        O: Record,
        I: IntoIterator<Item = O>,
    {
        self.groups_with_state(false, mode, timeout, func)
    }

    fn groups_with_state<S, O, I>(
        self,
        map: bool,
        mode: OutputMode,
        timeout: GroupStateTimeout,
        func: impl Fn(K, GroupRows<T>, &mut GroupState<S>) -> I + Send + Sync + 'static,
    ) -> Dataset<O>
    where
        S: StateValue,
        O: Record,
        I: IntoIterator<Item = O>,
    {
        let name = if map {
            "map_groups_with_state"
        } else {
            "flat_map_groups_with_state"
        };
        let super::aggregate::GroupParts {
            mut data,
            key,
            key_schema,
            late,
        } = self.into_parts();
        // Spark drops late rows before the function only with EventTimeTimeout.
        let late = late.filter(|_| timeout == GroupStateTimeout::EventTimeTimeout);
        if mode == OutputMode::Complete {
            data.meta.error.get_or_insert(StreamError::Analysis(
                "flat_map_groups_with_state takes Append or Update as its output mode, not \
                 Complete"
                    .into(),
            ));
        }
        let watermark = !data.meta.event_time.is_empty();
        data.meta.shape.group_states.push(GroupStateShape {
            map,
            mode,
            timeout,
            aggregations_before: data.meta.shape.aggregations.len(),
            watermark,
        });
        data.meta.stateful.push(OperatorDescription {
            kind: if map {
                "mapGroupsWithState".into()
            } else {
                "flatMapGroupsWithState".into()
            },
            key_schema,
            state_schema: short_type_name::<S>(),
            parameters: format!("{} mode, {}", mode.name(), timeout.name()),
            ..Default::default()
        });
        // Its rows carry no watermark: the function makes them.
        data.meta.event_time.clear();
        let func = Arc::new(func);
        data.then_ctx(name, move |rows, ctx| {
            let func = func.clone();
            let call = move |k: &K,
                             rows: Vec<T>,
                             slot: &mut Option<dataflow::Stored<S>>,
                             timed_out,
                             clock: &BatchClock| {
                let before = slot.as_ref().and_then(|s| s.timeout);
                let mut state = GroupState::new(slot.take(), timeout, timed_out, clock, watermark);
                let out: Vec<O> = func(k.clone(), rows.into_iter(), &mut state)
                    .into_iter()
                    .collect();
                let (stored, changed) = state.finish(before)?;
                *slot = stored;
                Ok((out, changed))
            };
            let clock = match timeout {
                GroupStateTimeout::NoTimeout => TimeoutClock::None,
                GroupStateTimeout::ProcessingTimeTimeout => TimeoutClock::Processing,
                GroupStateTimeout::EventTimeTimeout => TimeoutClock::Event,
            };
            lower_groups_with_state(rows, ctx, key.clone(), late.clone(), call, clock, name)
        })
    }
}

/// Lowers a per-key operator calling `call` (see `dataflow::groups_with_state`), with its
/// store and the tick input of each batch's clock.
pub(super) fn lower_groups_with_state<'a, T, K, S, O>(
    rows: Coll<'a, T>,
    ctx: &mut LowerCtx,
    key: KeyFn<T, K>,
    late: Option<TimeFn<T>>,
    call: impl FnMut(
            &K,
            Vec<T>,
            &mut Option<dataflow::Stored<S>>,
            bool,
            &BatchClock,
        ) -> dataflow::CallResult<O>
        + 'static,
    clock: TimeoutClock,
    name: &'static str,
) -> Coll<'a, O>
where
    T: Record,
    K: Key,
    S: StateValue,
    O: Record,
{
    let op = ctx.state_op();
    let (input, ticks) = RowInput::new(rows.scope());
    ctx.feeders.push(Box::new(TickFeed { input, clock: None }));
    let store = dataflow::GroupStateStore {
        store: ctx.store(op, name),
        groups: ctx.groups,
        workers: ctx.workers,
    };
    let late =
        late.map(|time| Rc::new(move |row: &T| time(row).millis()) as dataflow::EventTimeFn<T>);
    dataflow::groups_with_state(
        rows,
        ticks,
        move |row: &T| key(row),
        late,
        call,
        clock,
        store,
        name,
        ctx.metrics.clone(),
        op,
    )
}

/// The input of a `[flat_]map_groups_with_state` operator on one worker that tells it each
/// batch's clock: one tick per batch, at the batch's time.
struct TickFeed {
    input: RowInput<BatchClock>,
    clock: Option<BatchClock>,
}

impl Feed for TickFeed {
    fn begin_batch(&mut self, clock: &BatchClock) {
        self.clock = Some(*clock);
    }
    fn feed(&mut self, _: &[(usize, Split)], _: Partition) -> Result<Option<(usize, ReadStats)>> {
        if let Some(clock) = self.clock.take() {
            self.input.insert(clock);
        }
        Ok(None)
    }
    fn advance_to(&mut self, time: Time) {
        self.input.advance_to(time);
    }
}
