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
        /// The window is on a column with a watermark (the watermark can close groups).
        watermarked: bool,
        /// The window is a session window.
        session: bool,
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
    /// `.start()` was called.
    pub started: bool,
    /// The output-mode rules were run.
    pub checked: bool,
}

/// What is known about a (sub)pipeline after checking it.
#[derive(Clone)]
pub struct Info {
    /// What the pipeline is.
    pub stage: Stage,
    /// What the output-mode rules look at.
    pub shape: PlanShape,
    /// The columns with a watermark (`with_watermark`), by name.
    pub watermarks: Vec<String>,
    /// The static tables joined into the current rows, in join order.
    pub tables: Vec<JTable>,
    /// The `.order_by` token, once the rows are sorted.
    pub sorted_at: Option<Ident>,
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
            tables: Vec::new(),
            sorted_at: None,
            outer_name: None,
        }
    }
}
