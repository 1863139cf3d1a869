//! The live progress line on stderr: a listener that rewrites one line per batch with the
//! query's batches, rows, rate and watermark (like Spark's console progress bar). A session
//! installs it when stderr is a terminal (see [`Session::console_progress`]).
//!
//! [`Session::console_progress`]: crate::Session::console_progress

use crate::listener::{QueryProgressEvent, QueryTerminatedEvent, StreamingQueryListener};
use crate::progress::QueryProgress;
use std::collections::BTreeMap;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A listener that shows each query's progress as one line rewritten in place (`\r`), e.g.
/// `[wordcount] batch 41 | 1,204,000 rows | 98,512 rows/s | watermark 2024-01-01T00:00:10.000Z`,
/// and ends it with a newline when the query terminates. Redraws at most every 100 ms (the
/// last batch is always shown when the query ends).
pub struct ConsoleProgress {
    out: Mutex<Output>,
}

struct Output {
    writer: Box<dyn Write + Send>,
    /// Rows read so far, per query id.
    rows: BTreeMap<String, u64>,
    /// The latest line, if not drawn yet (redraws are at most every [`REDRAW`]).
    pending: Option<String>,
    last_draw: Option<Instant>,
    /// Whether `writer` is stderr, where the console sink clears the line before it prints.
    stderr: bool,
}

/// Whether a progress line is shown on stderr now.
static SHOWN: AtomicBool = AtomicBool::new(false);

/// Clears the progress line, if one is shown on stderr, so that what is printed next on the
/// terminal starts on a clean line (the console sink calls it; the next batch redraws the
/// line).
pub(crate) fn clear_line() {
    if SHOWN.swap(false, Ordering::SeqCst) {
        eprint!("\r\x1b[K");
    }
}

const REDRAW: Duration = Duration::from_millis(100);

impl ConsoleProgress {
    /// The line on standard error.
    pub fn stderr() -> ConsoleProgress {
        let p = ConsoleProgress::to_writer(Box::new(std::io::stderr()));
        p.lock().stderr = true;
        p
    }

    /// The line on `writer` (for tests, or a log).
    pub fn to_writer(writer: Box<dyn Write + Send>) -> ConsoleProgress {
        ConsoleProgress {
            out: Mutex::new(Output {
                writer,
                rows: BTreeMap::new(),
                pending: None,
                last_draw: None,
                stderr: false,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Output> {
        self.out.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Output {
    fn draw(&mut self, line: &str) {
        // `\x1b[K` clears what a longer previous line left.
        let _ = write!(self.writer, "\r{line}\x1b[K");
        let _ = self.writer.flush();
        self.last_draw = Some(Instant::now());
        self.pending = None;
        if self.stderr {
            SHOWN.store(true, Ordering::SeqCst);
        }
    }
}

/// The progress line of a query after `p`, having read `rows` rows in all.
pub fn line(p: &QueryProgress, rows: u64) -> String {
    let name = p.name.as_deref().unwrap_or(&p.id);
    let mut line = format!(
        "[{name}] batch {} | {} rows | {} rows/s",
        p.batch_id,
        thousands(rows),
        thousands(p.processed_rows_per_second.round() as u64)
    );
    if let Some(w) = p.event_time.get("watermark") {
        line.push_str(&format!(" | watermark {w}"));
    }
    line
}

/// `n` with a comma every three digits.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl StreamingQueryListener for ConsoleProgress {
    fn on_query_progress(&self, event: &QueryProgressEvent) {
        let p = &event.progress;
        let mut out = self.lock();
        let rows = out.rows.entry(p.id.clone()).or_default();
        *rows += p.num_input_rows;
        let text = line(p, *rows);
        if out.last_draw.is_none_or(|t| t.elapsed() >= REDRAW) {
            out.draw(&text);
        } else {
            out.pending = Some(text);
        }
    }

    fn on_query_terminated(&self, event: &QueryTerminatedEvent) {
        let mut out = self.lock();
        if let Some(text) = out.pending.take() {
            out.draw(&text);
        }
        if out.rows.remove(&event.id).is_some() {
            let _ = writeln!(out.writer);
            let _ = out.writer.flush();
            out.last_draw = None;
            if out.stderr {
                SHOWN.store(false, Ordering::SeqCst);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_separated() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1234567), "1,234,567");
    }
}
