//! Starting timely workers: threads in this process, or a cluster of processes.
//!
//! For a cluster we connect the processes ourselves (the same handshake as timely's: a
//! connecting process sends its index as a big-endian `u64`) instead of letting timely do it,
//! because timely prints its connection progress to standard output, which belongs to the
//! application (e.g. the JSON lines of `wordcount`), and waits forever for a process that never
//! comes. The same handshake also opens each process's control connection to process 0 (its
//! index with the top bit set), which the session uses to run the query as one across processes
//! (`session/control.rs`).

use super::Worker;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};
use timely::communication::allocator::zero_copy::initialize::initialize_networking_from_sockets;
use timely::communication::allocator::{AllocatorBuilder, ProcessBuilder};
use timely::communication::Hooks;
use timely::communication::WorkerGuards;
use timely::execute::execute_from;
use timely::WorkerConfig;

/// Merge effort per scheduling of an idle arrangement.
const IDLE_MERGE_EFFORT: isize = 1000;

/// The first word a control connection sends: its process index with this bit set.
const CONTROL: u64 = 1 << 63;

/// This process's connections to the others of a cluster.
pub(crate) struct Connections {
    /// One data socket per other process (`None` for this one), for timely.
    pub data: Vec<Option<TcpStream>>,
    /// Control sockets: on process 0, one per other process; elsewhere, one to process 0 (at
    /// index 0).
    pub control: Vec<Option<TcpStream>>,
}

/// Connects process `me` to the others at `addresses`: it connects to the lower indexes (and
/// to process 0 for control) and accepts the higher ones. Fails after `timeout`, naming the
/// processes it was waiting for.
pub(crate) fn connect(
    addresses: &[String],
    me: usize,
    timeout: Duration,
) -> Result<Connections, String> {
    let deadline = Instant::now() + timeout;
    let n = addresses.len();
    let listener = TcpListener::bind(&addresses[me]).map_err(|e| {
        format!(
            "process {me} cannot listen on {}: {e} (is another process using the port?)",
            addresses[me]
        )
    })?;
    let mut data: Vec<Option<TcpStream>> = (0..n).map(|_| None).collect();
    let mut control: Vec<Option<TcpStream>> = (0..n).map(|_| None).collect();
    let waiting_for = |index: usize, e: &dyn std::fmt::Display| {
        format!(
            "process {me} could not reach process {index} at {} within {timeout:?}: {e} (is \
             it started, with the same host file?)",
            addresses[index]
        )
    };
    for index in 0..me {
        let stream =
            dial(&addresses[index], deadline, me as u64).map_err(|e| waiting_for(index, &e))?;
        data[index] = Some(stream);
    }
    if me > 0 {
        let stream =
            dial(&addresses[0], deadline, me as u64 | CONTROL).map_err(|e| waiting_for(0, &e))?;
        control[0] = Some(stream);
    }
    listener.set_nonblocking(true).map_err(|e| e.to_string())?;
    let expected = |data: &[Option<TcpStream>], control: &[Option<TcpStream>]| -> Vec<usize> {
        (0..n)
            .filter(|&i| {
                (i > me && data[i].is_none()) || (me == 0 && i > 0 && control[i].is_none())
            })
            .collect()
    };
    loop {
        let missing = expected(&data, &control);
        if missing.is_empty() {
            break;
        }
        match listener.accept() {
            Ok((mut stream, _)) => {
                let word = handshake(&mut stream).map_err(|e| e.to_string())?;
                let index = (word & !CONTROL) as usize;
                let slot = if word & CONTROL != 0 {
                    &mut control
                } else {
                    &mut data
                };
                if index >= n || index == me || slot[index].is_some() {
                    return Err(format!(
                        "process {me} got an unexpected connection claiming to be process {index}"
                    ));
                }
                slot[index] = Some(stream);
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if Instant::now() >= deadline {
                    let names: Vec<String> = missing
                        .iter()
                        .map(|&i| format!("process {i} at {}", addresses[i]))
                        .collect();
                    return Err(format!(
                        "process {me} waited {timeout:?} for {}, which did not connect (is it \
                         started, with the same host file?)",
                        names.join(", ")
                    ));
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => return Err(e.to_string()),
        }
    }
    Ok(Connections { data, control })
}

/// Connects to `address` until `deadline`, then sends `word`.
fn dial(address: &str, deadline: Instant, word: u64) -> std::io::Result<TcpStream> {
    let addr = address
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| std::io::Error::other("the address resolves to nothing"))?;
    let mut stream = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match TcpStream::connect_timeout(&addr, left.max(Duration::from_millis(1))) {
            Ok(s) => break s,
            Err(e) if Instant::now() < deadline => {
                let _ = e;
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => return Err(e),
        }
    };
    stream.set_nodelay(true)?;
    stream.write_all(&word.to_be_bytes())?;
    Ok(stream)
}

/// Reads the first word of an accepted connection.
fn handshake(stream: &mut TcpStream) -> std::io::Result<u64> {
    stream.set_nonblocking(false)?;
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut word = [0u8; 8];
    stream.read_exact(&mut word)?;
    stream.set_read_timeout(None)?;
    Ok(u64::from_be_bytes(word))
}

/// The worker configuration every query runs with.
fn worker_config() -> WorkerConfig {
    // Arrangements keep merging while input is idle, so that retracted state is released
    // without waiting for new data (docs/time-model.md, lessons learned).
    let mut worker = WorkerConfig::default();
    differential_dataflow::configure(
        &mut worker,
        &differential_dataflow::Config::default().idle_merge_effort(Some(IDLE_MERGE_EFFORT)),
    );
    worker
}

/// Runs `func` on `threads` workers in this process.
pub(crate) fn execute_local<T, F>(threads: usize, func: F) -> Result<WorkerGuards<T>, String>
where
    T: Send + 'static,
    F: Fn(&mut Worker) -> T + Send + Sync + 'static,
{
    let communication = if threads == 1 {
        timely::CommunicationConfig::Thread
    } else {
        timely::CommunicationConfig::Process(threads)
    };
    let config = timely::Config {
        communication,
        worker: worker_config(),
    };
    timely::execute(config, func)
}

/// Runs `func` on `threads` workers in this process, as process `process` of a cluster whose
/// processes are connected by `sockets` (see [`connect`]).
pub(crate) fn execute_cluster<T, F>(
    threads: usize,
    process: usize,
    sockets: Vec<Option<TcpStream>>,
    func: F,
) -> Result<WorkerGuards<T>, String>
where
    T: Send + 'static,
    F: Fn(&mut Worker) -> T + Send + Sync + 'static,
{
    let hooks = Hooks::default();
    let local =
        ProcessBuilder::new_typed_vector(threads, hooks.refill.clone(), hooks.spill.clone());
    let (builders, guard) =
        initialize_networking_from_sockets(local, sockets, process, threads, hooks)
            .map_err(|e| format!("failed to initialize networking: {e}"))?;
    let builders = builders.into_iter().map(AllocatorBuilder::Tcp).collect();
    execute_from(builders, Box::new(guard), worker_config(), func)
}
