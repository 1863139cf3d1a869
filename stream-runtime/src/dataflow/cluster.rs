//! Starting timely workers: threads in this process, or a cluster of processes.
//!
//! For a cluster we connect the processes ourselves (the same handshake as timely's: a
//! connecting process sends its index as a big-endian `u64`) instead of letting timely do it,
//! because timely prints its connection progress to standard output, which belongs to the
//! application (e.g. the JSON lines of `wordcount`). Connection problems go to standard error.

use super::Worker;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};
use timely::communication::allocator::zero_copy::initialize::initialize_networking_from_sockets;
use timely::communication::allocator::{AllocatorBuilder, ProcessBuilder};
use timely::communication::Hooks;
use timely::communication::WorkerGuards;
use timely::execute::execute_from;
use timely::WorkerConfig;

/// How the workers of a query are laid out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Layout {
    /// `threads` workers in this process.
    Local { threads: usize },
    /// `threads` workers in each of the processes at `addresses`; this one is `process`.
    Cluster {
        threads: usize,
        process: usize,
        addresses: Vec<String>,
    },
}

/// Merge effort per scheduling of an idle arrangement.
const IDLE_MERGE_EFFORT: isize = 1000;

/// How long a process waits for the others to come up.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(60);

/// Runs `func` on every worker of this process.
pub(crate) fn execute<T, F>(layout: Layout, func: F) -> Result<WorkerGuards<T>, String>
where
    T: Send + 'static,
    F: Fn(&mut Worker) -> T + Send + Sync + 'static,
{
    // Arrangements keep merging while input is idle, so that retracted state is released
    // without waiting for new data (docs/time-model.md, lessons learned).
    let mut worker = WorkerConfig::default();
    differential_dataflow::configure(
        &mut worker,
        &differential_dataflow::Config::default().idle_merge_effort(Some(IDLE_MERGE_EFFORT)),
    );
    match layout {
        Layout::Local { threads } => {
            let communication = if threads == 1 {
                timely::CommunicationConfig::Thread
            } else {
                timely::CommunicationConfig::Process(threads)
            };
            let config = timely::Config {
                communication,
                worker,
            };
            timely::execute(config, func)
        }
        Layout::Cluster {
            threads,
            process,
            addresses,
        } => {
            let sockets = connect(&addresses, process).map_err(|e| {
                format!("could not connect process {process} to the cluster {addresses:?}: {e}")
            })?;
            let hooks = Hooks::default();
            let local = ProcessBuilder::new_typed_vector(
                threads,
                hooks.refill.clone(),
                hooks.spill.clone(),
            );
            let (builders, guard) =
                initialize_networking_from_sockets(local, sockets, process, threads, hooks)
                    .map_err(|e| format!("failed to initialize networking: {e}"))?;
            let builders = builders.into_iter().map(AllocatorBuilder::Tcp).collect();
            execute_from(builders, Box::new(guard), worker, func)
        }
    }
}

/// One socket per other process (`None` for this one): this process connects to the lower
/// indexes and accepts the higher ones.
fn connect(addresses: &[String], me: usize) -> std::io::Result<Vec<Option<TcpStream>>> {
    let deadline = Instant::now() + CONNECT_TIMEOUT;
    let listener = TcpListener::bind(&addresses[me])?;
    let mut sockets: Vec<Option<TcpStream>> = (0..addresses.len()).map(|_| None).collect();
    for (index, address) in addresses.iter().enumerate().take(me) {
        let mut reported = false;
        let mut stream = loop {
            match TcpStream::connect(address) {
                Ok(s) => break s,
                Err(e) if Instant::now() < deadline => {
                    if !reported {
                        eprintln!("process {me}: waiting for process {index} at {address} ({e})");
                        reported = true;
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(e) => return Err(e),
            }
        };
        stream.set_nodelay(true)?;
        stream.write_all(&(me as u64).to_be_bytes())?;
        sockets[index] = Some(stream);
    }
    listener.set_nonblocking(true)?;
    while sockets.iter().skip(me + 1).any(Option::is_none) {
        match listener.accept() {
            Ok((mut stream, _)) => {
                stream.set_nonblocking(false)?;
                stream.set_nodelay(true)?;
                let mut index = [0u8; 8];
                stream.read_exact(&mut index)?;
                let index = u64::from_be_bytes(index) as usize;
                if index <= me || index >= addresses.len() || sockets[index].is_some() {
                    return Err(std::io::Error::other(format!(
                        "unexpected connection claiming to be process {index}"
                    )));
                }
                sockets[index] = Some(stream);
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if Instant::now() >= deadline {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "the other processes did not connect in time",
                    ));
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => return Err(e),
        }
    }
    Ok(sockets)
}
