//! Procedural macros of Structured Streaming for Rust: `#[derive(Record)]` and `stream!`.
//!
//! Each macro is split as serde_derive is: parsing into a small AST, checking it (with errors on
//! the user's tokens), and generating code that calls only the public API of `stream_runtime`.

extern crate proc_macro;

mod entry;
mod record;
mod stream;

use proc_macro::TokenStream;

/// The entry point of an application: `#[stream::main] fn main(session: Session)`.
///
/// The generated `main` builds the [`Session`] from the command line (the engine's flags `-w`,
/// `-n`, `-p`, `-h`), runs the function with it, and exits with code 1 and the error printed
/// if it returned an `Err`, or if a query of the session failed (unless
/// `session.streams().reset_terminated()` was called since); `--help` prints the function's
/// doc comment and the engine's flags. A second parameter takes the application's own flags,
/// parsed from what the engine's left (any `clap::Parser` with `stream-runtime`'s `clap`
/// feature; `--help` then shows both). `main` returns `()` or `Result<(), E>` with `E:
/// Display`.
///
/// ```no_run
/// use stream_runtime::prelude::*;
///
/// /// Counts the rows of a rate source.
/// #[stream::main]
/// fn main(session: Session) -> Result<(), StreamError> {
///     let query = read_stream(Rate::new(10)).write_stream(Noop);
///     session.start(query)?.await_termination()
/// }
/// ```
///
/// [`Session`]: ../stream_runtime/session/struct.Session.html
#[proc_macro_attribute]
pub fn main(attr: TokenStream, item: TokenStream) -> TokenStream {
    entry::expand(attr.into(), item.into()).into()
}

/// Derives `Record` for a struct with named fields: schema, values, serde, `Clone`, `Debug`,
/// a total order and a hash. Mark the event-time column (of type `Timestamp`) with
/// `#[event_time]`.
#[proc_macro_derive(Record, attributes(event_time))]
pub fn derive_record(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    record::expand(input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// A streaming query in the language of Spark Structured Streaming, checked at compile time and
/// expanded into calls of `stream_runtime`'s builder API.
///
/// ```
/// use stream_runtime::prelude::*;
///
/// #[derive(Record)]
/// struct Bid {
///     auction: u64,
///     price: u64,
/// }
///
/// let x = 7u64;
/// let query = stream! {
///     let bids = read_stream::<Bid>(MemoryStream::new());
///     bids.filter(price > 1_000 && auction != 3)
///         .select(auction, price * 2 as double_price, lit(x) as c)
///         .with_column(bonus, double_price + 1)
///         .group_by(auction)
///         .agg(count() as n, sum(double_price) as total, max(c) as top)
///         .write_stream(Console::new())
///         .output_mode(Update)
///         .trigger(ProcessingTime("1 second"))
///         .query_name("bids")
/// };
/// ```
///
/// # The body
///
/// `let name = pipeline;` statements, then the resulting pipeline (no `;`). A pipeline starts
/// with `read_stream::<T>(source)` (any Rust expression as the source; the type argument may be
/// left out when the source determines it), with a `let` name of the body (used twice, it is
/// cloned), or with a `Dataset` variable of the surrounding code. `let people =
/// read_static::<S>(source);` binds a static table (a `StaticTable` of the surrounding code works
/// too), which is only joined with a stream. The result is a
/// `DataStreamWriter<_>` if the pipeline reaches `.write_stream(..)`, a `Dataset<_>` otherwise
/// (or the `Result` of `.start()`).
///
/// # Column expressions
///
/// Every bare identifier is a column of the current row. Literals (`1_000`, `2.5`, `"web"`,
/// `true`), the operators of Rust (`+ - * / % == != < <= > >= && || !`, `&`), casts to primitive
/// types (`price as f64`), parentheses, fields (`window.start`), Rust methods on column values
/// (`name.to_uppercase()`, `name.starts_with("a")`) and functions by path (`f64::abs(x)`).
/// `lit(expr)` passes a Rust value: it is evaluated (and moved) once, when the pipeline is built.
///
/// In `select`, `group_by` and `agg`, `expr as name` names an output column (as SQL's `AS`, for
/// the whole item: `price * 2 as double_price`); `as` followed by a primitive type is a cast.
///
/// # Methods
///
/// | method | meaning |
/// |---|---|
/// | `.filter(expr)`, `.r#where(expr)`, `.where_(expr)` | keep the rows where the column expression holds |
/// | `.filter(\|row\| ..)` | a typed predicate on `&T`, passed through |
/// | `.select(item, ..)` | project: columns, `expr as name` |
/// | `.with_column(name, expr)` | add (or replace) a column |
/// | `.with_watermark(col, "10 seconds")` | event-time column and watermark delay; one per input (a second on the same rows is refused, as Spark's "Redefining watermark is disallowed"; inputs joined by `.union(..)` may each have their own). The watermark closes only groups keyed by its column (a window of it, or the column itself), followed through `select` renames |
/// | `.with_idle_timeout("1 minute")` | right after `.with_watermark(..)`: the input stops holding the watermark back after this long without data |
/// | `.map(f)`, `.flat_map(f)` | typed functions, passed through |
/// | `.union(other)` | rows of both (a `let` name or a pipeline) |
/// | `.group_by(item, ..)` | group by columns / `expr as name` / one `window(col, "size"[, "slide"[, "offset"]])` or `session_window(col, "gap")` / `session_window(col, gap_ms_expr)` (output column `session_window`); `.group_by()` is one global group. Grouping by the watermarked column itself (no window) makes a group final once the watermark passes it (Append mode allowed) |
/// | `.group_by(\|row\| key)`, `.group_by_key(\|row\| key)` | typed grouping; output columns `key`, then the aggregates |
/// | `.agg(agg as name, ..)` | `count()`, `count(expr)` (its non-NULL values), `sum(expr)`, `avg(expr)` (numeric columns, or `Option`s of them whose NULLs are skipped), `min(expr)`, `max(expr)` (up to 8; default names `count`, `count_price`, `sum_price`, ..) |
/// | `.count()` | after a grouping: `.agg(count() as count)` |
/// | `.order_by(col, col.desc(), desc(col), col.asc(), ..)`, `.sort(..)` | sort the result table of an aggregation (Complete mode); the last step before `.write_stream` |
/// | `.join(table, a == b && .., "how")` | stream-static join: `"inner"` (default), `"left_outer"`, `"left_semi"`, `"left_anti"`; the left operand of each `==` is the receiver's column, the right the table's, unless qualified (`people.id`); afterwards bare names are the stream's columns and `table.col` the table's (an `Option` after an outer join) |
/// | `table.join(stream, a == b, "how")` | the static table on the left: `"inner"` or `"right_outer"` |
/// | `.write_stream(sink)` | any Rust expression as the sink |
/// | `.output_mode(Append \| Update \| Complete)` | default `Append`, as in Spark |
/// | `.trigger(ProcessingTime("1 second") \| ProcessingTime(1000) \| AvailableNow \| Once \| Default)` | |
/// | `.query_name("name")`, `.start()` | |
///
/// # Compile-time checks
///
/// Each is one error on the user's token, without the library's internals: unknown columns
/// (reported by the macro for rows it produced itself, listing only the columns known to exist
/// and suggesting `lit(x)` for a name that is no column; by rustc, with its "a field with a
/// similar name exists", for a user's struct), a row type without `#[derive(Record)]` (one
/// error, on the type in `read_stream::<T>` or on the source), unknown methods and aggregate
/// functions, `sum`/`avg` over a non-numeric column, a non-`Timestamp` event-time column, a
/// non-`bool` filter, join keys of different types, malformed durations (triggers, watermarks,
/// idle timeouts, windows, session gaps), methods in the wrong place (e.g. `.agg` without a
/// grouping, `.trigger` before `.write_stream`, `.order_by` before an aggregation or not last,
/// `.with_idle_timeout` not right after `.with_watermark`), a second `.with_watermark` on rows
/// that have one, join types Spark does not support between a stream and a static table, join
/// conditions that are not equalities, and the output-mode rules of `stream_core` (Complete mode
/// without an aggregation, Append mode on an aggregation that no watermark closes, session
/// windows in Update mode, sorting outside Complete mode). A pipeline with an error in one of
/// its calls is not also checked against the output-mode rules; an Append-mode error that rests
/// on column names of a user's struct is reported only once rustc has found those columns (so a
/// typo is reported as the typo).
#[proc_macro]
pub fn stream(input: TokenStream) -> TokenStream {
    stream::expand(input.into()).into()
}
