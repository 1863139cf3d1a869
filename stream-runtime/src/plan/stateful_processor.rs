//! Spark 4's `transformWithState` API: a [`StatefulProcessor`] declares its state variables
//! ([`ValueState`], [`ListState`], [`MapState`], each with an optional TTL) in `init`, and
//! reads and changes them per key through the [`ProcessorHandle`] its handlers get, with timers
//! in processing or event time ([`TimeMode`]).
//!
//! State variables can only be declared in `init`: [`StateDeclarations`] is the only way to
//! make one, and only `init` gets it (Spark checks this at run time). Timers without a time
//! mode, TTL outside processing time and duplicate names are errors when the query starts or,
//! for timers, when one is registered (the query fails naming the key).

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::marker::PhantomData;
use stream_core::OutputMode;

/// Which clock the timers of a `transform_with_state` follow (Spark's `TimeMode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TimeMode {
    /// No timers, no TTL.
    None,
    /// Timers and TTL on the batch's processing time.
    ProcessingTime,
    /// Timers on the watermark.
    EventTime,
}

/// A user's stateful processor (Spark's `StatefulProcessor[K, I, O]`).
pub trait StatefulProcessor<K, I, O>: Send + Sync + 'static {
    /// Declares the state variables (kept in the processor's fields). Called once when the
    /// query is built.
    fn init(&mut self, state: &mut StateDeclarations, output_mode: OutputMode, time_mode: TimeMode);

    /// Called once per key with rows in a batch.
    fn handle_input_rows(
        &self,
        key: &K,
        rows: super::GroupRows<I>,
        handle: &mut ProcessorHandle<'_>,
        timer_values: TimerValues,
    ) -> Vec<O>;

    /// Called once per expired timer of a key (its time in `expired_timer_ms`), after the keys
    /// with rows.
    fn handle_expired_timer(
        &self,
        _key: &K,
        _handle: &mut ProcessorHandle<'_>,
        _timer_values: TimerValues,
        _expired_timer_ms: i64,
    ) -> Vec<O> {
        Vec::new()
    }

    /// Called when the query stops.
    fn close(&self) {}
}

/// The batch's clocks, as a handler sees them (Spark's `TimerValues`).
#[derive(Clone, Copy, Debug)]
pub struct TimerValues {
    /// The batch's processing time, epoch ms.
    pub current_processing_time_ms: i64,
    /// The batch's watermark for eviction, epoch ms.
    pub current_watermark_ms: i64,
}

/// What kind of variable a name holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum VarKind {
    Value,
    List,
    Map,
}

/// The variables `init` declared: name, kind, TTL (ms).
#[derive(Default)]
pub struct StateDeclarations {
    pub(crate) vars: Vec<(String, VarKind, Option<i64>)>,
    pub(crate) error: Option<String>,
}

impl StateDeclarations {
    fn declare(&mut self, name: &str, kind: VarKind, ttl: Option<&str>) {
        if self.vars.iter().any(|(n, ..)| n == name) {
            self.error.get_or_insert(format!(
                "the state variable `{name}` is declared twice (Spark: \
                 STATEFUL_PROCESSOR_DUPLICATE_STATE_VARIABLE_DEFINED)"
            ));
        }
        let ttl = ttl.map(|t| match stream_core::parse_duration(t) {
            Ok(ms) if ms > 0 => ms,
            Ok(_) => {
                self.error.get_or_insert(format!(
                    "the TTL of `{name}` must be positive (Spark: \
                     STATEFUL_PROCESSOR_TTL_DURATION_MUST_BE_POSITIVE)"
                ));
                0
            }
            Err(e) => {
                self.error
                    .get_or_insert(format!("the TTL of `{name}`: {e}"));
                0
            }
        });
        self.vars.push((name.to_string(), kind, ttl));
    }

    /// Declares a single value per key, with an optional TTL (e.g. `Some("1 hour")`).
    pub fn value_state<T>(&mut self, name: &str, ttl: Option<&str>) -> ValueState<T> {
        self.declare(name, VarKind::Value, ttl);
        ValueState(name.to_string(), PhantomData)
    }

    /// Declares a list per key; the TTL applies to each element.
    pub fn list_state<T>(&mut self, name: &str, ttl: Option<&str>) -> ListState<T> {
        self.declare(name, VarKind::List, ttl);
        ListState(name.to_string(), PhantomData)
    }

    /// Declares a map per key; the TTL applies to each entry.
    pub fn map_state<MK, V>(&mut self, name: &str, ttl: Option<&str>) -> MapState<MK, V> {
        self.declare(name, VarKind::Map, ttl);
        MapState(name.to_string(), PhantomData)
    }
}

/// An encoded value and when it expires (epoch ms, with a TTL).
pub(crate) type Cell = (Vec<u8>, Option<i64>);

/// One key's state: its variables and timers, encoded (MessagePack).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct KeyState {
    pub values: BTreeMap<String, Cell>,
    pub lists: BTreeMap<String, Vec<Cell>>,
    pub maps: BTreeMap<String, BTreeMap<Vec<u8>, Cell>>,
    pub timers: BTreeSet<i64>,
}

impl KeyState {
    /// Drops what expired by `now`; true if anything did.
    pub(crate) fn purge(&mut self, now: i64) -> bool {
        let live = |c: &Cell| c.1.is_none_or(|e| e > now);
        let before = self.size();
        self.values.retain(|_, c| live(c));
        self.lists.values_mut().for_each(|l| l.retain(live));
        self.lists.retain(|_, l| !l.is_empty());
        self.maps
            .values_mut()
            .for_each(|m| m.retain(|_, c| live(c)));
        self.maps.retain(|_, m| !m.is_empty());
        self.size() != before
    }

    fn size(&self) -> usize {
        self.values.len()
            + self.lists.values().map(Vec::len).sum::<usize>()
            + self.maps.values().map(BTreeMap::len).sum::<usize>()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.size() == 0 && self.timers.is_empty()
    }

    /// The earliest TTL expiry.
    pub(crate) fn next_expiry(&self) -> Option<i64> {
        let cells = self
            .values
            .values()
            .chain(self.lists.values().flatten())
            .chain(self.maps.values().flat_map(BTreeMap::values));
        cells.filter_map(|c| c.1).min()
    }
}

/// A handler's access to its key's state and timers (Spark's `StatefulProcessorHandle`).
pub struct ProcessorHandle<'a> {
    pub(crate) state: &'a mut KeyState,
    pub(crate) ttls: &'a BTreeMap<String, Option<i64>>,
    pub(crate) time_mode: TimeMode,
    pub(crate) now: i64,
    pub(crate) error: Option<String>,
}

impl ProcessorHandle<'_> {
    fn fail(&mut self, message: String) {
        self.error.get_or_insert(message);
    }

    fn expiry(&self, name: &str) -> Option<i64> {
        self.ttls
            .get(name)
            .copied()
            .flatten()
            .map(|ttl| self.now.saturating_add(ttl))
    }

    fn live(&self, c: &Cell) -> bool {
        c.1.is_none_or(|e| e > self.now)
    }

    fn encode<T: Serialize>(&mut self, v: &T) -> Vec<u8> {
        rmp_serde::to_vec(v).unwrap_or_else(|e| {
            self.fail(format!("a state value could not be encoded: {e}"));
            Vec::new()
        })
    }

    fn decode<T: DeserializeOwned>(&mut self, bytes: &[u8]) -> Option<T> {
        match rmp_serde::from_slice(bytes) {
            Ok(v) => Some(v),
            Err(e) => {
                self.fail(format!(
                    "a state value could not be decoded (its type changed?): {e}"
                ));
                None
            }
        }
    }

    fn timers_allowed(&mut self, what: &str) -> bool {
        if self.time_mode == TimeMode::None {
            self.fail(format!(
                "{what} needs a time mode: start transform_with_state with \
                 TimeMode::ProcessingTime or TimeMode::EventTime (Spark: \
                 STATEFUL_PROCESSOR_CANNOT_PERFORM_OPERATION_WITH_INVALID_TIME_MODE)"
            ));
            return false;
        }
        true
    }

    /// Registers a timer of this key at `ms` (epoch ms, in the time mode's clock).
    pub fn register_timer(&mut self, ms: i64) {
        if self.timers_allowed("register_timer") {
            self.state.timers.insert(ms);
        }
    }

    /// Deletes this key's timer at `ms`, if there is one.
    pub fn delete_timer(&mut self, ms: i64) {
        if self.timers_allowed("delete_timer") {
            self.state.timers.remove(&ms);
        }
    }

    /// This key's timers, in time order.
    pub fn list_timers(&mut self) -> Vec<i64> {
        if !self.timers_allowed("list_timers") {
            return Vec::new();
        }
        self.state.timers.iter().copied().collect()
    }
}

/// A single value per key (Spark's `ValueState`). Declared in `init`.
#[derive(Clone, Debug)]
pub struct ValueState<T>(String, PhantomData<fn() -> T>);

impl<T: Serialize + DeserializeOwned> ValueState<T> {
    /// The key's value, unless unset or expired.
    pub fn get(&self, h: &mut ProcessorHandle<'_>) -> Option<T> {
        let c = h.state.values.get(&self.0).filter(|c| h.live(c))?.clone();
        h.decode(&c.0)
    }

    /// Whether the key has a (live) value.
    pub fn exists(&self, h: &mut ProcessorHandle<'_>) -> bool {
        h.state.values.get(&self.0).is_some_and(|c| h.live(c))
    }

    /// Sets the key's value (and restarts its TTL).
    pub fn update(&self, h: &mut ProcessorHandle<'_>, value: T) {
        let cell = (h.encode(&value), h.expiry(&self.0));
        h.state.values.insert(self.0.clone(), cell);
    }

    /// Removes the key's value.
    pub fn clear(&self, h: &mut ProcessorHandle<'_>) {
        h.state.values.remove(&self.0);
    }
}

/// A list per key (Spark's `ListState`). Declared in `init`.
#[derive(Clone, Debug)]
pub struct ListState<T>(String, PhantomData<fn() -> T>);

impl<T: Serialize + DeserializeOwned> ListState<T> {
    /// The key's (live) elements, in order.
    pub fn get(&self, h: &mut ProcessorHandle<'_>) -> Vec<T> {
        let cells: Vec<Cell> = h
            .state
            .lists
            .get(&self.0)
            .map(|l| l.iter().filter(|c| h.live(c)).cloned().collect())
            .unwrap_or_default();
        cells.iter().filter_map(|c| h.decode(&c.0)).collect()
    }

    /// Whether the key has (live) elements.
    pub fn exists(&self, h: &mut ProcessorHandle<'_>) -> bool {
        h.state
            .lists
            .get(&self.0)
            .is_some_and(|l| l.iter().any(|c| h.live(c)))
    }

    /// Replaces the key's list.
    pub fn put(&self, h: &mut ProcessorHandle<'_>, values: Vec<T>) {
        let e = h.expiry(&self.0);
        let cells: Vec<Cell> = values.iter().map(|v| (h.encode(v), e)).collect();
        h.state.lists.insert(self.0.clone(), cells);
    }

    /// Appends one element.
    pub fn append_value(&self, h: &mut ProcessorHandle<'_>, value: T) {
        let cell = (h.encode(&value), h.expiry(&self.0));
        h.state.lists.entry(self.0.clone()).or_default().push(cell);
    }

    /// Appends elements.
    pub fn append_list(&self, h: &mut ProcessorHandle<'_>, values: Vec<T>) {
        for v in values {
            self.append_value(h, v);
        }
    }

    /// Removes the key's list.
    pub fn clear(&self, h: &mut ProcessorHandle<'_>) {
        h.state.lists.remove(&self.0);
    }
}

/// A map per key (Spark's `MapState`). Declared in `init`.
#[derive(Clone, Debug)]
pub struct MapState<MK, V>(String, PhantomData<fn() -> (MK, V)>);

impl<MK: Serialize + DeserializeOwned, V: Serialize + DeserializeOwned> MapState<MK, V> {
    /// The value at `k`, unless unset or expired.
    pub fn get_value(&self, h: &mut ProcessorHandle<'_>, k: &MK) -> Option<V> {
        let kb = h.encode(k);
        let c = h
            .state
            .maps
            .get(&self.0)
            .and_then(|m| m.get(&kb))
            .filter(|c| h.live(c))?
            .clone();
        h.decode(&c.0)
    }

    /// Whether `k` has a (live) value.
    pub fn contains_key(&self, h: &mut ProcessorHandle<'_>, k: &MK) -> bool {
        self.get_value(h, k).is_some()
    }

    /// Sets the value at `k` (and restarts its TTL).
    pub fn update_value(&self, h: &mut ProcessorHandle<'_>, k: &MK, v: V) {
        let cell = (h.encode(&v), h.expiry(&self.0));
        let kb = h.encode(k);
        h.state
            .maps
            .entry(self.0.clone())
            .or_default()
            .insert(kb, cell);
    }

    /// The (live) entries, ordered by the keys' encoding.
    pub fn iterator(&self, h: &mut ProcessorHandle<'_>) -> Vec<(MK, V)> {
        let cells: Vec<(Vec<u8>, Cell)> = h
            .state
            .maps
            .get(&self.0)
            .map(|m| {
                m.iter()
                    .filter(|(_, c)| h.live(c))
                    .map(|(k, c)| (k.clone(), c.clone()))
                    .collect()
            })
            .unwrap_or_default();
        cells
            .iter()
            .filter_map(|(k, c)| Some((h.decode(k)?, h.decode(&c.0)?)))
            .collect()
    }

    /// Removes the value at `k`.
    pub fn remove_key(&self, h: &mut ProcessorHandle<'_>, k: &MK) {
        let kb = h.encode(k);
        if let Some(m) = h.state.maps.get_mut(&self.0) {
            m.remove(&kb);
        }
    }

    /// Removes the key's map.
    pub fn clear(&self, h: &mut ProcessorHandle<'_>) {
        h.state.maps.remove(&self.0);
    }
}
