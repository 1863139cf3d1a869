//! The benchmark on several processes (`-n N`): who starts them, where each writes its rows,
//! what the summary line counts, and the baseline engine's timely cluster.
//!
//! - Without `-p`, the command is process 0 and starts processes 1..N-1 itself, on this
//!   machine: the same program and arguments plus `-p i`. It watches them (a process that
//!   fails ends the run with an error), and they watch it (their standard input is a pipe from
//!   it: at its end they exit). With `-p`, every process is started by hand (several machines,
//!   with a host file `-h`), and each prints its own summary line.
//! - The Nexmark generator is split into as many sub-generators as there are workers in all
//!   processes, each worker reading its share (as the runtime's sources split a batch), so a
//!   run's events depend on the total number of workers only: `-n 2 -w 1` reads the events of
//!   `-n 1 -w 2`.
//! - `--output FILE`: process `i > 0` writes its rows to `FILE.i`; when process 0 started
//!   them, it appends those files to `FILE` after the run (outside the timing) and removes them.
//! - The summary line on process 0 covers the processes it started: `cpu_s` and `peak_rss_mb`
//!   are their sums, and `cpu_s_per_process` / `peak_rss_mb_per_process` list each process's.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use stream_runtime::Session;
use timely::communication::allocator::zero_copy::initialize::initialize_networking_from_sockets;
use timely::communication::allocator::{AllocatorBuilder, ProcessBuilder};
use timely::communication::{Hooks, WorkerGuards};
use timely::worker::Worker;

/// Set in the environment of the processes that process 0 starts.
const STARTED_BY: &str = "NEXMARK_STARTED_BY_PROCESS_0";

/// How long the baseline's processes wait for each other (the session's default too).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(60);

/// This process's place among the run's processes, and the ones it started.
pub struct Processes {
    /// Processes in the run.
    pub count: usize,
    /// This process's index.
    pub index: usize,
    /// Worker threads per process.
    pub threads: usize,
    /// Where the baseline's processes listen: the host file's addresses (those of the
    /// session's first query, which a baseline run does not start).
    addresses: Vec<String>,
    /// The processes this one started (process 0 without `-p`), with their standard inputs,
    /// held open until they have ended.
    children: Arc<Mutex<Vec<Started>>>,
    /// Tells the watcher of the children to stop.
    finished: Arc<AtomicBool>,
    watcher: Option<std::thread::JoinHandle<()>>,
}

/// A process that process 0 started: its index, the child, and its standard input, held open
/// until it has ended.
type Started = (usize, Child, Option<ChildStdin>);

/// What another process's summary line reported.
pub struct Report {
    /// Its user + system CPU seconds.
    pub cpu_s: f64,
    /// Its peak resident set size, MiB.
    pub peak_rss_mb: f64,
    /// The result rows it delivered.
    pub rows: u64,
}

impl Processes {
    /// This process's place; process 0 started without `-p` starts the others here.
    pub fn start(session: &Session) -> Result<Processes, String> {
        let mut procs = Processes {
            count: session.processes(),
            index: session.process_index(),
            threads: session.workers(),
            addresses: session.query_addresses(0).map_err(|e| e.to_string())?,
            children: Arc::default(),
            finished: Arc::default(),
            watcher: None,
        };
        if std::env::var_os(STARTED_BY).is_some() {
            exit_with_process_0();
        }
        let by_hand = std::env::args()
            .skip(1)
            .any(|a| a == "-p" || a == "--process" || a.starts_with("--process="));
        if procs.count > 1 && procs.index == 0 && !by_hand {
            procs.spawn_others()?;
        }
        Ok(procs)
    }

    /// Worker threads in all processes (the Nexmark generator's `num_generators`).
    pub fn total_workers(&self) -> usize {
        self.count * self.threads
    }

    /// Where this process writes its result rows: `FILE` on process 0, `FILE.i` on process i.
    pub fn output_path(&self, path: &Path) -> PathBuf {
        part_path(path, self.index)
    }

    fn spawn_others(&mut self) -> Result<(), String> {
        let exe = std::env::current_exe().map_err(|e| format!("cannot find this program: {e}"))?;
        let args: Vec<_> = std::env::args_os().skip(1).collect();
        let mut children = self.children.lock().unwrap_or_else(|e| e.into_inner());
        for i in 1..self.count {
            let mut child = Command::new(&exe)
                .args(&args)
                .arg("-p")
                .arg(i.to_string())
                .env(STARTED_BY, std::process::id().to_string())
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()
                .map_err(|e| format!("cannot start process {i}: {e}"))?;
            let stdin = child.stdin.take();
            children.push((i, child, stdin));
        }
        drop(children);
        // A process that fails would leave this one waiting for it: end the run instead.
        let (children, finished) = (self.children.clone(), self.finished.clone());
        self.watcher = Some(std::thread::spawn(move || {
            while !finished.load(Ordering::Relaxed) {
                for (i, child, _) in children
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .iter_mut()
                {
                    if let Ok(Some(status)) = child.try_wait() {
                        if !status.success() {
                            eprintln!("nexmark: error: process {i} failed ({status})");
                            std::process::exit(1);
                        }
                    }
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }));
        Ok(())
    }

    /// Waits for the processes this one started, reads their summary lines, and appends their
    /// `--output` files to `output` (then removes them).
    pub fn finish(&mut self, output: Option<&Path>) -> Result<Vec<Report>, String> {
        self.finished.store(true, Ordering::Relaxed);
        if let Some(w) = self.watcher.take() {
            let _ = w.join();
        }
        let children =
            std::mem::take(&mut *self.children.lock().unwrap_or_else(|e| e.into_inner()));
        let mut reports = Vec::new();
        for (i, mut child, stdin) in children {
            let mut stdout = String::new();
            if let Some(mut out) = child.stdout.take() {
                let _ = out.read_to_string(&mut stdout);
            }
            let status = child.wait().map_err(|e| format!("process {i}: {e}"))?;
            drop(stdin);
            if !status.success() {
                return Err(format!("process {i} failed ({status})"));
            }
            reports.push(report(i, &stdout)?);
            if let Some(path) = output {
                append_part(path, i)?;
            }
        }
        Ok(reports)
    }

    /// Runs `func` on every worker of a timely computation over the run's processes (this
    /// process's `threads` workers; on several processes, a cluster over the addresses).
    pub fn execute<F>(&self, func: F) -> Result<WorkerGuards<()>, String>
    where
        F: Fn(&mut Worker) + Send + Sync + 'static,
    {
        if self.count == 1 {
            return timely::execute(timely::Config::process(self.threads), func);
        }
        // Timely's own cluster set-up prints to stdout (the summary line's), sleeps a second
        // between attempts and waits forever for a missing process: connect here instead,
        // with timely's handshake (a process sends its index as a big-endian u64).
        let sockets = connect(&self.addresses, self.index, CONNECT_TIMEOUT)?;
        let hooks = Hooks::default();
        let local = ProcessBuilder::new_typed_vector(
            self.threads,
            hooks.refill.clone(),
            hooks.spill.clone(),
        );
        let (builders, guard) =
            initialize_networking_from_sockets(local, sockets, self.index, self.threads, hooks)
                .map_err(|e| format!("failed to initialize networking: {e}"))?;
        let builders = builders.into_iter().map(AllocatorBuilder::Tcp).collect();
        timely::execute::execute_from(builders, Box::new(guard), Default::default(), func)
    }
}

impl Drop for Processes {
    /// A run that failed on this process ends the processes it started.
    fn drop(&mut self) {
        self.finished.store(true, Ordering::Relaxed);
        for (_, child, _) in self
            .children
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter_mut()
        {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The summary line's CPU seconds and peak RSS (MiB) over this process (`cpu`, `rss`) and the
/// processes it started (`others`), and, on several processes, the line's extra fields:
/// `processes`, `process` (this one), `result_rows` (`rows`, over the same processes), and
/// `cpu_s_per_process` and `peak_rss_mb_per_process` (this process's first).
pub fn summary(
    procs: &Processes,
    cpu: f64,
    rss: f64,
    rows: u64,
    others: &[Report],
) -> (f64, f64, String) {
    if procs.count == 1 {
        return (cpu, rss, String::new());
    }
    let cpus: Vec<f64> = std::iter::once(cpu)
        .chain(others.iter().map(|r| r.cpu_s))
        .collect();
    let rsss: Vec<f64> = std::iter::once(rss)
        .chain(others.iter().map(|r| r.peak_rss_mb))
        .collect();
    let list = |v: &[f64], digits: usize| {
        let items: Vec<String> = v.iter().map(|x| format!("{x:.digits$}")).collect();
        format!("[{}]", items.join(","))
    };
    let extra = format!(
        ",\"processes\":{},\"process\":{},\"result_rows\":{rows},\"cpu_s_per_process\":{},\
         \"peak_rss_mb_per_process\":{}",
        procs.count,
        procs.index,
        list(&cpus, 3),
        list(&rsss, 1),
    );
    (cpus.iter().sum(), rsss.iter().sum(), extra)
}

/// `FILE` for process 0, `FILE.i` for process `i`.
fn part_path(path: &Path, index: usize) -> PathBuf {
    if index == 0 {
        return path.to_path_buf();
    }
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{index}"));
    PathBuf::from(name)
}

/// Appends process `index`'s rows to `path`, and removes its file.
fn append_part(path: &Path, index: usize) -> Result<(), String> {
    let part = part_path(path, index);
    let mut rows =
        std::fs::File::open(&part).map_err(|e| format!("cannot read {}: {e}", part.display()))?;
    let mut out = std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    std::io::copy(&mut rows, &mut out)
        .and_then(|_| out.flush())
        .map_err(|e| {
            format!(
                "cannot append {} to {}: {e}",
                part.display(),
                path.display()
            )
        })?;
    std::fs::remove_file(&part).map_err(|e| format!("cannot remove {}: {e}", part.display()))
}

/// The figures of process `index`'s summary line (the last line of its stdout).
fn report(index: usize, stdout: &str) -> Result<Report, String> {
    let line = stdout.lines().last().unwrap_or("");
    let json: serde_json::Value = serde_json::from_str(line)
        .map_err(|e| format!("process {index} printed no summary line ({e}): {line:?}"))?;
    let number = |key: &str| {
        json[key]
            .as_f64()
            .ok_or_else(|| format!("process {index}'s summary line has no `{key}`: {line}"))
    };
    Ok(Report {
        cpu_s: number("cpu_s")?,
        peak_rss_mb: number("peak_rss_mb")?,
        rows: number("result_rows")? as u64,
    })
}

/// In a process that process 0 started: exits when process 0 ends (its end of our standard
/// input closes), so that a failed run leaves no process behind.
fn exit_with_process_0() {
    std::thread::spawn(|| {
        let mut sink = [0u8; 64];
        while let Ok(n) = std::io::stdin().read(&mut sink) {
            if n == 0 {
                break;
            }
        }
        eprintln!("nexmark: process 0 ended: this process stops too");
        std::process::exit(1);
    });
}

/// Connects process `me` to the others at `addresses` (timely's handshake: it dials the lower
/// indexes and accepts the higher ones); fails after `timeout`, naming who is missing.
fn connect(
    addresses: &[String],
    me: usize,
    timeout: Duration,
) -> Result<Vec<Option<TcpStream>>, String> {
    let deadline = Instant::now() + timeout;
    let listener = TcpListener::bind(&addresses[me])
        .map_err(|e| format!("process {me} cannot listen on {}: {e}", addresses[me]))?;
    let mut sockets: Vec<Option<TcpStream>> = addresses.iter().map(|_| None).collect();
    for (i, address) in addresses.iter().enumerate().take(me) {
        sockets[i] = Some(dial(address, deadline, me as u64).map_err(|e| {
            format!("process {me} could not reach process {i} at {address} within {timeout:?}: {e}")
        })?);
    }
    listener.set_nonblocking(true).map_err(|e| e.to_string())?;
    while let Some(missing) = (me + 1..addresses.len()).find(|&i| sockets[i].is_none()) {
        match listener.accept() {
            Ok((mut stream, _)) => {
                stream.set_nonblocking(false).map_err(|e| e.to_string())?;
                stream.set_nodelay(true).map_err(|e| e.to_string())?;
                let mut word = [0u8; 8];
                stream.read_exact(&mut word).map_err(|e| e.to_string())?;
                let index = u64::from_be_bytes(word) as usize;
                if index <= me || index >= addresses.len() || sockets[index].is_some() {
                    return Err(format!(
                        "process {me} got an unexpected connection claiming to be process {index}"
                    ));
                }
                sockets[index] = Some(stream);
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if Instant::now() >= deadline {
                    return Err(format!(
                        "process {me} waited {timeout:?} for process {missing} at {}, which \
                         did not connect",
                        addresses[missing]
                    ));
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(e) => return Err(e.to_string()),
        }
    }
    Ok(sockets)
}

/// Connects to `address` until `deadline`, then sends `word`.
fn dial(address: &str, deadline: Instant, word: u64) -> std::io::Result<TcpStream> {
    let addr = address
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| std::io::Error::other("the address resolves to nothing"))?;
    let mut stream = loop {
        match TcpStream::connect(addr) {
            Ok(s) => break s,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => return Err(e),
        }
    };
    stream.set_nodelay(true)?;
    stream.write_all(&word.to_be_bytes())?;
    Ok(stream)
}
