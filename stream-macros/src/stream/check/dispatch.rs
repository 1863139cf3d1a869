//! The generic dispatcher: whether a call may be made where it is (after `.start()`, after
//! `.order_by(..)`, on a writer, a grouping, a static table or rows); the operator checks the
//! rest.

use super::super::ast::Call;
use super::super::ops::{batch, Place, Step};
use super::{Checker, Info, Stage};
use syn::Ident;

/// A call, as its operator's check sees it.
pub struct Site {
    /// The method's name, as written (its span is used for errors about the call).
    pub method: Ident,
    /// What flows into the call (a copy of the stage before the call).
    pub input: Stage,
    /// The name of the surrounding code the pipeline starts with, for the pipeline's first call
    /// (it may be a static table joined with a stream: `people.join(stream, ..)`).
    pub outer_name: Option<Ident>,
    /// The call comes right after `.with_watermark(..)`.
    pub after_watermark: bool,
}

impl Checker {
    /// Checks one call: first where it is made (the errors are the same for every operator of
    /// a place), then the operator itself.
    pub(super) fn call(&mut self, call: &Call, info: &mut Info) -> Option<Box<dyn Step>> {
        let method = call.method.clone();
        let m = method.to_string();
        let op = &*call.op;
        let stage = info.stage.clone();
        let outer_name = info.outer_name.take();
        let after_watermark = std::mem::take(&mut info.after_watermark);
        // ---- batch or stream ----
        if op.streaming_only() && info.bounded == Some(true) {
            self.error(method.span(), batch::streaming_only(&m));
            return None;
        }
        if op.runs_batch() && info.bounded == Some(false) {
            self.error(method.span(), batch::batch_only(&m));
            return None;
        }
        if let Stage::Done(action) = &stage {
            let action = if action == "collect" {
                ".collect()".to_string()
            } else {
                format!(".{action}(..)")
            };
            self.error(
                method.span(),
                format!(
                    "`.{m}` comes after `{action}`, which runs the batch query; call `{action}` last"
                ),
            );
            return None;
        }
        if let Stage::Writer(w) = &stage {
            if w.started {
                self.error(
                    method.span(),
                    format!("`.{m}` comes after `.start()`, which returns the running query; call `.start()` last"),
                );
                return None;
            }
        }
        if let (Some(at), Stage::Rows(_)) = (&info.sorted_at, &stage) {
            if !op.allowed_after_sort() {
                let (what, before) = sorted_message(at, info.bounded);
                self.error(
                    method.span(),
                    format!(
                        "`.{m}` comes after `.{at}(..)`, which {what}; move `.{at}(..)` last, \
                         right before {before}"
                    ),
                );
                return None;
            }
        }
        let place = op.place();
        match &stage {
            // ---- the writer ----
            Stage::Writer(_) if place == Place::Writer => {}
            _ if place == Place::Writer => {
                self.error(
                    method.span(),
                    format!("`.{m}` configures the writer: call `.write_stream(sink)` first, then `.{m}(..)`"),
                );
                return None;
            }
            Stage::Writer(_) => {
                self.error(
                    method.span(),
                    format!(
                        "`.{m}` is not available after `.write_stream(..)`: the writer takes `.output_mode(..)`, \
                         `.trigger(..)`, `.query_name(..)` and `.start()`; move `.{m}` before `.write_stream(..)`"
                    ),
                );
                return None;
            }
            // ---- groupings ----
            Stage::Grouped { .. } if place == Place::Grouping => {}
            Stage::Grouped { method: g, key, .. } => {
                let more = match key {
                    super::Key::Opaque => {
                        ", `.map_groups_with_state(..)` or `.flat_map_groups_with_state(..)`"
                    }
                    super::Key::Columns { .. } => " or `.count()`",
                };
                let first = if matches!(key, super::Key::Opaque) {
                    "`.agg(..)`, `.count()`"
                } else {
                    "`.agg(..)`"
                };
                self.error(
                    method.span(),
                    format!("after `.{g}(..)` comes {first}{more}, not `.{m}`"),
                );
                return None;
            }
            // ---- static tables ----
            Stage::Table(_) if op.takes_table() => {}
            Stage::Table(name) => {
                let name = name.as_ref().map_or("a static table".to_string(), |n| {
                    format!("`{n}` is a static table: it")
                });
                self.error(
                    method.span(),
                    format!(
                        "{name} can only be joined with a stream, `stream.join(table, col == col)` or \
                         `table.join(stream, col == col, \"right_outer\")`, not `.{m}`; prepare the table's rows \
                         before `read_static(..)`, or `.{m}` after the join"
                    ),
                );
                return None;
            }
            // ---- datasets: every operator, also those of a grouping (they report it) ----
            Stage::Rows(_) => {}
            Stage::Done(_) => unreachable!("reported above"),
        }
        let at = Site {
            method,
            input: stage,
            outer_name,
            after_watermark,
        };
        self.unchecked = info.unchecked.clone();
        op.check(self, at, info)
    }
}

/// What `.order_by(..)` / `.limit(..)` (`at`) does, and what may follow it, for messages.
pub fn sorted_message(at: &Ident, bounded: Option<bool>) -> (&'static str, String) {
    let what = if at == "limit" {
        "keeps the first rows written to the sink"
    } else {
        "sorts the rows written to the sink"
    };
    let before = match bounded {
        Some(true) => batch::ACTIONS.to_string(),
        _ => "`.write_stream(..)`".to_string(),
    };
    (what, before)
}
