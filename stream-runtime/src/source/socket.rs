//! `Socket`: text lines read from a TCP server (Spark's `socket` source), for demos.
//!
//! As in Spark, the source is not fault-tolerant: the lines live only in the memory of the
//! process that reads them, so a batch cannot be read again after a restart, and what the
//! server sent while no query was connected is lost. Use it to try a pipeline with `nc -lk`,
//! never in production.

use super::{offset_count, Line, Offset, Partition, ReadLimit, ReadStats, Source, Split};
use crate::error::{Result, StreamError};
use crate::progress::now_ms;
use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::sync::{Arc, Mutex, OnceLock};
use stream_core::Timestamp;

/// Lines of text from `host:port`, one [`Line`] per line (without its terminator), like Spark's
/// `spark.readStream.format("socket")`.
///
/// The query connects when it plans its first batch (on the driver, process 0) and fails if it
/// cannot; a thread then reads lines as they come, and each batch takes those received since
/// the previous one. Offsets count lines. If the server closes the connection, the query keeps
/// running with no new data (as in Spark); a read error fails the query at its next batch.
/// The lines are read by worker 0 and exchanged as the query needs, so any number of workers
/// and processes works. Not fault-tolerant (see the module's documentation).
///
/// ```no_run
/// use stream_runtime::prelude::*;
///
/// let query = read_stream(Socket::new("localhost", 9999)).write_stream(Console::new());
/// ```
pub struct Socket {
    host: String,
    port: u16,
    lines: OnceLock<Arc<Mutex<Received>>>,
}

/// The lines received and not yet committed.
#[derive(Default)]
struct Received {
    /// The offset of `lines[0]`.
    base: u64,
    /// Each line with when it arrived.
    lines: std::collections::VecDeque<(String, Timestamp)>,
    /// Why reading stopped, if it failed.
    error: Option<String>,
}

impl Received {
    fn end(&self) -> u64 {
        self.base + self.lines.len() as u64
    }
}

impl Socket {
    /// Lines from `host:port`.
    pub fn new(host: impl Into<String>, port: u16) -> Socket {
        Socket {
            host: host.into(),
            port,
            lines: OnceLock::new(),
        }
    }

    /// Also the time each line arrived, in column `timestamp` (Spark's `includeTimestamp`
    /// option): rows are [`TimestampedLine`]s.
    pub fn include_timestamp(self) -> SocketWithTimestamp {
        SocketWithTimestamp(self)
    }

    fn address(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    /// The received lines, connecting first (once); `start` is the first batch's start offset
    /// (after a restart from a checkpoint, the new connection's lines continue from there).
    fn connect(&self, start: u64) -> Result<&Arc<Mutex<Received>>> {
        if let Some(lines) = self.lines.get() {
            return Ok(lines);
        }
        let stream = TcpStream::connect(self.address()).map_err(|e| {
            StreamError::Source(format!("{}: cannot connect: {e}", self.description()))
        })?;
        let received = Arc::new(Mutex::new(Received {
            base: start,
            ..Received::default()
        }));
        let sink = received.clone();
        let name = self.description();
        std::thread::Builder::new()
            .name(format!("socket-source-{}", self.port))
            .spawn(move || read_lines(stream, &sink, &name))
            .map_err(|e| StreamError::Source(format!("cannot start the socket reader: {e}")))?;
        Ok(self.lines.get_or_init(|| received))
    }
}

impl Socket {
    /// The lines of `split` with their arrival times (worker 0 holds them all).
    fn read_lines(
        &self,
        split: &Split,
        part: Partition,
        emit: &mut dyn FnMut(&str, Timestamp),
    ) -> Result<ReadStats> {
        let mut stats = ReadStats::default();
        if part.index != 0 {
            return Ok(stats);
        }
        let (from, to) = (
            offset_count(split.start.as_ref()),
            offset_count(Some(&split.end)),
        );
        let lines = self.lines.get().ok_or_else(|| {
            StreamError::Source(format!("{} read before it connected", self.description()))
        })?;
        let received = lock(lines);
        if from < received.base || to > received.end() {
            return Err(StreamError::Source(format!(
                "{} was asked for lines {from}..{to}, but holds {}..{} (it is not \
                 fault-tolerant: earlier lines were committed and discarded)",
                self.description(),
                received.base,
                received.end()
            )));
        }
        let range = (from - received.base) as usize..(to - received.base) as usize;
        for (value, at) in received.lines.range(range) {
            stats.rows += 1;
            emit(value, *at);
        }
        Ok(stats)
    }
}

/// A line of text and when it arrived: the rows of [`Socket::include_timestamp`].
#[derive(crate::Record)]
pub struct TimestampedLine {
    /// The line, without its line terminator.
    pub value: String,
    /// When the source received it (processing time, not event time).
    pub timestamp: Timestamp,
}

/// [`Socket`] with each line's arrival time (see [`Socket::include_timestamp`]).
pub struct SocketWithTimestamp(Socket);

impl Source<TimestampedLine> for SocketWithTimestamp {
    fn description(&self) -> String {
        Source::<Line>::description(&self.0)
    }

    fn replan(&self, start: Option<&Offset>, end: &Offset) -> Result<Split> {
        Source::<Line>::replan(&self.0, start, end)
    }

    fn plan(&self, start: Option<&Offset>, limit: &ReadLimit) -> Result<Option<Split>> {
        Source::<Line>::plan(&self.0, start, limit)
    }

    fn read(
        &self,
        split: &Split,
        part: Partition,
        emit: &mut dyn FnMut(TimestampedLine),
    ) -> Result<ReadStats> {
        self.0.read_lines(split, part, &mut |value, timestamp| {
            emit(TimestampedLine {
                value: value.to_string(),
                timestamp,
            })
        })
    }

    fn commit(&self, end: &Offset) {
        Source::<Line>::commit(&self.0, end)
    }
}

/// Appends every line of `stream` to `received` until the server closes the connection (or
/// reading fails, which is kept for the next batch to report).
fn read_lines(stream: TcpStream, received: &Mutex<Received>, name: &str) {
    let mut reader = BufReader::new(stream);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf) {
            Ok(0) => return,
            Ok(_) => {
                let text = buf.strip_suffix(b"\n").unwrap_or(&buf);
                let text = text.strip_suffix(b"\r").unwrap_or(text);
                let line = String::from_utf8_lossy(text).into_owned();
                lock(received).lines.push_back((line, Timestamp(now_ms())));
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                lock(received).error = Some(format!("{name}: reading failed: {e}"));
                return;
            }
        }
    }
}

fn lock(m: &Mutex<Received>) -> std::sync::MutexGuard<'_, Received> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Source<Line> for Socket {
    fn description(&self) -> String {
        format!("TextSocketSource[host: {}, port: {}]", self.host, self.port)
    }

    fn replan(&self, start: Option<&Offset>, end: &Offset) -> Result<Split> {
        Err(StreamError::Source(format!(
            "{} cannot read lines {}..{} again after a restart: the socket source keeps its \
             lines in memory only and is not fault-tolerant (as in Spark); delete the \
             checkpoint to start afresh",
            self.description(),
            offset_count(start),
            offset_count(Some(end))
        )))
    }

    fn plan(&self, start: Option<&Offset>, limit: &ReadLimit) -> Result<Option<Split>> {
        let from = offset_count(start);
        let received = self.connect(from)?;
        let received = lock(received);
        if let Some(e) = &received.error {
            return Err(StreamError::Source(e.clone()));
        }
        let mut to = received.end();
        if let ReadLimit::UpTo(cap) = limit {
            to = to.min(offset_count(Some(cap)));
        }
        Ok(Split::counted(start, to))
    }

    fn read(
        &self,
        split: &Split,
        part: Partition,
        emit: &mut dyn FnMut(Line),
    ) -> Result<ReadStats> {
        self.read_lines(split, part, &mut |value, _| {
            emit(Line {
                value: value.to_string(),
            })
        })
    }

    fn commit(&self, end: &Offset) {
        if let Some(lines) = self.lines.get() {
            let mut received = lock(lines);
            let end = offset_count(Some(end)).min(received.end());
            while received.base < end {
                received.lines.pop_front();
                received.base += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::net::TcpListener;
    use std::time::Duration;

    /// How long a test waits for lines to arrive.
    const WAIT: Duration = Duration::from_secs(10);

    fn wait_for(socket: &Socket, lines: u64) -> Split {
        let deadline = std::time::Instant::now() + WAIT;
        loop {
            if let Some(split) = socket.plan(None, &ReadLimit::Default).unwrap() {
                if offset_count(Some(&split.end)) >= lines {
                    return split;
                }
            }
            assert!(std::time::Instant::now() < deadline, "lines did not arrive");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    #[test]
    fn lines_arrive_in_batches_and_committed_ones_are_discarded() {
        let server = TcpListener::bind("127.0.0.1:0").unwrap();
        let socket = Socket::new("127.0.0.1", server.local_addr().unwrap().port());
        assert_eq!(socket.plan(None, &ReadLimit::Default).unwrap(), None);
        let (mut client, _) = server.accept().unwrap();
        client.write_all(b"a b\r\nc\n\xffd\n").unwrap();
        let split = wait_for(&socket, 3);
        let mut got = Vec::new();
        let whole = Partition { index: 0, count: 2 };
        socket
            .read(&split, whole, &mut |l| got.push(l.value))
            .unwrap();
        assert_eq!(got, ["a b", "c", "\u{fffd}d"]);
        // Worker 1 reads nothing: worker 0 has every line.
        let other = Partition { index: 1, count: 2 };
        socket.read(&split, other, &mut |_| panic!()).unwrap();
        socket.commit(&split.end);
        let e = socket.read(&split, whole, &mut |_| {}).unwrap_err();
        assert!(e.to_string().contains("holds 3..3"), "{e}");
        // A line without its terminator waits for it.
        client.write_all(b"e").unwrap();
        std::thread::sleep(Duration::from_millis(50));
        let next = socket.plan(Some(&split.end), &ReadLimit::Default).unwrap();
        assert_eq!(next, None);
    }

    #[test]
    fn include_timestamp_adds_each_lines_arrival_time() {
        let server = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = server.local_addr().unwrap().port();
        let socket = Socket::new("127.0.0.1", port).include_timestamp();
        assert_eq!(socket.plan(None, &ReadLimit::Default).unwrap(), None);
        let (mut client, _) = server.accept().unwrap();
        let before = now_ms();
        client.write_all(b"x\n").unwrap();
        std::thread::sleep(Duration::from_millis(30));
        client.write_all(b"y\n").unwrap();
        let split = wait_for(&socket.0, 2);
        let after = now_ms();
        let mut got = Vec::new();
        let whole = Partition { index: 0, count: 1 };
        socket.read(&split, whole, &mut |l| got.push(l)).unwrap();
        let values: Vec<_> = got.iter().map(|l| l.value.as_str()).collect();
        assert_eq!(values, ["x", "y"]);
        let (x, y) = (got[0].timestamp.0, got[1].timestamp.0);
        assert!(
            before <= x && x + 30 <= y && y <= after,
            "{before} {x} {y} {after}"
        );
    }

    #[test]
    fn a_refused_connection_fails_the_plan_with_the_address() {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let e = Socket::new("127.0.0.1", port)
            .plan(None, &ReadLimit::Default)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(&format!("port: {port}")) && e.contains("cannot connect"),
            "{e}"
        );
    }
}
