//! Check: follows the rows through each pipeline, rejects what Spark would reject at analysis
//! time (with the error on the user's token), and lowers the AST into a [`Plan`]: the same
//! pipelines, with every decision codegen needs made (which structs to generate, which `lit(..)`
//! values to hoist, which bindings to clone).
//!
//! The rules themselves (output modes, durations) are `stream_core`'s, shared with the runtime.
//!
//! - [`plan`]: what check hands to codegen;
//! - [`info`]: what is known about the rows at each point of a pipeline;
//! - [`columns`]: column expressions checked against the rows.

mod columns;
mod dispatch;
mod info;
mod plan;

pub use dispatch::Site;

pub use info::*;
pub use plan::*;

use super::ast::*;
use super::ops::{Operator, Step};
pub use columns::{mentions, names, unqualify};
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
}

/// Checks the body and lowers it; all errors found are returned together.
pub fn check(body: &StreamBody) -> Result<Plan> {
    let mut c = Checker {
        errors: Vec::new(),
        structs: Vec::new(),
        lits: Vec::new(),
        env: HashMap::new(),
        remaining_uses: HashMap::new(),
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
    c.finish(&mut info);
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
        structs: c.structs,
        lits: c.lits,
        bindings,
        result,
    })
}

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

fn uses_name(body: &StreamBody, name: &Ident) -> bool {
    let mut uses = HashMap::new();
    for b in &body.bindings {
        count_uses(&b.pipeline, &mut uses);
    }
    count_uses(&body.result, &mut uses);
    uses.contains_key(&name.to_string())
}

/// The operators not yet in a family module of `ops`.
impl Operator for Op {
    fn nested(&self) -> Option<&Pipeline> {
        match self {
            Op::Union(other) => Some(other),
            _ => None,
        }
    }

    fn check(&self, cx: &mut Checker, at: Site, info: &mut Info) -> Option<Box<dyn Step>> {
        cx.legacy(self, at, info)
            .map(|step| Box::new(step) as Box<dyn Step>)
    }
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

    /// Declares a generated struct `__{prefix}{n}` and returns its name.
    pub fn new_struct(&mut self, prefix: &str, kind: GenKind) -> Ident {
        let name = format_ident!("__{}{}", prefix, self.structs.len() + 1);
        self.structs.push(GenStruct {
            name: name.clone(),
            kind,
        });
        name
    }

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
                Info::new(Stage::Rows(Rows::Opaque)),
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
        let (source, mut info) = self.source(&p.source);
        let mut steps = Vec::new();
        for call in &p.calls {
            if let Some(step) = self.call(call, &mut info) {
                steps.push(step);
            }
        }
        (Lowered { source, steps }, info)
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
        let (mode, span, given) = match w.mode {
            Some((m, s)) => (m, s, true),
            None => (OutputMode::Append, w.method.span(), false),
        };
        if let Err(e) = check_output_mode(&info.shape, mode) {
            let msg = if given {
                e.message
            } else {
                format!(
                    "no `.output_mode(..)` is given, so this query writes in Append mode (Spark's default). {}",
                    e.message
                )
            };
            self.error(span, msg);
        }
    }

    /// Checks a call of an operator not yet in a family module of `ops` (the dispatcher has
    /// checked where it is made).
    fn legacy(&mut self, op: &Op, at: Site, info: &mut Info) -> Option<LegacyStep> {
        let Site {
            method,
            input: stage,
            ..
        } = at;
        match (op, stage) {
            (Op::Filter(pred), Stage::Rows(rows)) => Some(LegacyStep::Filter {
                method,
                pred: self.expr(pred, &rows, &info.tables),
            }),
            (Op::FilterFn(func), Stage::Rows(_)) => Some(LegacyStep::FilterFn {
                method,
                func: func.clone(),
            }),
            (Op::Select(items), Stage::Rows(rows)) => {
                // Event-time columns keep their watermark through a projection (also renamed).
                info.watermarks = items
                    .iter()
                    .filter(|i| matches!(&i.expr, ColExpr::Column(c) if info.watermarks.contains(&c.to_string())))
                    .map(|i| i.name.to_string())
                    .collect();
                let columns = self.items(items, &rows, &info.tables, "select");
                info.tables.clear();
                let names: Vec<Ident> = columns.iter().map(|(n, _)| n.clone()).collect();
                let strukt = self.new_struct("Row", GenKind::Columns(names.clone()));
                info.stage = Stage::Rows(Rows::Known {
                    strukt: Some(strukt.clone()),
                    columns: names,
                    origin: "`.select(..)`".into(),
                });
                Some(LegacyStep::Project {
                    method,
                    strukt,
                    columns,
                })
            }
            (Op::WithColumn(item), Stage::Rows(rows)) => {
                info.watermarks.retain(|w| item.name != w);
                let value = self.expr(&item.expr, &rows, &info.tables);
                match rows {
                    // Rows with joined tables keep them: the new column is added around the row.
                    Rows::Known { mut columns, .. } if !info.tables.is_empty() => {
                        if !columns.contains(&item.name) {
                            columns.push(item.name.clone());
                        }
                        info.stage = Stage::Rows(Rows::Known {
                            strukt: None,
                            columns,
                            origin: "`.with_column(..)`".into(),
                        });
                        let strukt =
                            self.new_struct("WithColumn", GenKind::WithColumn(item.name.clone()));
                        Some(LegacyStep::Extend {
                            method,
                            strukt,
                            column: item.name.clone(),
                            value,
                        })
                    }
                    Rows::Known { columns, .. } => {
                        let mut out: Vec<(Ident, ColExpr)> = columns
                            .iter()
                            .map(|c| {
                                let mut copy = c.clone();
                                copy.set_span(Span::call_site());
                                (c.clone(), ColExpr::Column(copy))
                            })
                            .collect();
                        match out.iter_mut().find(|(n, _)| *n == item.name) {
                            Some(slot) => slot.1 = value,
                            None => out.push((item.name.clone(), value)),
                        }
                        let names: Vec<Ident> = out.iter().map(|(n, _)| n.clone()).collect();
                        let strukt = self.new_struct("Row", GenKind::Columns(names.clone()));
                        info.stage = Stage::Rows(Rows::Known {
                            strukt: Some(strukt.clone()),
                            columns: names,
                            origin: "`.with_column(..)`".into(),
                        });
                        Some(LegacyStep::Project {
                            method,
                            strukt,
                            columns: out,
                        })
                    }
                    Rows::Opaque => {
                        let strukt =
                            self.new_struct("WithColumn", GenKind::WithColumn(item.name.clone()));
                        Some(LegacyStep::Extend {
                            method,
                            strukt,
                            column: item.name.clone(),
                            value,
                        })
                    }
                }
            }
            (Op::Map(func), Stage::Rows(_)) => {
                info.stage = Stage::Rows(Rows::Opaque);
                info.tables.clear();
                Some(LegacyStep::Map {
                    method,
                    func: func.clone(),
                })
            }
            (Op::FlatMap(func), Stage::Rows(_)) => {
                info.stage = Stage::Rows(Rows::Opaque);
                info.tables.clear();
                Some(LegacyStep::FlatMap {
                    method,
                    func: func.clone(),
                })
            }
            (Op::Union(other), Stage::Rows(rows)) => {
                let (mut lowered, other_info) = self.pipeline(other);
                info.shape
                    .aggregations
                    .extend(other_info.shape.aggregations.iter().cloned());
                info.shape.sorted |= other_info.shape.sorted;
                info.watermarks
                    .extend(other_info.watermarks.iter().cloned());
                if let Some(at) = &other_info.sorted_at {
                    self.error(
                        at.span(),
                        format!("`.{at}(..)` sorts the rows written to the sink: sort after `.union(..)`, right before `.write_stream(..)`"),
                    );
                }
                if info.tables != other_info.tables {
                    self.error(
                        method.span(),
                        "`.union` needs rows joined with the same static tables on both sides; \
                         `.select(..)` the same columns on both sides first",
                    );
                }
                match other_info.stage {
                    Stage::Rows(other_rows) => {
                        if let (
                            Rows::Known {
                                strukt: Some(mine),
                                columns: a,
                                ..
                            },
                            Rows::Known {
                                strukt: theirs,
                                columns: b,
                                ..
                            },
                        ) = (&rows, &other_rows)
                        {
                            if a != b {
                                self.error(
                                    method.span(),
                                    format!(
                                        "`.union` needs the same columns in the same order on both sides: \
                                         this side has ({}), the other has ({}); `.select(..)` the same columns on both",
                                        names(a),
                                        names(b)
                                    ),
                                );
                            } else if theirs.as_ref() != Some(mine) {
                                // Same columns in another generated struct: convert it.
                                let columns = b
                                    .iter()
                                    .map(|c| {
                                        let mut copy = c.clone();
 copy.set_span(Span::call_site());
                                        (c.clone(), ColExpr::Column(copy))
                                    })
                                    .collect();
                                lowered.steps.push(Box::new(LegacyStep::Project {
                                    method: method.clone(),
                                    strukt: mine.clone(),
                                    columns,
                                }));
                            }
                        }
                    }
                    _ => self.error(
                        method.span(),
                        "`.union` takes a dataset (a pipeline before `.group_by` or `.write_stream`)",
                    ),
                }
                Some(LegacyStep::Union {
                    method,
                    other: Box::new(lowered),
                })
            }
            _ => unreachable!("the dispatcher checks where a call is made"),
        }
    }
}
