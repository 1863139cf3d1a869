//! Batch queries (Spark's `spark.read` ... `collect()` / `show()` / `write`): a pipeline over
//! bounded inputs runs on the same lowering, workers and processes as a stream, as one
//! micro-batch that reads everything (`Trigger::Once`), after which the query stops and the
//! dataflow's frontier closes. The result is the final table: operators lower as in complete
//! mode (nothing is late, no state is evicted), and the sink sees one append-mode batch holding
//! the whole result.

use super::lower::Feed;
use super::{source_dataset, DataStreamWriter, Dataset};
use crate::dataflow;
use crate::error::{Result, StreamError};
use crate::session::Session;
use crate::sink::{BatchInfo, Console, MemorySink, PartitionedSink, RowWriter, Sink};
use crate::source::{IntoSource, Partition, ReadLimit, ReadStats, Source, Split};
use crate::time::Time;
use std::io::Write;
use std::sync::Arc;
use stream_core::{OutputMode, Record};

/// A bounded dataset read from `source` (Spark's `spark.read...load()`): everything the source
/// holds when the query starts (the files in a directory, the rows of a `Vec`, a generator up to
/// its row count). The same operators apply as to a stream; run it with
/// [`collect`](Dataset::collect), [`show`](Dataset::show) or [`write`](Dataset::write) (or the
/// [`Session`] methods of the same names for more workers and processes), or join a stream
/// with it (a stream-static join).
///
/// Watermarks are accepted and ignored, as in Spark's batch queries. A source that makes rows
/// without end (the rate source, or rate-micro-batch and Nexmark without a row count) is
/// refused when the query starts.
pub fn read<T: Record>(source: impl IntoSource<T>) -> Dataset<T> {
    let source = source.into_source();
    let check = source.check_bounded();
    let data = source_dataset(source, true);
    match check {
        Ok(()) => data,
        Err(e) => data.fail(e),
    }
}

impl<T: Record> Dataset<T> {
    /// Runs this batch query on one worker and returns the result's rows (Spark's
    /// `collect()`): sorted as [`order_by`](Dataset::order_by) says, otherwise in the rows'
    /// own order. See [`Session::collect`].
    pub fn collect(self) -> Result<Vec<T>> {
        Session::local().collect(self)
    }

    /// Runs this batch query on one worker and prints the first `n` rows of the result as a
    /// table (Spark's `show(n)`). See [`Session::show`].
    pub fn show(self, n: usize) -> Result<()> {
        Session::local().show(self, n)
    }

    /// Runs this batch query on one worker and writes the whole result to `sink`, once (Spark's
    /// `write...save()`). See [`Session::write`].
    pub fn write<S: Sink<T>>(self, sink: S) -> Result<()> {
        Session::local().write(self, sink)
    }
}

impl Session {
    /// Runs the batch query `data` (over bounded inputs, [`read`]) on this session's workers
    /// and processes, and returns the result's rows: sorted as
    /// [`order_by`](Dataset::order_by) says, otherwise in the rows' own order (`Ord`). On a
    /// cluster the rows are gathered on process 0, the driver; the other processes, which run
    /// their share of the work, get an empty `Vec`.
    pub fn collect<T: Record>(&self, data: Dataset<T>) -> Result<Vec<T>> {
        let sink = MemorySink::new();
        self.run_batch(data, Box::new(sink.clone()), "collect")?;
        Ok(sink.rows())
    }

    /// Runs the batch query `data` and prints the first `n` rows of its result as a table, as
    /// Spark's `show(n)` (cells cut to 20 characters; "only showing top n rows" when there are
    /// more). On a cluster, process 0 prints.
    pub fn show<T: Record>(&self, data: Dataset<T>, n: usize) -> Result<()> {
        let is_driver = self.process_index() == 0;
        let rows = self.collect(data)?;
        if is_driver {
            // Spark prints the table with `println`: a blank line follows it.
            let text = Console::new().num_rows(n).render_table(&rows) + "\n";
            let mut stdout = std::io::stdout().lock();
            let _ = stdout.write_all(text.as_bytes());
            let _ = stdout.flush();
        }
        Ok(())
    }

    /// Runs the batch query `data` and writes its whole result to `sink`, once, as one batch
    /// (id 0) in append mode: a partitioned sink (files) gets every worker's rows and one
    /// commit, other sinks one `add_batch` with every row (sorted and cut as `order_by` and
    /// `limit` say, in which case the rows are gathered on the driver first).
    pub fn write<T: Record, S: Sink<T>>(&self, data: Dataset<T>, sink: S) -> Result<()> {
        self.run_batch(data, Box::new(sink), "write")
    }

    /// Runs a batch query to its end.
    fn run_batch<T: Record>(
        &self,
        data: Dataset<T>,
        sink: Box<dyn Sink<T>>,
        action: &str,
    ) -> Result<()> {
        if !data.meta.bounded {
            return Err(StreamError::Analysis(format!(
                "Queries with streaming sources must be executed with write_stream(..).start(): \
                 `{action}` runs a batch query, whose inputs are all read with read(..); start a \
                 stream with write_stream(sink), or read the input with read(..)"
            )));
        }
        let gather = data.sort.is_some();
        let writer = DataStreamWriter::batch(
            data,
            Box::new(BatchSink {
                inner: sink,
                gather,
            }),
        );
        self.start(writer)?.await_termination()
    }
}

/// The sink of a batch query: tells the user's sink it gets one append-mode batch (the query
/// lowers as in complete mode, to get the final table). When the rows are sorted or cut
/// (`order_by`, `limit`), they are gathered on the driver, and a partitioned sink gets them as
/// the driver's one part.
struct BatchSink<T> {
    inner: Box<dyn Sink<T>>,
    gather: bool,
}

impl<T: Record> Sink<T> for BatchSink<T> {
    fn description(&self) -> String {
        self.inner.description()
    }
    fn check_mode(&self, _: OutputMode) -> Result<()> {
        self.inner.check_mode(OutputMode::Append)
    }
    fn add_batch(&mut self, info: BatchInfo, rows: Vec<T>) -> Result<()> {
        let info = BatchInfo {
            mode: OutputMode::Append,
            ..info
        };
        match self.inner.partitioned() {
            Some(sink) => write_gathered(&*sink, info.batch_id, &rows),
            None => self.inner.add_batch(info, rows),
        }
    }
    fn row_writer(&self) -> Option<RowWriter<T>> {
        None
    }
    fn partitioned(&self) -> Option<Arc<dyn PartitionedSink<T>>> {
        if self.gather {
            None
        } else {
            self.inner.partitioned()
        }
    }
}

/// Writes rows gathered on the driver to a partitioned sink, as its only writer's part.
fn write_gathered<T: 'static>(
    sink: &dyn PartitionedSink<T>,
    batch_id: u64,
    rows: &[T],
) -> Result<()> {
    if sink.last_committed()?.is_some_and(|c| c >= batch_id) {
        return Ok(());
    }
    let mut writer = sink.open(batch_id, 0)?;
    writer.write(&mut rows.iter())?;
    let message = writer.finish()?;
    sink.commit(batch_id, vec![message])
}

/// The bounded side of a join in a streaming query (a stream-static join whose static side is
/// a [`read`] dataset): worker 0 reads the whole source at the run's first batch, as a static
/// table is loaded; the join's arrangement distributes the rows by key.
pub(crate) struct StaticSourceFeed<T: Record> {
    source: Arc<dyn Source<T>>,
    input: dataflow::RowInput<T>,
    loaded: bool,
}

impl<T: Record> StaticSourceFeed<T> {
    pub(crate) fn new(source: Arc<dyn Source<T>>, input: dataflow::RowInput<T>) -> Self {
        StaticSourceFeed {
            source,
            input,
            loaded: false,
        }
    }
}

impl<T: Record> Feed for StaticSourceFeed<T> {
    fn feed(
        &mut self,
        _: &[(usize, Split)],
        part: Partition,
    ) -> Result<Option<(usize, ReadStats)>> {
        if !self.loaded && part.index == 0 {
            self.source.check_bounded()?;
            if let Some(split) = self.source.plan(None, &ReadLimit::All)? {
                let input = &mut self.input;
                let all = Partition { index: 0, count: 1 };
                self.source
                    .read(&split, all, &mut |row| input.insert(row))?;
            }
        }
        self.loaded = true;
        Ok(None)
    }
    fn advance_to(&mut self, time: Time) {
        self.input.advance_to(time);
    }
}
