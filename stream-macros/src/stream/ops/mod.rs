//! The operators of the language, by family. Each family's module holds its operators' three
//! layers: the parse function (arguments → an [`Operator`]), the check ([`Operator::check`]:
//! the call against the rows that flow in → a [`Step`]) and the codegen ([`Step::generate`]:
//! the builder call).
//!
//! - [`projection`]: `filter` / `where` / `where_`, `select`, `with_column`, `map`, `flat_map`,
//!   `union`;
//! - [`aggregation`]: `with_watermark`, `with_idle_timeout`, `group_by` (columns, `window(..)`,
//!   `session_window(..)`), `group_by_key`, `agg`, `count`, `order_by` / `sort`, `limit`;
//! - [`group_state`]: `map_groups_with_state`, `flat_map_groups_with_state`,
//!   `transform_with_state` after
//!   `group_by_key` (arbitrary stateful processing);
//! - [`dedup`]: `drop_duplicates`, `drop_duplicates_within_watermark`;
//! - [`join`]: stream-static joins, with the stream or the static table on the left, and
//!   joins with a bounded dataset (`read`: two batch inputs, or a stream and a batch input);
//!   [`stream_join`]: `join` of two streams (its check and codegen; `join` parses the call);
//! - [`writer`]: `write_stream` and the writer's options, `output_mode`, `trigger`,
//!   `query_name`, `checkpoint_location`, `start`;
//! - [`batch`]: the actions of a batch query (a pipeline over `read(..)`): `collect`, `show`,
//!   `write`.
//!
//! To add an operator, do as `drop_duplicates` was added in its own deduplication family:
//!
//! 1. create `ops/dedup.rs` (or a file in an existing family's directory, declared in its
//!    `mod.rs`) with the parsed call, `pub struct DropDuplicates(..)`, implementing
//!    [`Operator`]; its lowered call, `pub struct DropDuplicatesStep { .. }`, implementing
//!    [`Step`]; and `pub fn parse(name, call)`, a [`Parse`];
//! 2. add `pub mod dedup;` below and `("drop_duplicates", dedup::parse),` to [`METHODS`]
//!    (and drop the method from `NOT_YET` in `parse`).
//!
//! Nothing else dispatches on method names. The families share `parse`'s `expect_args`,
//! `parse_col_expr`, `parse_named`, `split_alias`, `strip_groups`; `Checker`'s `error`,
//! `expr`, `items`, `hoist`, `new_struct`, `pipeline`; codegen's `row`, `value`, `event_time`,
//! `pipeline`.

pub mod aggregation;
pub mod batch;
pub mod dedup;
pub mod group_state;
pub mod join;
pub mod projection;
pub mod stream_join;
pub mod writer;

use super::ast::Pipeline;
use super::check::{Checker, Info, Site};
use proc_macro2::TokenStream;
use std::any::Any;
use syn::{ExprMethodCall, Result};

/// Parses a call of one method: the method's name (without `r#`, for messages) and the call.
/// The name is known to be the method's, and the call has no turbofish.
pub type Parse = fn(&str, &ExprMethodCall) -> Result<Box<dyn Operator>>;

/// The registry: every method of the language, with the function parsing its calls. The order
/// is the one the "unknown method" error lists them in.
pub const METHODS: &[(&str, Parse)] = &[
    ("filter", projection::filter::parse),
    ("r#where", projection::filter::parse),
    ("where_", projection::filter::parse),
    ("select", projection::select::parse),
    ("with_column", projection::with_column::parse),
    ("with_watermark", aggregation::watermark::parse),
    (
        "with_idle_timeout",
        aggregation::watermark::parse_idle_timeout,
    ),
    ("map", projection::map::parse_map),
    ("flat_map", projection::map::parse_flat_map),
    ("union", projection::union::parse),
    ("group_by", aggregation::group_by::parse_group_by),
    ("group_by_key", aggregation::group_by::parse_group_by_key),
    ("agg", aggregation::agg::parse_agg),
    ("count", aggregation::agg::parse_count),
    ("map_groups_with_state", group_state::parse_map),
    ("flat_map_groups_with_state", group_state::parse_flat_map),
    ("transform_with_state", group_state::parse_transform),
    ("order_by", aggregation::order_by::parse),
    ("sort", aggregation::order_by::parse),
    ("limit", aggregation::limit::parse),
    ("drop_duplicates", dedup::parse),
    ("drop_duplicates_within_watermark", dedup::parse),
    ("join", join::parse),
    ("write_stream", writer::parse_write_stream),
    ("output_mode", writer::parse_output_mode),
    ("trigger", writer::parse_trigger),
    ("query_name", writer::parse_query_name),
    ("checkpoint_location", writer::parse_checkpoint_location),
    ("start", writer::parse_start),
    ("collect", batch::parse_collect),
    ("show", batch::parse_show),
    ("write", batch::parse_write),
];

/// The parse function of the method `name` (written without `r#`), if the language has it.
pub fn parser(name: &str) -> Option<Parse> {
    METHODS
        .iter()
        .find(|(method, _)| method.strip_prefix("r#").unwrap_or(method) == name)
        .map(|(_, parse)| *parse)
}

/// What a method is called on; the generic dispatcher of `check` reports a call made elsewhere.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// Rows (a dataset).
    Rows,
    /// A grouping, after `.group_by(..)`: `.agg(..)`, `.count()`. Called on rows, such an
    /// operator reports its own error.
    Grouping,
    /// The writer, after `.write_stream(..)`: its options.
    Writer,
}

/// One parsed method call of a pipeline (`Any`: tests look into parsed calls).
pub trait Operator: Any {
    /// Where the call is made: on rows (default), on a grouping, or on the writer.
    fn place(&self) -> Place {
        Place::Rows
    }

    /// A static table may be its receiver (`join`).
    fn takes_table(&self) -> bool {
        false
    }

    /// May follow `.order_by(..)` and `.limit(..)` (`limit`, `write_stream`, the batch
    /// actions).
    fn allowed_after_sort(&self) -> bool {
        false
    }

    /// Means something on a stream only: an error on a batch pipeline. Every option of the
    /// writer is (`output_mode`, `trigger`, `checkpoint_location`, ..: a batch query has no
    /// writer), and `write_stream`.
    fn streaming_only(&self) -> bool {
        self.place() == Place::Writer
    }

    /// Runs a batch query (`collect`, `show`, `write`): an error on a stream.
    fn runs_batch(&self) -> bool {
        false
    }

    /// The pipeline nested in the call (`union`, `join`), for counting the uses of bindings.
    fn nested(&self) -> Option<&Pipeline> {
        None
    }

    /// Check layer: checks the call against what flows in (`at.input`, placed as
    /// [`Operator::place`] says), updates `info` for the calls that follow, and returns the
    /// lowered step (`None` after an error).
    fn check(&self, cx: &mut Checker, at: Site, info: &mut Info) -> Option<Box<dyn Step>>;
}

/// Codegen layer: one lowered call of a pipeline.
pub trait Step {
    /// The builder call, `.method(..)`, appended to the receiver's tokens.
    fn generate(&self) -> TokenStream;
}
