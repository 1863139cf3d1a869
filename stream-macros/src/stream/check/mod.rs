//! Check: follows the rows through each pipeline, rejects what Spark would reject at analysis
//! time (with the error on the user's token), and lowers the AST into a [`Plan`]: the same
//! pipelines, with every decision codegen needs made (which structs to generate, which `lit(..)`
//! values to hoist, which bindings to clone).
//!
//! The rules themselves (output modes, durations) are `stream_core`'s, shared with the runtime.
//!
//! - [`plan`]: what check hands to codegen;
//! - [`info`]: what is known about the rows at each point of a pipeline;
//! - [`dispatch`]: whether a call may be made where it is; the operator (`ops`) checks the rest;
//! - [`columns`]: column expressions checked against the rows.

mod columns;
mod dispatch;
mod info;
mod plan;

pub use columns::{mentions, names, unqualify};
pub use dispatch::{sorted_message, Site};
pub use info::*;
pub use plan::*;

use super::ast::*;
use proc_macro2::Span;
use quote::format_ident;
use std::collections::HashMap;
use stream_core::rules::check_output_mode;
use stream_core::OutputMode;
use syn::{Error, Expr, Ident, Result};

/// Follows the pipelines of one body, collecting errors, generated structs and hoisted values.
pub struct Checker {
    /// The errors found, in order.
    errors: Vec<Error>,
    /// The structs the expansion declares.
    structs: Vec<GenStruct>,
    /// The hoisted `lit(..)` values.
    lits: Vec<(Ident, Expr)>,
    /// What is known about each `let` binding checked so far.
    env: HashMap<String, Info>,
    /// How many uses of each binding are still to come (the last one moves, the others clone).
    remaining_uses: HashMap<String, usize>,
    /// The names seen as columns so far (read from a user's row type, or made by the macro),
    /// to tell a misplaced column from a Rust variable in messages.
    seen_columns: std::collections::HashSet<String>,
    /// [`Info::unchecked`] of the rows of the call being checked.
    unchecked: Vec<String>,
    /// The last row family handed out (see [`Info::family`]).
    families: usize,
    /// An Append-mode error deferred to rustc (see [`AppendProbe`]), with its message.
    deferred: Option<(AppendProbe, String, proc_macro2::Span)>,
}

/// Checks the body and lowers it; all errors found are returned together.
pub fn check(body: &StreamBody) -> Result<Plan> {
    let mut c = Checker {
        errors: Vec::new(),
        structs: Vec::new(),
        lits: Vec::new(),
        env: HashMap::new(),
        remaining_uses: HashMap::new(),
        seen_columns: Default::default(),
        families: 0,
        deferred: None,
        unchecked: Vec::new(),
    };
    for b in &body.bindings {
        count_uses(&b.pipeline, &mut c.remaining_uses);
    }
    count_uses(&body.result, &mut c.remaining_uses);
    let mut bindings = Vec::new();
    let mut binding_infos = Vec::new();
    for b in &body.bindings {
        let (lowered, info) = c.pipeline(&b.pipeline);
        bindings.push((b.name.clone(), lowered));
        binding_infos.push((b.name.clone(), info.clone()));
        c.env.insert(b.name.to_string(), info);
    }
    let (result, mut info) = c.pipeline(&body.result);
    c.finish_result(&mut info);
    // A writer bound to a name that is never used still gets its output mode checked.
    for (name, mut info) in binding_infos {
        if !uses_name(body, &name) {
            c.finish(&mut info);
        }
    }
    if let Some(mut e) = c.errors.first().cloned() {
        for more in &c.errors[1..] {
            e.combine(more.clone());
        }
        return Err(e);
    }
    Ok(Plan {
        deferred: c.deferred,
        structs: c.structs,
        lits: c.lits,
        bindings,
        result,
    })
}

/// Counts the uses of each name in a pipeline, those of the pipelines nested in its calls
/// included.
fn count_uses(p: &Pipeline, uses: &mut HashMap<String, usize>) {
    if let Source::Name(n) = &p.source {
        *uses.entry(n.to_string()).or_default() += 1;
    }
    for call in &p.calls {
        if let Some(nested) = call.op.nested() {
            count_uses(nested, uses);
        }
    }
}

/// True if a pipeline of the body uses `name`.
fn uses_name(body: &StreamBody, name: &Ident) -> bool {
    let mut uses = HashMap::new();
    for b in &body.bindings {
        count_uses(&b.pipeline, &mut uses);
    }
    count_uses(&body.result, &mut uses);
    uses.contains_key(&name.to_string())
}

impl Checker {
    /// Reports an error at `span` (all errors are reported together, in the order found).
    pub fn error(&mut self, span: Span, msg: impl std::fmt::Display) {
        self.errors.push(Error::new(span, msg));
    }

    /// What is known about the `let` binding `name` checked so far.
    pub fn binding(&self, name: &Ident) -> Option<&Info> {
        self.env.get(&name.to_string())
    }

    /// Reports an error made elsewhere (by syn).
    pub fn push_error(&mut self, e: Error) {
        self.errors.push(e);
    }

    /// A new row family (see [`Info::family`]).
    pub fn new_family(&mut self) -> usize {
        self.families += 1;
        self.families
    }

    /// Declares a generated struct `__{prefix}{n}` and returns its name.
    pub fn new_struct(&mut self, prefix: &str, kind: GenKind) -> Ident {
        let name = format_ident!("__{}{}", prefix, self.structs.len() + 1);
        self.structs.push(GenStruct {
            name: name.clone(),
            kind,
        });
        name
    }

    /// The start of a pipeline, and what flows out of it (a binding's info for its name).
    fn source(&mut self, source: &Source) -> (LSource, Info) {
        match source {
            Source::ReadStream {
                func,
                row_type,
                arg,
            } => (
                LSource::ReadStream {
                    func: func.clone(),
                    row_type: row_type.clone(),
                    arg: arg.clone(),
                },
                Info {
                    bounded: Some(false),
                    ..Info::new(Stage::Rows(Rows::Opaque))
                },
            ),
            Source::Read {
                func,
                row_type,
                arg,
            } => (
                LSource::Read {
                    func: func.clone(),
                    row_type: row_type.clone(),
                    arg: arg.clone(),
                },
                Info {
                    bounded: Some(true),
                    ..Info::new(Stage::Rows(Rows::Opaque))
                },
            ),
            Source::ReadStatic {
                func,
                row_type,
                arg,
            } => (
                LSource::ReadStatic {
                    func: func.clone(),
                    row_type: row_type.clone(),
                    arg: arg.clone(),
                },
                Info::new(Stage::Table(None)),
            ),
            Source::Name(n) => {
                let key = n.to_string();
                let left = self.remaining_uses.entry(key.clone()).or_insert(1);
                *left = left.saturating_sub(1);
                let clone = *left > 0;
                let info = match self.env.get(&key) {
                    Some(info) => {
                        let mut info = info.clone();
                        if let Stage::Table(name) = &mut info.stage {
                            *name = Some(n.clone());
                        }
                        info
                    }
                    // A name that is not a binding of this body is a `Dataset` of the
                    // surrounding code: its rows are opaque (rustc checks them). It may also be
                    // a static table joined with a stream: `people.join(stream, ..)`.
                    None => {
                        let mut info = Info::new(Stage::Rows(Rows::Opaque));
                        info.outer_name = Some(n.clone());
                        info
                    }
                };
                (
                    LSource::Name {
                        ident: n.clone(),
                        clone,
                    },
                    info,
                )
            }
        }
    }

    /// Checks a pipeline (a binding, the result, or one nested in a call) and lowers it.
    pub fn pipeline(&mut self, p: &Pipeline) -> (Lowered, Info) {
        let outer = std::mem::take(&mut self.unchecked);
        let out = self.pipeline_calls(p);
        self.unchecked = outer;
        out
    }

    /// The columns of `rows` that are plain copies of unchecked columns: of a user's type, or
    /// unchecked themselves (see [`Info::unchecked`]), among `items` (name, value).
    pub fn unchecked_copies<'a>(
        &self,
        rows: &Rows,
        items: impl IntoIterator<Item = (&'a Ident, &'a ColExpr)>,
    ) -> Vec<String> {
        items
            .into_iter()
            .filter(|(_, e)| match e {
                ColExpr::Column(c) => {
                    matches!(rows, Rows::Opaque) || self.unchecked.contains(&c.to_string())
                }
                _ => false,
            })
            .map(|(n, _)| n.to_string())
            .collect()
    }

    fn pipeline_calls(&mut self, p: &Pipeline) -> (Lowered, Info) {
        let (source, mut info) = self.source(&p.source);
        if info.family == 0 {
            info.family = self.new_family();
        }
        let mut steps = Vec::new();
        for (i, call) in p.calls.iter().enumerate() {
            info.call = i;
            let errors = self.errors.len();
            if let Some(step) = self.call(call, &mut info) {
                steps.push(step);
            }
            info.failed |= self.errors.len() > errors;
        }
        (Lowered { source, steps }, info)
    }

    /// Runs the output-mode rules on the body's result; an Append-mode error that rests on
    /// names rustc has not checked yet is left to rustc (see [`AppendProbe`]).
    fn finish_result(&mut self, info: &mut Info) {
        if let (Some(Ok(probe)), Stage::Writer(w)) = (&info.append_probe, &info.stage) {
            let (mode, span, given) = match w.mode {
                Some((m, s)) => (m, s, true),
                None => (OutputMode::Append, w.method.span(), false),
            };
            if let (false, Err(e)) = (info.failed, check_output_mode(&info.shape, mode)) {
                if e.kind == stream_core::rules::RuleKind::AppendWithoutWatermark {
                    let msg = Self::mode_message(e.message, given);
                    self.deferred = Some((probe.clone(), msg, span));
                    if let Stage::Writer(w) = &mut info.stage {
                        w.checked = true;
                    }
                    return;
                }
            }
        }
        self.finish(info);
    }

    /// The message of a broken output-mode rule.
    fn mode_message(message: String, given: bool) -> String {
        if given {
            message
        } else {
            format!(
                "no `.output_mode(..)` is given, so this query writes in Append mode (Spark's default). {message}"
            )
        }
    }

    /// Runs the output-mode rules on a finished writer.
    pub fn finish(&mut self, info: &mut Info) {
        let Stage::Writer(w) = &mut info.stage else {
            return;
        };
        if w.checked {
            return;
        }
        w.checked = true;
        // A call of this pipeline was reported: what the rules would look at may rest on it (a
        // window on a dropped column is not closed by the watermark, a rejected sort is not a
        // sort), so one mistake is reported once.
        if info.failed {
            return;
        }
        let (mode, span, given) = match w.mode {
            Some((m, s)) => (m, s, true),
            None => (OutputMode::Append, w.method.span(), false),
        };
        if let Err(e) = check_output_mode(&info.shape, mode) {
            self.error(span, Self::mode_message(e.message, given));
        }
    }
}
