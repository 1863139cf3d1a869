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
use super::ops::{Operator, Place, Step};
pub use columns::{mentions, names, unqualify};
use proc_macro2::Span;
use quote::format_ident;
use std::collections::HashMap;
use stream_core::rules::{check_output_mode, AggShape};
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
    fn place(&self) -> Place {
        match self {
            Op::Agg(_) | Op::Count => Place::Grouping,
            _ => Place::Rows,
        }
    }

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
        let m = method.to_string();
        match (op, stage) {
            // ---- groupings ----
            (Op::Agg(items), Stage::Grouped { input, key, .. }) => {
                Some(self.agg(method, items, &input, &key, info))
            }
            (Op::Count, Stage::Grouped { input, key, .. }) => match key {
                key @ Key::Columns { .. } => {
                    let item = AggItem {
                        func_token: Ident::new("count", method.span()),
                        func: AggFunc::Count,
                        arg: None,
                        name: Ident::new("count", method.span()),
                    };
                    Some(self.agg(method, &[item], &input, &key, info))
                }
                Key::Opaque => {
                    info.shape.aggregations.push(AggShape::default());
                    info.stage = Stage::Rows(Rows::Known {
                        strukt: None,
                        columns: vec![
                            Ident::new("key", Span::call_site()),
                            Ident::new("count", Span::call_site()),
                        ],
                        origin: "`.group_by_key(..).count()`".into(),
                    });
                    Some(LegacyStep::CountKey { method })
                }
            },
            // ---- static tables ----
            // ---- datasets ----
            (Op::OrderBy(items), Stage::Rows(rows)) => {
                if info.shape.aggregations.is_empty() {
                    self.error(
                        method.span(),
                        format!(
                            "`.{m}` sorts the result table of an aggregation, in Complete output mode: Spark supports \
                             no other sort on a stream; sort after `.group_by(..).agg(..)` and write with \
                             `.output_mode(Complete)`, or sort in the sink"
                        ),
                    );
                }
                let keys = items
                    .iter()
                    .map(|i| (self.expr(&i.expr, &rows, &info.tables), i.descending))
                    .collect();
                info.shape.sorted = true;
                info.sorted_at = Some(method.clone());
                Some(LegacyStep::OrderBy { method, keys })
            }
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
            (Op::GroupBy(items), Stage::Rows(rows)) => {
                let mut window = None;
                let mut session = None;
                let mut window_name = None;
                let mut watermarked = false;
                let mut names = Vec::new();
                let mut columns = Vec::new();
                let tables = info.tables.clone();
                for item in items {
                    match item {
                        GroupItem::Column(named) => {
                            columns.extend(self.items(
                                std::slice::from_ref(named),
                                &rows,
                                &tables,
                                "group_by",
                            ));
                            names.push(named.name.clone());
                        }
                        GroupItem::Window(w) => {
                            watermarked = event_time_column(&w.time)
                                .is_some_and(|c| info.watermarks.contains(&c.to_string()));
                            window = self.window(w, &rows, &tables);
                            window_name = Some(w.name.clone());
                            names.push(w.name.clone());
                        }
                        GroupItem::Session(w) => {
                            if let ColExpr::Column(c) = &w.time {
                                watermarked = info.watermarks.contains(&c.to_string());
                            }
                            session = self.session_window(w, &rows, &tables);
                            window_name = Some(w.name.clone());
                            names.push(w.name.clone());
                        }
                    }
                }
                let is_session = items.iter().any(|i| matches!(i, GroupItem::Session(_)));
                for (i, n) in names.iter().enumerate() {
                    if names[..i].contains(n) {
                        self.error(
                            n.span(),
                            format!("the column `{n}` appears twice in this group_by; rename one with `as other_name`"),
                        );
                    }
                }
                let key_names: Vec<Ident> = columns.iter().map(|(n, _)| n.clone()).collect();
                let strukt = self.new_struct("Key", GenKind::Columns(key_names));
                info.stage = Stage::Grouped {
                    input: rows,
                    key: Key::Columns {
                        names,
                        window: window_name,
                        watermarked,
                        session: is_session,
                    },
                    method: method.clone(),
                };
                Some(LegacyStep::GroupBy {
                    method,
                    strukt,
                    columns,
                    window,
                    session,
                })
            }
            (Op::WithWatermark { column, delay }, Stage::Rows(rows)) => {
                match stream_core::parse_duration(&delay.value()) {
                    Ok(ms) if ms < 0 => {
                        self.error(delay.span(), "a watermark delay cannot be negative")
                    }
                    Ok(_) => {}
                    Err(e) => self.error(delay.span(), e),
                }
                if let ColExpr::Column(c) = column {
                    info.watermarks.push(c.to_string());
                }
                Some(LegacyStep::WithWatermark {
                    method,
                    time: self.expr(column, &rows, &info.tables),
                    delay: delay.clone(),
                })
            }
            (Op::GroupByKey { func, by_key }, Stage::Rows(rows)) => {
                info.stage = Stage::Grouped {
                    input: rows,
                    key: Key::Opaque,
                    method: method.clone(),
                };
                Some(LegacyStep::GroupByFn {
                    method,
                    func: func.clone(),
                    by_key: *by_key,
                })
            }
            (Op::Agg(_), Stage::Rows(_)) => {
                self.error(
                    method.span(),
                    "`.agg(..)` needs a grouping first: `.group_by(col, ..).agg(..)` (or `.group_by()` for one global group)",
                );
                None
            }
            (Op::Count, Stage::Rows(_)) => {
                self.error(
                    method.span(),
                    "`.count()` on a stream needs a grouping: `.group_by(col).count()` or `.group_by().count()` for a running total",
                );
                None
            }
            _ => unreachable!("the dispatcher checks where a call is made"),
        }
    }

    fn agg(
        &mut self,
        method: Ident,
        items: &[AggItem],
        input: &Rows,
        key: &Key,
        info: &mut Info,
    ) -> LegacyStep {
        let key_names: Vec<Ident> = match key {
            Key::Columns { names, .. } => names.clone(),
            Key::Opaque => vec![Ident::new("key", Span::call_site())],
        };
        if items.len() > 8 {
            self.error(
                items[8].func_token.span(),
                "at most 8 aggregates fit in one `.agg(..)`; split the aggregation or drop some",
            );
        }
        let mut names = key_names.clone();
        let mut aggs = Vec::new();
        let tables = std::mem::take(&mut info.tables);
        for item in items {
            let arg = item.arg.as_ref().map(|a| self.expr(a, input, &tables));
            if names.contains(&item.name) {
                self.error(
                    item.name.span(),
                    format!(
                        "the output column `{}` already exists (a grouping column or another aggregate); rename it with `as other_name`",
                        item.name
                    ),
                );
            }
            names.push(item.name.clone());
            aggs.push(LAgg {
                func_token: item.func_token.clone(),
                func: item.func,
                arg,
            });
        }
        let agg_names: Vec<Ident> = items.iter().map(|i| i.name.clone()).collect();
        let strukt = self.new_struct("Row", GenKind::Columns(names.clone()));
        info.shape.aggregations.push(AggShape {
            watermarked_event_time_key: matches!(
                key,
                Key::Columns {
                    watermarked: true,
                    ..
                }
            ),
            session_window: matches!(key, Key::Columns { session: true, .. }),
        });
        info.watermarks.clear();
        // The window of a watermarked windowed aggregation carries the watermark on: a chained
        // aggregation may group by `window(window_time(window), ..)`.
        if let Key::Columns {
            window: Some(w),
            watermarked: true,
            ..
        } = key
        {
            info.watermarks.push(w.to_string());
        }
        info.stage = Stage::Rows(Rows::Known {
            strukt: Some(strukt.clone()),
            columns: names,
            origin: format!("`.{method}(..)`"),
        });
        LegacyStep::Agg {
            method,
            aggs,
            names: agg_names,
            key: match key {
                Key::Columns { names, window, .. } => KeyOut::Fields {
                    fields: names.clone(),
                    window: window.clone(),
                },
                Key::Opaque => KeyOut::Whole,
            },
            strukt,
        }
    }

    /// Checks a `window(..)`: its durations (with `stream_core`'s rules) and its column.
    fn window(&mut self, w: &WindowItem, rows: &Rows, tables: &[JTable]) -> Option<LWindow> {
        use stream_core::WindowSpec;
        let time = self.expr(&w.time, rows, tables);
        let d: Vec<String> = w.durations.iter().map(|l| l.value()).collect();
        let spec = match d.len() {
            1 => WindowSpec::tumbling(&d[0]),
            _ => WindowSpec::sliding(&d[0], &d[1]),
        };
        let spec = match (spec, d.get(2)) {
            (Ok(spec), Some(offset)) => spec.with_offset(offset),
            (spec, _) => spec,
        };
        match spec {
            Ok(spec) => Some(LWindow {
                size: spec.size,
                slide: spec.slide,
                offset: spec.offset,
                span: w.func.span(),
                time,
            }),
            Err(e) => {
                // Point at the string that is wrong.
                let span = w
                    .durations
                    .iter()
                    .find(|l| l.value() == e.input)
                    .map_or(w.func.span(), |l| l.span());
                self.error(span, e);
                None
            }
        }
    }

    /// Checks a `session_window(..)`: a fixed gap is a positive duration, a per-row gap is a
    /// column expression.
    fn session_window(
        &mut self,
        w: &SessionItem,
        rows: &Rows,
        tables: &[JTable],
    ) -> Option<Box<LSession>> {
        let time = self.expr(&w.time, rows, tables);
        let gap = match &w.gap {
            SessionGapSpec::Fixed(lit) => match stream_core::parse_duration(&lit.value()) {
                Ok(ms) if ms <= 0 => {
                    self.error(
                        lit.span(),
                        format!("a session gap must be positive, not `{}`", lit.value()),
                    );
                    return None;
                }
                Ok(ms) => LGap::Fixed(ms, lit.span()),
                Err(e) => {
                    self.error(lit.span(), e);
                    return None;
                }
            },
            SessionGapSpec::PerRow(e) => LGap::PerRow(self.expr(e, rows, tables)),
        };
        Some(Box::new(LSession { time, gap }))
    }
}

/// The column a window is computed on: `ts`, or the window column in `window_time(window)`.
fn event_time_column(time: &ColExpr) -> Option<&Ident> {
    match time {
        ColExpr::Column(c) => Some(c),
        ColExpr::Call { func, args, .. }
            if func
                .path
                .segments
                .last()
                .is_some_and(|s| s.ident == "window_time") =>
        {
            match args.as_slice() {
                [ColExpr::Column(c)] => Some(c),
                _ => None,
            }
        }
        _ => None,
    }
}
