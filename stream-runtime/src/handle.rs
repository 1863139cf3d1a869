//! `StreamingQuery`: the handle of a running query (Spark's `StreamingQuery`).

use crate::error::{Result, StreamError};
use crate::listener::{Bus, Event, QueryIdleEvent, QueryProgressEvent};
use crate::progress::QueryProgress;
use crate::source::CorruptRecord;
use serde::Serialize;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How many progress reports a handle keeps (Spark's `numRecentProgressUpdates`).
const RECENT_PROGRESS: usize = 100;

/// What the query is doing now (Spark's `StreamingQueryStatus`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryStatus {
    /// A short description, e.g. "Waiting for data to arrive".
    pub message: String,
    /// Whether the last look at the sources found new data.
    pub is_data_available: bool,
    /// Whether a trigger is running.
    pub is_trigger_active: bool,
}

#[derive(Default)]
pub(crate) struct State {
    pub status: Option<QueryStatus>,
    pub progress: VecDeque<QueryProgress>,
    pub error: Option<StreamError>,
    pub terminated: bool,
    pub stop_requested: bool,
    /// Planning rounds that found no new data (for `process_all_available`).
    pub idle_rounds: u64,
    pub corrupt: Vec<CorruptRecord>,
    /// Progress reports pushed so far (the list keeps the last 100).
    pub progress_count: u64,
    /// Counts every change, so that a watcher knows something changed.
    pub version: u64,
    /// Idle events posted so far, and the timestamp of the last (relayed to other processes).
    pub idle_events: u64,
    pub last_idle: String,
}

/// What a query tells beyond its handle: the session's listeners, and how often an idle query
/// says so.
#[derive(Clone)]
pub(crate) struct Hooks {
    pub bus: Arc<Bus>,
    /// Spark's `spark.sql.streaming.noDataProgressEventInterval`.
    pub idle_interval: Duration,
}

impl Default for Hooks {
    fn default() -> Self {
        Hooks {
            bus: Arc::default(),
            idle_interval: DEFAULT_IDLE_INTERVAL,
        }
    }
}

/// Spark's default `noDataProgressEventInterval`: 10 seconds.
pub(crate) const DEFAULT_IDLE_INTERVAL: Duration = Duration::from_secs(10);

/// State shared by the handle and the driver.
pub(crate) struct Shared {
    pub id: String,
    pub run_id: String,
    pub name: Option<String>,
    state: Mutex<State>,
    changed: Condvar,
    /// Set with the first error: every worker leaves the query at once.
    aborted: AtomicBool,
    /// The query runs on a cluster of processes.
    cluster: AtomicBool,
    pub hooks: Hooks,
}

impl Shared {
    /// The state of a query named `name`, whose id is `id` (a checkpoint's) or a new one,
    /// telling `hooks` what happens.
    pub fn with_hooks(id: Option<String>, name: Option<String>, hooks: Hooks) -> Arc<Shared> {
        Arc::new(Shared {
            hooks,
            id: id.unwrap_or_else(new_id),
            run_id: new_id(),
            name,
            state: Mutex::new(State {
                status: Some(QueryStatus {
                    message: "Initializing sources".into(),
                    is_data_available: false,
                    is_trigger_active: false,
                }),
                ..State::default()
            }),
            changed: Condvar::new(),
            aborted: AtomicBool::new(false),
            cluster: AtomicBool::new(false),
        })
    }

    /// Changes the state and wakes every waiter.
    pub fn update<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        let mut st = self.lock();
        let r = f(&mut st);
        st.version += 1;
        drop(st);
        self.changed.notify_all();
        r
    }

    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn push_progress(&self, p: QueryProgress) {
        self.update(|s| {
            if s.progress.len() == RECENT_PROGRESS {
                s.progress.pop_front();
            }
            if !self.hooks.bus.is_empty() {
                let event = QueryProgressEvent {
                    progress: p.clone(),
                };
                self.hooks.bus.post(Event::Progress(Arc::new(event)));
            }
            s.progress.push_back(p);
            s.progress_count += 1;
        });
    }

    /// Tells the listeners that the query is idle, waiting for data since `timestamp`.
    pub fn post_idle(&self, timestamp: String) {
        self.update(|s| {
            self.hooks.bus.post(Event::Idle(Arc::new(QueryIdleEvent {
                id: self.id.clone(),
                run_id: self.run_id.clone(),
                timestamp: timestamp.clone(),
            })));
            s.idle_events += 1;
            s.last_idle = timestamp;
        });
    }

    /// Records the first error (later ones are consequences) and ends the query: every worker
    /// leaves it at once.
    pub fn fail(&self, e: StreamError) {
        self.update(|s| {
            s.error.get_or_insert(e);
        });
        self.aborted.store(true, Ordering::SeqCst);
    }

    /// Records `e` as the error that ended the query, in place of any other (the hub of a
    /// cluster has the last word on how a query ended).
    pub fn replace_error(&self, e: StreamError) {
        self.update(|s| s.error = Some(e));
        self.aborted.store(true, Ordering::SeqCst);
    }

    /// The query runs on a cluster of processes.
    pub fn set_cluster(&self) {
        self.cluster.store(true, Ordering::SeqCst);
    }

    /// Whether the query runs on a cluster of processes.
    pub fn is_cluster(&self) -> bool {
        self.cluster.load(Ordering::SeqCst)
    }

    /// Whether the query failed (checked by workers while they wait).
    pub fn aborted(&self) -> bool {
        self.aborted.load(Ordering::Relaxed)
    }

    /// Waits until `done` holds or `timeout` passes; returns whether it holds.
    pub fn wait_for(&self, timeout: Option<Duration>, done: impl Fn(&State) -> bool) -> bool {
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut st = self.lock();
        loop {
            if done(&st) {
                return true;
            }
            match deadline {
                None => st = self.changed.wait(st).unwrap_or_else(|e| e.into_inner()),
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        return false;
                    }
                    st = self
                        .changed
                        .wait_timeout(st, d - now)
                        .unwrap_or_else(|e| e.into_inner())
                        .0;
                }
            }
        }
    }
}

/// A random 128-bit id in UUID text form (8-4-4-4-12 hex digits).
pub(crate) fn new_id() -> String {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut words = [0u64; 2];
    for w in &mut words {
        let mut h = RandomState::new().build_hasher();
        h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .as_nanos(),
        );
        *w = h.finish();
    }
    let x = (u128::from(words[0]) << 64) | u128::from(words[1]);
    let s = format!("{x:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &s[..8],
        &s[8..12],
        &s[12..16],
        &s[16..20],
        &s[20..]
    )
}

/// The handle of a running query. The handle `start()` returns owns the query: dropping it
/// stops the query. Handles from [`Session::streams`](crate::Session::streams) only look at it.
pub struct StreamingQuery {
    pub(crate) shared: Arc<Shared>,
    pub(crate) thread: Mutex<Option<std::thread::JoinHandle<()>>>,
    /// Whether dropping this handle stops the query.
    pub(crate) owner: bool,
}

impl StreamingQuery {
    /// The query's id.
    pub fn id(&self) -> &str {
        &self.shared.id
    }
    /// This run's id (new at every start).
    pub fn run_id(&self) -> &str {
        &self.shared.run_id
    }
    /// The query's name (`query_name`), if any.
    pub fn name(&self) -> Option<&str> {
        self.shared.name.as_deref()
    }
    /// What the query is doing now.
    pub fn status(&self) -> QueryStatus {
        let st = self.shared.lock();
        st.status.clone().unwrap_or(QueryStatus {
            message: "Stopped".into(),
            is_data_available: false,
            is_trigger_active: false,
        })
    }
    /// Whether the query is still running.
    pub fn is_active(&self) -> bool {
        !self.shared.lock().terminated
    }
    /// The last batch's progress report.
    pub fn last_progress(&self) -> Option<QueryProgress> {
        self.shared.lock().progress.back().cloned()
    }
    /// The last (up to 100) progress reports, oldest first.
    pub fn recent_progress(&self) -> Vec<QueryProgress> {
        self.shared.lock().progress.iter().cloned().collect()
    }
    /// The error that ended the query, if it failed.
    pub fn exception(&self) -> Option<StreamError> {
        self.shared.lock().error.clone()
    }
    /// Malformed records kept aside by sources in permissive mode (the last 1000).
    pub fn corrupt_records(&self) -> Vec<CorruptRecord> {
        self.shared.lock().corrupt.clone()
    }
    /// Blocks until the query ends; returns the error that ended it, if any.
    pub fn await_termination(&self) -> Result<()> {
        self.shared.wait_for(None, |s| s.terminated);
        self.join();
        self.result()
    }
    /// Blocks until the query ends or `timeout` passes; `Ok(true)` if it ended.
    pub fn await_termination_timeout(&self, timeout: Duration) -> Result<bool> {
        if self.shared.wait_for(Some(timeout), |s| s.terminated) {
            self.join();
            self.result().map(|_| true)
        } else {
            Ok(false)
        }
    }
    /// Blocks until all data available in the sources when called has been processed and
    /// committed (for tests), or the query ended.
    pub fn process_all_available(&self) -> Result<()> {
        // Two whole planning rounds that found nothing new, both begun after this call.
        let from = self.shared.lock().idle_rounds;
        self.shared
            .wait_for(None, |s| s.terminated || s.idle_rounds >= from + 2);
        self.result()
    }
    /// Stops the query (after the running batch) and waits for it to end.
    pub fn stop(&self) -> Result<()> {
        self.shared.update(|s| s.stop_requested = true);
        self.await_termination()
    }

    fn result(&self) -> Result<()> {
        match &self.shared.lock().error {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }

    fn join(&self) {
        if let Some(t) = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = t.join();
        }
    }
}

impl StreamingQuery {
    /// A handle on a query that does not own it (dropping it does not stop the query).
    pub(crate) fn view(shared: Arc<Shared>) -> StreamingQuery {
        StreamingQuery {
            shared,
            thread: Mutex::new(None),
            owner: false,
        }
    }
}

impl Drop for StreamingQuery {
    /// Dropping the handle `start()` returned stops the query, so that no worker threads
    /// outlive it.
    fn drop(&mut self) {
        if !self.owner {
            return;
        }
        self.shared.update(|s| s.stop_requested = true);
        self.join();
    }
}
