//! The error type of queries: what failed, where, and how to fix it.

use std::fmt;

/// Why a query could not start, or why it stopped.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum StreamError {
    /// The query breaks a rule of Structured Streaming (e.g. complete mode without aggregation).
    Analysis(String),
    /// A source could not read its input (names the file and line where there is one).
    Source(String),
    /// A malformed record in fail-fast mode.
    Malformed {
        /// The file the record came from (or, for `from_json`, its origin, e.g. a Kafka topic
        /// and partition).
        file: String,
        /// 1-based line number (for `from_json`, the position in the origin: a Kafka offset).
        line: u64,
        /// What was wrong, and how to skip or keep such records.
        error: String,
    },
    /// A sink could not write a batch.
    Sink(String),
    /// Bad configuration or command-line arguments.
    Config(String),
    /// A worker failed (e.g. panicked) or the cluster could not be formed.
    Execution(String),
    /// A checkpoint could not be read or written, is corrupt, is in use by another query, or
    /// belongs to a query that changed in a way its state cannot follow (names the file or the
    /// change).
    Checkpoint(String),
}

impl fmt::Display for StreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StreamError::Analysis(m) => write!(f, "analysis error: {m}"),
            StreamError::Source(m) => write!(f, "source error: {m}"),
            StreamError::Malformed { file, line, error } => {
                write!(f, "malformed record at {file}:{line}: {error}")
            }
            StreamError::Sink(m) => write!(f, "sink error: {m}"),
            StreamError::Config(m) => write!(f, "configuration error: {m}"),
            StreamError::Execution(m) => write!(f, "execution error: {m}"),
            StreamError::Checkpoint(m) => write!(f, "checkpoint error: {m}"),
        }
    }
}

impl std::error::Error for StreamError {}

impl StreamError {
    /// The error's class, as listeners and the UI report it (Spark's `errorClassOnException`):
    /// Spark's own class where it has one for the same failure (`MALFORMED_RECORD_IN_PARSING`,
    /// `ARITHMETIC_OVERFLOW`, `STREAM_FAILED` for a failure while running), else the kind of
    /// error (`ANALYSIS_ERROR`, `SOURCE_ERROR`, `SINK_ERROR`, `CONFIG_ERROR`,
    /// `CHECKPOINT_ERROR`).
    pub fn error_class(&self) -> &'static str {
        match self {
            StreamError::Analysis(_) => "ANALYSIS_ERROR",
            StreamError::Source(_) => "SOURCE_ERROR",
            StreamError::Malformed { .. } => "MALFORMED_RECORD_IN_PARSING",
            StreamError::Sink(_) => "SINK_ERROR",
            StreamError::Config(_) => "CONFIG_ERROR",
            StreamError::Execution(m) if m.contains("ARITHMETIC_OVERFLOW") => "ARITHMETIC_OVERFLOW",
            StreamError::Execution(_) => "STREAM_FAILED",
            StreamError::Checkpoint(_) => "CHECKPOINT_ERROR",
        }
    }
}

impl From<stream_core::RuleError> for StreamError {
    fn from(e: stream_core::RuleError) -> Self {
        StreamError::Analysis(e.message)
    }
}

impl From<stream_core::DurationError> for StreamError {
    fn from(e: stream_core::DurationError) -> Self {
        StreamError::Config(e.to_string())
    }
}

/// Results of this crate.
pub type Result<T, E = StreamError> = std::result::Result<T, E>;
