//! The control plane of a query across processes: one TCP connection from every process to
//! process 0 (the hub, which runs the driver), beside timely's data connections.
//!
//! It makes the processes one query: before the first batch, the hub checks that every process
//! built the same query; then the hub sends its progress, status and planning rounds to every
//! other process (so `last_progress` and `process_all_available` work everywhere), a process's
//! `stop()` or failure goes to the hub, a failure anywhere reaches every process at once (each
//! leaves the query), and when the query ends the hub tells every process how (so every handle
//! reports the same end). A connection that breaks, or stays silent past a timeout, is a lost
//! process: the query fails everywhere, naming it.
//!
//! Messages are JSON lines. Timely's own connections are not used, because a failure may have
//! broken them.

use crate::error::StreamError;
use crate::handle::{QueryStatus, Shared};
use crate::progress::QueryProgress;
use serde::{Deserialize, Serialize};
use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How often a process says it is alive when it has nothing else to say.
const HEARTBEAT: Duration = Duration::from_millis(500);
/// How long a silent connection counts as alive.
const SILENCE: Duration = Duration::from_secs(30);
/// How long a process waits for the hub's word on how the query ended, after its workers did.
const END_WAIT: Duration = Duration::from_secs(10);
/// How often a blocked read looks at its deadline.
const POLL: Duration = Duration::from_millis(200);

/// What the processes tell each other.
#[derive(Debug, Serialize, Deserialize)]
enum Msg {
    /// A process built this query (to the hub, before the first batch).
    Hello { process: usize, query: String },
    /// The hub's answer to `Hello`: start, or why not.
    Verdict { error: Option<StreamError> },
    /// A progress report of the driver.
    Progress(Box<QueryProgress>),
    /// The driver's status.
    Status(Option<QueryStatus>),
    /// The driver's count of planning rounds that found no new data.
    Idle(u64),
    /// The driver told its listeners the query is idle, at this timestamp.
    IdleEvent(String),
    /// Stop the query (a `stop()` on a process other than the hub).
    Stop,
    /// The query failed on the sender's side.
    Failed(StreamError),
    /// The query ended, with this error if it failed (the hub's last word).
    Ended { error: Option<StreamError> },
    /// Nothing new.
    Heartbeat,
}

/// One connection to another process.
struct Link {
    process: usize,
    address: String,
    writer: Mutex<TcpStream>,
}

impl Link {
    fn send(&self, msg: &Msg) -> std::io::Result<()> {
        let mut line = serde_json::to_vec(msg).expect("control messages serialize");
        line.push(b'\n');
        let mut w = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        w.write_all(&line)?;
        w.flush()
    }

    fn lost(&self, why: &str) -> StreamError {
        StreamError::Execution(format!(
            "lost process {} at {}: {why} (the process died, was killed, or the network failed)",
            self.process, self.address
        ))
    }
}

/// A process's control plane, running while its workers run the query.
pub(crate) struct Control {
    links: Vec<Arc<Link>>,
    hub: bool,
    shared: Arc<Shared>,
    /// The query has ended here: broken connections are no longer failures.
    ending: Arc<AtomicBool>,
    /// On a process other than the hub: how the hub said the query ended.
    ended: Arc<Mutex<Option<Option<StreamError>>>>,
}

impl Control {
    /// Starts process `me`'s control plane over `sockets` (from `dataflow::connect`), for the
    /// query `shared`, whose shape is `query`. Returns once every process has built the same
    /// query (or with the error saying they did not).
    pub fn start(
        me: usize,
        addresses: &[String],
        sockets: Vec<Option<TcpStream>>,
        shared: Arc<Shared>,
        query: &str,
        timeout: Duration,
    ) -> Result<Control, StreamError> {
        let io = |e: std::io::Error| StreamError::Execution(format!("control connection: {e}"));
        let mut links = Vec::new();
        let mut readers = Vec::new();
        for (process, socket) in sockets.into_iter().enumerate() {
            let Some(socket) = socket else { continue };
            // Reads wake up now and then to look at their deadlines.
            socket.set_read_timeout(Some(POLL)).map_err(io)?;
            readers.push(BufReader::new(socket.try_clone().map_err(io)?));
            links.push(Arc::new(Link {
                process,
                address: addresses[process].clone(),
                writer: Mutex::new(socket),
            }));
        }
        let hub = me == 0;
        // Every process built the same query?
        let deadline = Instant::now() + timeout;
        if hub {
            let mut differ = Vec::new();
            for (link, reader) in links.iter().zip(readers.iter_mut()) {
                match read(reader, deadline) {
                    Ok(Msg::Hello { process, query: q }) if q != query => {
                        differ.push(format!("process {process} built {q}"))
                    }
                    Ok(Msg::Hello { .. }) => {}
                    Ok(other) => return Err(link.lost(&format!("it said {other:?} first"))),
                    Err(e) => return Err(link.lost(&e)),
                }
            }
            let error = (!differ.is_empty()).then(|| {
                StreamError::Analysis(format!(
                    "the processes built different queries: process 0 built {query}, {}; every \
                     process must build the same query (the same sources and operators, in the \
                     same order)",
                    differ.join(", ")
                ))
            });
            for link in &links {
                link.send(&Msg::Verdict {
                    error: error.clone(),
                })
                .map_err(|e| link.lost(&e.to_string()))?;
            }
            if let Some(e) = error {
                return Err(e);
            }
        } else {
            let link = &links[0];
            link.send(&Msg::Hello {
                process: me,
                query: query.to_string(),
            })
            .map_err(|e| link.lost(&e.to_string()))?;
            match read(&mut readers[0], deadline) {
                Ok(Msg::Verdict { error: None }) => {}
                Ok(Msg::Verdict { error: Some(e) }) => return Err(e),
                Ok(other) => return Err(link.lost(&format!("it said {other:?} first"))),
                Err(e) => return Err(link.lost(&e)),
            }
        }
        let control = Control {
            links,
            hub,
            shared,
            ending: Arc::default(),
            ended: Arc::default(),
        };
        for (link, reader) in control.links.iter().zip(readers) {
            control.spawn_reader(link.clone(), reader);
        }
        control.spawn_writer();
        Ok(control)
    }

    /// Reads what `link` says, and applies it to this process's query.
    fn spawn_reader(&self, link: Arc<Link>, mut reader: BufReader<TcpStream>) {
        let (shared, ending, ended) =
            (self.shared.clone(), self.ending.clone(), self.ended.clone());
        let hub = self.hub;
        std::thread::spawn(move || loop {
            let msg = match read(&mut reader, Instant::now() + SILENCE) {
                Ok(m) => m,
                Err(e) => {
                    if !ending.load(Ordering::SeqCst) {
                        let lost = link.lost(&e);
                        shared.fail(lost.clone());
                        if !hub {
                            *ended.lock().unwrap() = Some(Some(lost));
                            shared.update(|_| {});
                        }
                    }
                    return;
                }
            };
            match msg {
                Msg::Progress(p) => shared.push_progress(*p),
                Msg::Status(status) => shared.update(|s| s.status = status),
                Msg::Idle(n) => shared.update(|s| s.idle_rounds = s.idle_rounds.max(n)),
                Msg::IdleEvent(timestamp) => shared.post_idle(timestamp),
                Msg::Stop => shared.update(|s| s.stop_requested = true),
                Msg::Failed(e) => shared.fail(e),
                Msg::Ended { error } => {
                    // The hub's account of how the query ended is every process's.
                    if let Some(e) = &error {
                        shared.replace_error(e.clone());
                    }
                    *ended.lock().unwrap() = Some(error);
                    shared.update(|_| {});
                    return;
                }
                Msg::Heartbeat | Msg::Hello { .. } | Msg::Verdict { .. } => {}
            }
        });
    }

    /// Sends this process's news: on the hub, the driver's progress, status, planning rounds
    /// and failure to every process; elsewhere, a `stop()` or a failure to the hub.
    fn spawn_writer(&self) {
        let (links, shared, ending, hub) = (
            self.links.clone(),
            self.shared.clone(),
            self.ending.clone(),
            self.hub,
        );
        std::thread::spawn(move || {
            let (mut version, mut sent_progress, mut status, mut idle) = (0, 0, None, 0);
            let mut idle_events = 0;
            let (mut stop_sent, mut failure_sent) = (false, false);
            while !ending.load(Ordering::SeqCst) {
                shared.wait_for(Some(HEARTBEAT), |s| s.version != version);
                let mut news = Vec::new();
                {
                    let st = shared.lock();
                    version = st.version;
                    if let (Some(e), false) = (&st.error, failure_sent) {
                        news.push(Msg::Failed(e.clone()));
                        failure_sent = true;
                    }
                    if hub {
                        let new = (st.progress_count - sent_progress) as usize;
                        let skip = st.progress.len().saturating_sub(new);
                        for p in st.progress.iter().skip(skip) {
                            news.push(Msg::Progress(Box::new(p.clone())));
                        }
                        sent_progress = st.progress_count;
                        if st.status != status {
                            status = st.status.clone();
                            news.push(Msg::Status(status.clone()));
                        }
                        if st.idle_rounds != idle {
                            idle = st.idle_rounds;
                            news.push(Msg::Idle(idle));
                        }
                        if st.idle_events != idle_events {
                            idle_events = st.idle_events;
                            news.push(Msg::IdleEvent(st.last_idle.clone()));
                        }
                    } else if st.stop_requested && !stop_sent {
                        news.push(Msg::Stop);
                        stop_sent = true;
                    }
                }
                if news.is_empty() {
                    news.push(Msg::Heartbeat);
                }
                for link in &links {
                    for msg in &news {
                        // A broken connection is reported by its reader.
                        if link.send(msg).is_err() {
                            break;
                        }
                    }
                }
            }
        });
    }

    /// The workers here have left the query: on the hub, tell every process how it ended; on
    /// another process, wait for the hub to say so (the error, if any, is then this process's
    /// too).
    pub fn finish(self) {
        if self.hub {
            let error = self.shared.lock().error.clone();
            self.ending.store(true, Ordering::SeqCst);
            for link in &self.links {
                let _ = link.send(&Msg::Ended {
                    error: error.clone(),
                });
            }
        } else {
            let ended = self.ended.clone();
            self.shared
                .wait_for(Some(END_WAIT), |_| ended.lock().unwrap().is_some());
            self.ending.store(true, Ordering::SeqCst);
            if self.ended.lock().unwrap().is_none() {
                self.shared
                    .fail(self.links[0].lost("it did not say how the query ended"));
            }
        }
        for link in &self.links {
            let _ = link.writer.lock().unwrap().shutdown(Shutdown::Write);
        }
    }
}

/// Reads one message, waiting until `deadline`.
fn read(reader: &mut BufReader<TcpStream>, deadline: Instant) -> Result<Msg, String> {
    let mut line = String::new();
    loop {
        match reader.read_line(&mut line) {
            Ok(0) => return Err("the connection closed".into()),
            Ok(_) => {
                return serde_json::from_str(line.trim_end())
                    .map_err(|e| format!("unreadable message ({e}): {line}"))
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                if Instant::now() >= deadline {
                    return Err(format!("no word from it for {SILENCE:?}"));
                }
            }
            Err(e) => return Err(e.to_string()),
        }
    }
}
