//! `Session`: how many workers and processes run queries, from the command line
//! (`-w N`, `-n N -p I [-h hostfile]`), with the application's own arguments kept apart.

pub(crate) mod app;
mod args;
mod control;
mod manager;

pub use app::{AppFlags, MainResult, SessionParam};
pub use manager::StreamingQueryManager;

use crate::checkpoint::{self, Checkpoint};
use crate::dataflow;
use crate::driver;
use crate::driver::QueryRun;
use crate::error::{Result, StreamError};
use crate::handle::{Hooks, Shared, StreamingQuery, DEFAULT_IDLE_INTERVAL};
use crate::listener::{ListenerId, QueryStartedEvent, StreamingQueryListener};
use crate::plan::{DataStreamWriter, QueryDef};
use crate::state::{KeyGroups, DEFAULT_KEY_GROUPS};
use control::Control;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use stream_core::Record;
use timely::communication::WorkerGuards;

/// Where queries run: worker threads in this process, and optionally a cluster of processes.
/// Clones share the session's queries (a query name is unique among its active queries).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    workers: usize,
    processes: usize,
    process: usize,
    hostfile: Option<String>,
    app_args: Vec<String>,
    connect_timeout: Duration,
    idle_interval: Duration,
    /// Whether to show the progress line on stderr (`None`: when stderr is a terminal).
    console_progress: Option<bool>,
    queries: StreamingQueryManager,
    /// The web UI this session serves (`ui_port`), alive while a clone of the session is.
    #[cfg(feature = "ui")]
    ui: Option<crate::ui::Served>,
}

impl Default for Session {
    fn default() -> Self {
        Self::local()
    }
}

/// How long a process of a cluster waits for the others by default.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(60);

impl Session {
    /// One worker thread in this process.
    pub fn local() -> Session {
        Session {
            workers: 1,
            processes: 1,
            process: 0,
            hostfile: None,
            app_args: Vec::new(),
            connect_timeout: CONNECT_TIMEOUT,
            idle_interval: DEFAULT_IDLE_INTERVAL,
            console_progress: None,
            queries: StreamingQueryManager::default(),
            #[cfg(feature = "ui")]
            ui: None,
        }
    }

    /// `n` worker threads in this process.
    pub fn with_workers(n: usize) -> Session {
        Session {
            workers: n.max(1),
            ..Session::local()
        }
    }

    /// How long a process of a cluster waits for the others to come up (default 60 s); then
    /// its queries fail, naming the processes it was waiting for.
    pub fn connect_timeout(mut self, timeout: Duration) -> Session {
        self.connect_timeout = timeout;
        self
    }

    /// How often a query waiting for data tells the listeners so (`on_query_idle`; Spark's
    /// `spark.sql.streaming.noDataProgressEventInterval`, default 10 seconds).
    pub fn no_data_progress_event_interval(mut self, interval: Duration) -> Session {
        self.idle_interval = interval;
        self
    }

    /// Whether the session's queries show a live progress line on stderr (batches, rows, rate,
    /// watermark; see [`ConsoleProgress`](crate::listener::ConsoleProgress)). By default they
    /// do when stderr is a terminal.
    pub fn console_progress(mut self, show: bool) -> Session {
        self.console_progress = Some(show);
        self
    }

    /// Serves the live web UI and the Prometheus endpoint (`/metrics`) of this session's
    /// queries on `127.0.0.1:port` (0: any free port), for as long as a clone of the session
    /// lives; the command line's `--ui-port PORT` does the same. In a cluster, process 0
    /// serves it (the other processes ignore the option). Needs the `ui` feature; see
    /// [`Ui`](crate::ui::Ui).
    #[cfg(feature = "ui")]
    pub fn ui_port(mut self, port: u16) -> Result<Session> {
        if self.process == 0 {
            let ui = crate::ui::Ui::serve(&self, port)?;
            eprintln!("Structured Streaming UI at {}", ui.url());
            self.ui = Some(crate::ui::Served::new(ui));
        }
        Ok(self)
    }

    /// The URL of the web UI this session serves (see [`Session::ui_port`]), if any.
    #[cfg(feature = "ui")]
    pub fn ui_url(&self) -> Option<String> {
        self.ui.as_ref().map(|u| u.url())
    }

    /// The session's queries (Spark's `spark.streams`): the active ones, waiting for any to
    /// end, listeners.
    pub fn streams(&self) -> &StreamingQueryManager {
        &self.queries
    }

    /// Registers a listener of every query this session (and its clones) starts from now on
    /// (Spark's `spark.streams.addListener`).
    pub fn add_listener(&self, listener: impl StreamingQueryListener) -> ListenerId {
        self.queries.add_listener(listener)
    }

    /// Unregisters a listener; false if it was not registered.
    pub fn remove_listener(&self, id: ListenerId) -> bool {
        self.queries.remove_listener(id)
    }

    /// The command-line arguments that are not the engine's.
    pub fn app_args(&self) -> &[String] {
        &self.app_args
    }

    /// Worker threads per process.
    pub fn workers(&self) -> usize {
        self.workers
    }

    /// Number of processes.
    pub fn processes(&self) -> usize {
        self.processes
    }

    /// This process's index.
    pub fn process_index(&self) -> usize {
        self.process
    }

    /// The addresses the `k`-th query this session starts on a cluster listens on, process 0
    /// first: the host file's (or `localhost:2101`, ...) ports plus `k` times the number of
    /// processes. Empty for a single process. A program that runs its own timely dataflow
    /// beside the session's queries (as the Nexmark benchmark's hand-written baseline does)
    /// can take the slot of a query it does not start.
    pub fn query_addresses(&self, k: usize) -> Result<Vec<String>> {
        match self.layout()? {
            Layout::Local { .. } => Ok(Vec::new()),
            Layout::Cluster { addresses, .. } => args::query_ports(&addresses, k),
        }
    }

    fn layout(&self) -> Result<Layout> {
        if self.processes == 1 {
            return Ok(Layout::Local {
                threads: self.workers,
            });
        }
        let addresses = match &self.hostfile {
            None => (0..self.processes)
                .map(|i| format!("localhost:{}", 2101 + i))
                .collect(),
            Some(file) => {
                let text = std::fs::read_to_string(file).map_err(|e| {
                    StreamError::Config(format!("cannot read host file `{file}`: {e}"))
                })?;
                let hosts: Vec<String> = text
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty() && !l.starts_with('#'))
                    .enumerate()
                    .map(|(i, l)| args::address(l, i))
                    .collect();
                if hosts.len() < self.processes {
                    return Err(StreamError::Config(format!(
                        "host file `{file}` lists {} addresses, but -n is {}",
                        hosts.len(),
                        self.processes
                    )));
                }
                hosts[..self.processes].to_vec()
            }
        };
        Ok(Layout::Cluster {
            threads: self.workers,
            process: self.process,
            addresses,
            timeout: self.connect_timeout,
        })
    }

    /// Checks and starts a query; returns its handle at once.
    pub fn start<T: Record>(&self, writer: DataStreamWriter<T>) -> Result<StreamingQuery> {
        writer.check()?;
        let mut layout = self.layout()?;
        if let Layout::Cluster { addresses, .. } = &mut layout {
            *addresses = args::query_ports(addresses, self.queries.next_cluster_query())?;
        }
        let mut active = self.queries.queries();
        if let Some(name) = &writer.name {
            if active.iter().any(|q| q.name.as_ref() == Some(name)) {
                return Err(StreamError::Analysis(format!(
                    "Cannot start query with name {name} as a query with that name is already \
                     active in this session; stop it first, or choose another query_name"
                )));
            }
        }
        let name = writer.name.clone();
        if self
            .console_progress
            .unwrap_or_else(|| std::io::IsTerminal::is_terminal(&std::io::stderr()))
        {
            self.queries.show_console_progress();
        }
        let def = writer.into_def();
        let (run, id) = self.open_checkpoint(&def)?;
        let hooks = Hooks {
            bus: self.queries.bus(),
            idle_interval: self.idle_interval,
        };
        let shared = Shared::with_hooks(id, name, hooks);
        active.push(shared.clone());
        drop(active);
        // Spark's `onQueryStarted` is called before `start()` returns, and before any other
        // event of the query.
        shared.hooks.bus.started(&QueryStartedEvent {
            id: shared.id.clone(),
            run_id: shared.run_id.clone(),
            name: shared.name.clone(),
            timestamp: crate::progress::iso_utc(crate::progress::now_ms()),
        });
        let manager = self.queries.clone();
        let def = Arc::new(def);
        let run = Arc::new(run);
        let sh = shared.clone();
        let thread = std::thread::Builder::new()
            .name("stream-query".into())
            .spawn(move || {
                let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    run_query(layout, def, run, &sh)
                }));
                if run.is_err() {
                    sh.fail(StreamError::Execution(
                        "the query's thread panicked while running the workers".into(),
                    ));
                }
                sh.update(|s| {
                    s.terminated = true;
                    s.status = None;
                });
                manager.terminated(&sh);
            })
            .map_err(|e| {
                shared.update(|s| s.terminated = true);
                self.queries.terminated(&shared);
                StreamError::Execution(format!("could not spawn the query thread: {e}"))
            })?;
        Ok(StreamingQuery {
            shared,
            thread: Mutex::new(Some(thread)),
            owner: true,
        })
    }
}

impl Session {
    /// Opens the query's checkpoint, if it has one: process 0 locks it and creates it on first
    /// start; the other processes read where to resume (waiting for process 0 to create it).
    fn open_checkpoint<T>(&self, def: &QueryDef<T>) -> Result<(QueryRun, Option<String>)> {
        let Some(dir) = &def.checkpoint else {
            return Ok((QueryRun::default(), None));
        };
        let conf = [
            (
                WATERMARK_POLICY.to_string(),
                def.watermark_policy.name().to_string(),
            ),
            (KEY_GROUPS.to_string(), DEFAULT_KEY_GROUPS.to_string()),
        ]
        .into();
        let hub = self.process == 0;
        let deadline = std::time::Instant::now() + self.connect_timeout;
        let (checkpoint, recovery) = loop {
            match Checkpoint::open(dir, def.sources.len(), BTreeMap::clone(&conf), hub) {
                Err(e) if !hub && std::time::Instant::now() < deadline => {
                    let _ = e;
                    std::thread::sleep(Duration::from_millis(50));
                }
                other => break other?,
            }
        };
        let id = Some(checkpoint.query_id.clone());
        let groups = match recovery.conf.get(KEY_GROUPS).map(|g| g.parse::<u32>()) {
            None => KeyGroups::default(),
            Some(Ok(count)) if count > 0 => KeyGroups { count },
            Some(_) => {
                return Err(StreamError::Checkpoint(format!(
                    "the checkpoint `{}` records an invalid number of key groups: {:?}",
                    dir.display(),
                    recovery.conf.get(KEY_GROUPS)
                )))
            }
        };
        // Before any data is read: the query may have changed since the checkpoint's last run.
        if hub {
            checkpoint::check_and_record(dir, &def.description(groups.count))?;
        }
        let run = QueryRun {
            state_dir: Some(checkpoint.state_dir()),
            checkpoint: Mutex::new(hub.then_some(checkpoint)),
            recovery,
            groups,
        };
        Ok((run, id))
    }
}

/// The frozen setting of how many key groups the state has.
pub(crate) const KEY_GROUPS: &str = "stream.stateKeyGroups";

/// The frozen setting of how several watermarks combine (Spark's name).
pub(crate) const WATERMARK_POLICY: &str = "spark.sql.streaming.multipleWatermarkPolicy";

/// How the workers of a query are laid out.
enum Layout {
    /// `threads` workers in this process.
    Local { threads: usize },
    /// `threads` workers in each of the processes at `addresses`; this one is `process`; it
    /// waits `timeout` for the others.
    Cluster {
        threads: usize,
        process: usize,
        addresses: Vec<String>,
        timeout: Duration,
    },
}

/// Runs the query on this process's workers until it ends (on a cluster, with the control
/// plane keeping the processes one query).
fn run_query<T: Record>(
    layout: Layout,
    def: Arc<QueryDef<T>>,
    run: Arc<QueryRun>,
    shared: &Arc<Shared>,
) {
    let shape = def.shape();
    let worker_shared = shared.clone();
    let work =
        move |worker: &mut dataflow::Worker| driver::run_worker(worker, &def, &worker_shared, &run);
    match layout {
        Layout::Local { threads } => join(dataflow::execute_local(threads, work), shared),
        Layout::Cluster {
            threads,
            process,
            addresses,
            timeout,
        } => {
            let connections = match dataflow::connect(&addresses, process, timeout) {
                Ok(c) => c,
                Err(e) => return shared.fail(StreamError::Execution(e)),
            };
            shared.set_cluster();
            let control = match Control::start(
                process,
                &addresses,
                connections.control,
                shared.clone(),
                &shape,
                timeout,
            ) {
                Ok(c) => c,
                Err(e) => return shared.fail(e),
            };
            join(
                dataflow::execute_cluster(threads, process, connections.data, work),
                shared,
            );
            control.finish();
        }
    }
}

/// Waits for the workers to end. A worker thread that died (its panic is caught in the worker,
/// so this is the engine's own failure, e.g. a broken connection's) fails the query.
fn join(workers: std::result::Result<WorkerGuards<()>, String>, shared: &Shared) {
    match workers {
        Ok(guards) => {
            // Dropping timely's guards joins its network threads, which panic when a
            // connection broke: that is the failure the query already reports.
            let joined = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| guards.join()));
            for r in joined.unwrap_or_default() {
                if let Err(e) = r {
                    shared.fail(StreamError::Execution(format!("a worker failed: {e}")));
                }
            }
        }
        Err(e) => shared.fail(StreamError::Execution(format!(
            "could not start the workers: {e}"
        ))),
    }
}

impl<T: Record> DataStreamWriter<T> {
    /// Starts the query on one worker thread in this process. Use [`Session::start`] for more
    /// workers or processes.
    pub fn start(self) -> Result<StreamingQuery> {
        Session::local().start(self)
    }
}
