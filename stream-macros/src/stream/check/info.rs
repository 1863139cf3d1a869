//! What check knows about a pipeline at each point: the rows (or grouping, writer, static table)
//! flowing, and what the output-mode rules need.

use proc_macro2::Span;
use stream_core::rules::PlanShape;
use stream_core::OutputMode;
use syn::Ident;

/// The rows flowing at some point of a pipeline.
#[derive(Clone)]
pub enum Rows {
    /// Columns the macro knows, in a struct it generated (`None`: a runtime struct).
    Known {
        /// The generated struct holding them, if any.
        strukt: Option<Ident>,
        /// The columns, in order.
        columns: Vec<Ident>,
        /// What produced them, for messages: "`.select(..)`".
        origin: String,
    },
    /// A user type (or a type the macro cannot see): rustc checks the column names.
    Opaque,
}

/// The grouping key.
#[derive(Clone)]
pub enum Key {
    /// Generated key columns (and maybe a window), in group_by order.
    Columns {
        /// The grouping columns, the window's included.
        names: Vec<Ident>,
        /// The window's column, if one.
        window: Option<Ident>,
        /// The window (or the event-time key) is on a column with a watermark (the watermark
        /// can close groups).
        watermarked: bool,
        /// The window is a session window.
        session: bool,
        /// A grouping column that carries a watermark itself (a group is final once the
        /// watermark passes its event time).
        event_time_key: Option<Ident>,
        /// The name of the watermark that closes the groups, if one does.
        origin: Option<String>,
    },
    /// A key computed by the user's function (`group_by_key`).
    Opaque,
}

/// What a pipeline is at some point.
#[derive(Clone)]
pub enum Stage {
    /// A dataset: rows.
    Rows(Rows),
    /// A grouping (`group_by`), waiting for `.agg(..)` or `.count()`.
    Grouped {
        /// The rows grouped.
        input: Rows,
        /// The key.
        key: Key,
        /// The grouping's method token.
        method: Ident,
    },
    /// A writer (after `.write_stream(..)`).
    Writer(Writer),
    /// A batch query's result, after the action that runs it (`.collect()`, `.show(n)`,
    /// `.write(sink)`): nothing may follow.
    Done(Ident),
    /// A static table (`read_static`), with its binding's name once known.
    Table(Option<Ident>),
}

/// A static table joined into the rows, whose columns are written `name.col`.
#[derive(Clone, PartialEq, Eq)]
pub struct JTable {
    /// The table's binding name.
    pub name: Ident,
    /// An outer join: the table's columns are `Option`s.
    pub optional: bool,
}

/// A writer and the options given to it so far.
#[derive(Clone)]
pub struct Writer {
    /// The `write_stream` token.
    pub method: Ident,
    /// `.output_mode(..)`, with the mode's span.
    pub mode: Option<(OutputMode, Span)>,
    /// `.trigger(..)` was given.
    pub trigger: bool,
    /// `.query_name(..)` was given.
    pub name: bool,
    /// `.checkpoint_location(..)` was given.
    pub checkpoint: bool,
    /// `.start()` was called.
    pub started: bool,
    /// The output-mode rules were run.
    pub checked: bool,
}

/// A column that carries a watermark.
#[derive(Clone)]
pub struct Watermark {
    /// Its name in the current rows.
    pub column: String,
    /// The name of the `with_watermark` column it derives from: the name the builder knows it
    /// by (`with_watermark_on`, `group_by_window_on`, ...).
    pub origin: String,
    /// The user's column token, for a watermark set on rows of a type the macro cannot see
    /// (whose name rustc checks), with the [`Info::family`] of those rows.
    pub unchecked: Option<(Ident, usize)>,
}

/// An Append-mode error that rests on column names the macro cannot check (rows of a user's
/// type): rustc checks them first, and the error is reported only if they all exist.
#[derive(Clone)]
pub struct AppendProbe {
    /// The index of the grouping's call in the pipeline.
    pub call: usize,
    /// The columns whose names decided that no watermark closes the groups, as the user wrote
    /// them: the watermarks', then the grouping's.
    pub columns: Vec<Ident>,
    /// How many of `columns` are the watermarks'.
    pub watermarks: usize,
}

impl Info {
    /// The watermark the current column `name` carries, if any.
    pub fn watermark_of(&self, name: &str) -> Option<&Watermark> {
        self.watermarks.iter().find(|w| w.column == name)
    }

    /// The watermarked window the current column `name` is, if it is one.
    pub fn window_of(&self, name: &str) -> Option<&Watermark> {
        self.windows.iter().find(|w| w.column == name)
    }

    /// The name the builder knows an event-time column by: the original watermark column's if
    /// `name` carries a watermark, otherwise its own (made distinct from the watermark columns
    /// the builder knows, so that the builder does not take it for one of them).
    pub fn event_time_name(&self, name: &str) -> String {
        if let Some(w) = self.watermark_of(name) {
            return w.origin.clone();
        }
        let mut own = name.to_string();
        while self.event_time.iter().any(|(c, _)| *c == own) {
            own.push('\'');
        }
        own
    }
}

/// What is known about a (sub)pipeline after checking it.
#[derive(Clone)]
pub struct Info {
    /// What the pipeline is.
    pub stage: Stage,
    /// What the output-mode rules look at.
    pub shape: PlanShape,
    /// The columns of the current rows that carry a watermark, by their current name, each
    /// with the name of the `with_watermark` column it derives from.
    pub watermarks: Vec<Watermark>,
    /// The columns of the current rows that are tumbling windows (`window(time, "10
    /// seconds")` in a projection) of a column with a watermark, by their current name, each
    /// with the name of that watermark's `with_watermark` column (`origin`): a stream-stream
    /// join on equal windows bounds its state by them.
    pub windows: Vec<Watermark>,
    /// The event-time columns the builder's rows carry (its `Meta::event_time`): the original
    /// `with_watermark` columns, and after an aggregation closed by a watermark that
    /// watermark's column. Not changed by projections: a second `with_watermark` on rows that
    /// have one is refused even if the first one's column was dropped (Spark's rule).
    pub event_time: Vec<(String, Span)>,
    /// The last call was `.with_watermark(..)` (for `.with_idle_timeout(..)`).
    pub after_watermark: bool,
    /// A call of the pipeline (or of one nested in it) was reported as an error: the output-mode
    /// rules are not run on it.
    pub failed: bool,
    /// Which rows of a type the macro cannot see flow: rows keep their family through calls
    /// that keep their type or wrap it (`filter`, `with_column`, `join`), so that a column read
    /// at one call can be read at another.
    pub family: usize,
    /// The index of the call being checked in its pipeline.
    pub call: usize,
    /// The columns of known rows that are plain copies of columns of a user's type
    /// (`.select(pricee)`): rustc checks that the type has them, so the macro's messages do not
    /// list them as columns that exist.
    pub unchecked: Vec<String>,
    /// For an aggregation that no watermark closes, decided by unchecked names: how rustc can
    /// check them (`Err` once an aggregation without one is found).
    pub append_probe: Option<Result<AppendProbe, ()>>,
    /// The static tables joined into the current rows, in join order.
    pub tables: Vec<JTable>,
    /// The `.order_by` token, once the rows are sorted.
    pub sorted_at: Option<Ident>,
    /// The rows come from bounded inputs only (`read`, a batch query: `Some(true)`) or from a
    /// stream (`read_stream`: `Some(false)`); `None` for a dataset of the surrounding code,
    /// which the builder checks when the query runs.
    pub bounded: Option<bool>,
    /// The pipeline starts with a name from the surrounding code, and no call was made yet
    /// (it may be a static table joined with a stream: `people.join(stream, ..)`).
    pub outer_name: Option<Ident>,
}

impl Info {
    /// A pipeline at its source.
    pub fn new(stage: Stage) -> Info {
        Info {
            stage,
            shape: PlanShape::default(),
            watermarks: Vec::new(),
            windows: Vec::new(),
            event_time: Vec::new(),
            after_watermark: false,
            failed: false,
            family: 0,
            call: 0,
            unchecked: Vec::new(),
            append_probe: None,
            tables: Vec::new(),
            sorted_at: None,
            bounded: None,
            outer_name: None,
        }
    }
}
