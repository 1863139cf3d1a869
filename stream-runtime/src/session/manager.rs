//! `StreamingQueryManager` (Spark's `spark.streams`): the queries a session started, waiting for
//! any of them to end, and the session's listeners.

use crate::error::{Result, StreamError};
use crate::handle::{Shared, StreamingQuery};
use crate::listener::{Bus, Event, ListenerId, QueryTerminatedEvent, StreamingQueryListener};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The queries of a session ([`Session::streams`](crate::Session::streams)); clones share
/// them.
#[derive(Clone, Default)]
pub struct StreamingQueryManager {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    /// The active queries (terminated ones are dropped as they end).
    queries: Mutex<Vec<Arc<Shared>>>,
    /// Spark's `lastTerminatedQueryException`: `None` until a query ends (or
    /// `reset_terminated`); then the error of the last query that failed, if any did.
    terminated: Mutex<Option<Option<StreamError>>>,
    changed: Condvar,
    bus: Arc<Bus>,
    /// The progress line's listener, once installed.
    console_progress: std::sync::OnceLock<ListenerId>,
    /// How many queries this session started on a cluster (each gets its own ports).
    cluster_queries: std::sync::atomic::AtomicUsize,
}

impl StreamingQueryManager {
    /// The active queries, as handles that do not own them (dropping one does not stop its
    /// query).
    pub fn active(&self) -> Vec<StreamingQuery> {
        self.queries()
            .iter()
            .map(|q| StreamingQuery::view(q.clone()))
            .collect()
    }

    /// The active query with id `id` (as [`StreamingQuery::id`]), if any.
    pub fn get(&self, id: &str) -> Option<StreamingQuery> {
        self.queries()
            .iter()
            .find(|q| q.id == id)
            .map(|q| StreamingQuery::view(q.clone()))
    }

    /// Blocks until any query of the session has terminated since the session was made or
    /// since [`reset_terminated`](Self::reset_terminated); returns the error of the last query
    /// that failed, if one did (Spark's `awaitAnyTermination`).
    pub fn await_any_termination(&self) -> Result<()> {
        self.await_any_termination_timeout(Duration::MAX)
            .map(|_| ())
    }

    /// As [`await_any_termination`](Self::await_any_termination), for at most `timeout`;
    /// `Ok(true)` if a query terminated.
    pub fn await_any_termination_timeout(&self, timeout: Duration) -> Result<bool> {
        let deadline = Instant::now().checked_add(timeout);
        let mut t = lock(&self.inner.terminated);
        loop {
            if let Some(error) = &*t {
                return match error {
                    Some(e) => Err(e.clone()),
                    None => Ok(true),
                };
            }
            let wait = match deadline {
                None => Duration::from_secs(3600),
                Some(d) => match d.checked_duration_since(Instant::now()) {
                    Some(left) if !left.is_zero() => left,
                    _ => return Ok(false),
                },
            };
            t = self
                .inner
                .changed
                .wait_timeout(t, wait)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Forgets the queries that terminated so far, so that
    /// [`await_any_termination`](Self::await_any_termination) waits for the next one.
    pub fn reset_terminated(&self) {
        *lock(&self.inner.terminated) = None;
    }

    /// Registers a listener of every query the session starts from now on.
    pub fn add_listener(&self, listener: impl StreamingQueryListener) -> ListenerId {
        self.inner.bus.add(Arc::new(listener))
    }

    /// Unregisters a listener; false if it was not registered.
    pub fn remove_listener(&self, id: ListenerId) -> bool {
        self.inner.bus.remove(id)
    }

    /// Adds the progress line on stderr (once per session).
    pub(crate) fn show_console_progress(&self) {
        self.inner
            .console_progress
            .get_or_init(|| self.add_listener(crate::listener::ConsoleProgress::stderr()));
    }

    pub(crate) fn bus(&self) -> Arc<Bus> {
        self.inner.bus.clone()
    }

    /// The active queries (terminated ones are forgotten).
    pub(crate) fn queries(&self) -> MutexGuard<'_, Vec<Arc<Shared>>> {
        let mut list = lock(&self.inner.queries);
        list.retain(|q| !q.lock().terminated);
        list
    }

    /// Query `q` ended: wake whoever waits for any query, and tell the listeners.
    pub(crate) fn terminated(&self, q: &Shared) {
        let error = q.lock().error.clone();
        lock(&self.inner.queries).retain(|other| !std::ptr::eq(&**other, q));
        {
            let mut t = lock(&self.inner.terminated);
            if t.is_none() || error.is_some() {
                *t = Some(error.clone());
            }
        }
        self.inner.changed.notify_all();
        let event = QueryTerminatedEvent::new(&q.id, &q.run_id, error.as_ref());
        self.inner.bus.post(Event::Terminated(Arc::new(event)));
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl std::fmt::Debug for StreamingQueryManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} active queries", self.queries().len())
    }
}

/// Sessions compare by their configuration.
impl StreamingQueryManager {
    /// The number of the next query started on a cluster: 0, 1, 2, … in start order, which is
    /// the same on every process (they run one program).
    pub(super) fn next_cluster_query(&self) -> usize {
        self.inner
            .cluster_queries
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }
}

impl PartialEq for StreamingQueryManager {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}
impl Eq for StreamingQueryManager {}
