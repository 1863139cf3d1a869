//! Check: follows the rows through each pipeline, rejects what Spark would reject at analysis
//! time (with the error on the user's token), and lowers the AST into a [`Plan`]: the same
//! pipelines, with every decision codegen needs made (which structs to generate, which `lit(..)`
//! values to hoist, which bindings to clone).
//!
//! The rules themselves (output modes, durations) are `stream_core`'s, shared with the runtime.

use super::ast::*;
use super::suggest::did_you_mean;
use proc_macro2::Span;
use quote::format_ident;
use std::collections::HashMap;
use stream_core::rules::{check_output_mode, AggShape, PlanShape};
use stream_core::OutputMode;
use syn::{Error, Expr, Ident, Result, Type};

/// The checked, lowered body.
pub struct Plan {
    /// Row and key structs to declare.
    pub structs: Vec<GenStruct>,
    /// `lit(..)` values, evaluated once before the pipelines: `let var = expr;`.
    pub lits: Vec<(Ident, Expr)>,
    /// The `let` bindings.
    pub bindings: Vec<(Ident, Lowered)>,
    /// The result.
    pub result: Lowered,
}

/// A struct the expansion declares.
pub struct GenStruct {
    /// Its name.
    pub name: Ident,
    /// Its shape.
    pub kind: GenKind,
}

/// The shape of a generated struct.
pub enum GenKind {
    /// A row (or key) whose columns the macro knows; one type parameter per column.
    Columns(Vec<Ident>),
    /// A row of unknown columns (`__base`, dereferenced to) plus one more column.
    WithColumn(Ident),
}

/// A lowered pipeline.
pub struct Lowered {
    /// Where it starts.
    pub source: LSource,
    /// What it does.
    pub steps: Vec<Step>,
}

/// Where a lowered pipeline starts.
pub enum LSource {
    /// `read_stream::<T>(arg)`.
    ReadStream {
        /// The user's `read_stream` token.
        func: Ident,
        /// The row type, if given.
        row_type: Option<Box<Type>>,
        /// The source expression.
        arg: Box<Expr>,
    },
    /// A binding; cloned if it is used again later.
    Name {
        /// The binding.
        ident: Ident,
        /// Clone instead of moving it.
        clone: bool,
    },
}

/// A lowered aggregate.
pub struct LAgg {
    /// The user's function token.
    pub func_token: Ident,
    /// The function.
    pub func: AggFunc,
    /// Its argument.
    pub arg: Option<ColExpr>,
}

/// The key columns an aggregation's output starts with.
pub enum KeyOut {
    /// The grouping columns in order: the window's (`window`), or those of the generated key
    /// struct, copied one by one.
    Fields {
        /// All grouping columns, in order.
        fields: Vec<Ident>,
        /// The one that is the window, if any.
        window: Option<Ident>,
    },
    /// The whole key, as one column called `key`.
    Whole,
}

/// One step of a lowered pipeline. `method` is the user's method token (for spans).
pub enum Step {
    /// `.filter(|__r| pred)`.
    Filter { method: Ident, pred: ColExpr },
    /// `.filter(f)` with the user's closure.
    FilterFn { method: Ident, func: Expr },
    /// `.map(|__r| S { col: expr, ... })`.
    Project {
        method: Ident,
        strukt: Ident,
        columns: Vec<(Ident, ColExpr)>,
    },
    /// `.map(|__r| S { __base: __r, column: expr })`.
    Extend {
        method: Ident,
        strukt: Ident,
        column: Ident,
        value: ColExpr,
    },
    /// `.map(f)` with the user's function.
    Map { method: Ident, func: Expr },
    /// `.flat_map(f)` with the user's function.
    FlatMap { method: Ident, func: Expr },
    /// `.union(other)`.
    Union { method: Ident, other: Box<Lowered> },
    /// `.with_watermark(|__r| time, "delay")`.
    WithWatermark {
        method: Ident,
        time: ColExpr,
        delay: syn::LitStr,
    },
    /// `.group_by(|__r| K { col: expr, ... })`, or with a window
    /// `.group_by_window(spec, |__r| time, |__r| K { .. })`.
    GroupBy {
        method: Ident,
        strukt: Ident,
        columns: Vec<(Ident, ColExpr)>,
        window: Option<LWindow>,
    },
    /// `.group_by(f)` / `.group_by_key(f)` with the user's key function.
    GroupByFn {
        method: Ident,
        func: Expr,
        by_key: bool,
    },
    /// `.agg(|__a| (..), |__k, (..)| S { .. })`.
    Agg {
        method: Ident,
        aggs: Vec<LAgg>,
        names: Vec<Ident>,
        key: KeyOut,
        strukt: Ident,
    },
    /// The runtime's `.count()` on a grouping by key.
    CountKey { method: Ident },
    /// `.write_stream(sink)`.
    WriteStream { method: Ident, sink: Expr },
    /// `.output_mode(mode)`.
    OutputMode {
        method: Ident,
        mode: OutputMode,
        span: Span,
    },
    /// `.trigger(trigger)`.
    Trigger { method: Ident, trigger: LTrigger },
    /// `.query_name(name)`.
    QueryName { method: Ident, name: Expr },
    /// `.start()`.
    Start { method: Ident },
}

/// A checked `window(..)` of a group_by.
pub struct LWindow {
    /// Size, slide and start offset in milliseconds.
    pub size: i64,
    /// See `size`.
    pub slide: i64,
    /// See `size`.
    pub offset: i64,
    /// The `window` token.
    pub span: Span,
    /// The event-time column.
    pub time: ColExpr,
}

/// A checked trigger.
pub enum LTrigger {
    /// Every `ms` milliseconds.
    ProcessingTime(i64, Span),
    /// `AvailableNow`
    AvailableNow(Span),
    /// `Once`
    Once(Span),
    /// `Default`
    Default(Span),
}

/// The rows flowing at some point of a pipeline.
#[derive(Clone)]
enum Rows {
    /// Columns the macro knows, in a struct it generated (`None`: a runtime struct).
    Known {
        strukt: Option<Ident>,
        columns: Vec<Ident>,
        /// What produced them, for messages: "`.select(..)`".
        origin: String,
    },
    /// A user type (or a type the macro cannot see): rustc checks the column names.
    Opaque,
}

/// The grouping key.
#[derive(Clone)]
enum Key {
    /// Generated key columns (and maybe a window), in group_by order.
    Columns {
        names: Vec<Ident>,
        window: Option<Ident>,
        /// The window is on a column with a watermark (the watermark can close groups).
        watermarked: bool,
    },
    Opaque,
}

/// What a pipeline is at some point.
#[derive(Clone)]
enum Stage {
    Rows(Rows),
    Grouped {
        input: Rows,
        key: Key,
        method: Ident,
    },
    Writer(Writer),
}

#[derive(Clone)]
struct Writer {
    /// The `write_stream` token.
    method: Ident,
    mode: Option<(OutputMode, Span)>,
    trigger: bool,
    name: bool,
    started: bool,
    checked: bool,
}

/// What is known about a (sub)pipeline after checking it.
#[derive(Clone)]
struct Info {
    stage: Stage,
    shape: PlanShape,
    /// The columns with a watermark (`with_watermark`), by name.
    watermarks: Vec<String>,
}

struct Checker {
    errors: Vec<Error>,
    structs: Vec<GenStruct>,
    lits: Vec<(Ident, Expr)>,
    env: HashMap<String, Info>,
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
        if let Op::Union(other) = &call.op {
            count_uses(other, uses);
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

fn names(cols: &[Ident]) -> String {
    cols.iter()
        .map(|c| c.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

impl Checker {
    fn error(&mut self, span: Span, msg: impl std::fmt::Display) {
        self.errors.push(Error::new(span, msg));
    }

    fn new_struct(&mut self, prefix: &str, kind: GenKind) -> Ident {
        let name = format_ident!("__{}{}", prefix, self.structs.len() + 1);
        self.structs.push(GenStruct {
            name: name.clone(),
            kind,
        });
        name
    }

    /// Checks the columns an expression reads against known rows, and hoists its `lit(..)`s.
    fn expr(&mut self, e: &ColExpr, rows: &Rows) -> ColExpr {
        if let Rows::Known {
            columns, origin, ..
        } = rows
        {
            let mut unknown = Vec::new();
            e.for_each_column(&mut |c| {
                if !columns.contains(c) {
                    unknown.push(c.clone());
                }
            });
            let known: Vec<String> = columns.iter().map(|c| c.to_string()).collect();
            for c in unknown {
                let s = c.to_string();
                let hint = did_you_mean(&s, known.iter().map(String::as_str));
                self.error(
                    c.span(),
                    format!(
                        "unknown column `{s}`{hint}; the rows after {origin} have the columns: {}",
                        names(columns)
                    ),
                );
            }
        }
        self.hoist(e)
    }

    fn hoist(&mut self, e: &ColExpr) -> ColExpr {
        let b = |c: &mut Self, e: &ColExpr| Box::new(c.hoist(e));
        match e {
            ColExpr::RustValue { func, expr } => {
                let var = Ident::new(&format!("__lit{}", self.lits.len()), Span::mixed_site());
                self.lits.push((var.clone(), (**expr).clone()));
                ColExpr::Hoisted {
                    func: func.clone(),
                    var,
                }
            }
            ColExpr::Column(_) | ColExpr::Lit(_) | ColExpr::Hoisted { .. } => e.clone(),
            ColExpr::Unary { op, expr } => ColExpr::Unary {
                op: *op,
                expr: b(self, expr),
            },
            ColExpr::Binary { left, op, right } => ColExpr::Binary {
                left: b(self, left),
                op: *op,
                right: b(self, right),
            },
            ColExpr::Paren { paren, expr } => ColExpr::Paren {
                paren: *paren,
                expr: b(self, expr),
            },
            ColExpr::Cast { expr, as_token, ty } => ColExpr::Cast {
                expr: b(self, expr),
                as_token: *as_token,
                ty: ty.clone(),
            },
            ColExpr::Ref { and_token, expr } => ColExpr::Ref {
                and_token: *and_token,
                expr: b(self, expr),
            },
            ColExpr::Field { base, dot, member } => ColExpr::Field {
                base: b(self, base),
                dot: *dot,
                member: member.clone(),
            },
            ColExpr::MethodCall {
                receiver,
                dot,
                method,
                turbofish,
                paren,
                args,
            } => ColExpr::MethodCall {
                receiver: b(self, receiver),
                dot: *dot,
                method: method.clone(),
                turbofish: turbofish.clone(),
                paren: *paren,
                args: args.iter().map(|a| self.hoist(a)).collect(),
            },
            ColExpr::Call { func, paren, args } => ColExpr::Call {
                func: func.clone(),
                paren: *paren,
                args: args.iter().map(|a| self.hoist(a)).collect(),
            },
        }
    }

    /// Checks named items (select, group_by): columns exist, names are unique.
    fn items(&mut self, items: &[NamedExpr], rows: &Rows, what: &str) -> Vec<(Ident, ColExpr)> {
        let mut out: Vec<(Ident, ColExpr)> = Vec::new();
        for item in items {
            let e = self.expr(&item.expr, rows);
            if out.iter().any(|(n, _)| *n == item.name) {
                self.error(
                    item.name.span(),
                    format!(
                        "the column `{}` appears twice in this {what}; rename one with `as other_name`",
                        item.name
                    ),
                );
                continue;
            }
            out.push((item.name.clone(), e));
        }
        out
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
                Info {
                    stage: Stage::Rows(Rows::Opaque),
                    shape: PlanShape::default(),
                    watermarks: Vec::new(),
                },
            ),
            Source::Name(n) => {
                let key = n.to_string();
                let left = self.remaining_uses.entry(key.clone()).or_insert(1);
                *left = left.saturating_sub(1);
                let clone = *left > 0;
                // A name that is not a binding of this body is a `Dataset` of the surrounding
                // code: its rows are opaque (rustc checks them).
                let info = self.env.get(&key).cloned().unwrap_or(Info {
                    stage: Stage::Rows(Rows::Opaque),
                    shape: PlanShape::default(),
                    watermarks: Vec::new(),
                });
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

    fn pipeline(&mut self, p: &Pipeline) -> (Lowered, Info) {
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
    fn finish(&mut self, info: &mut Info) {
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

    fn call(&mut self, call: &Call, info: &mut Info) -> Option<Step> {
        let method = call.method.clone();
        let m = method.to_string();
        let stage = info.stage.clone();
        if let Stage::Writer(w) = &stage {
            if w.started {
                self.error(
                    method.span(),
                    format!("`.{m}` comes after `.start()`, which returns the running query; call `.start()` last"),
                );
                return None;
            }
        }
        match (&call.op, stage) {
            // ---- the writer ----
            (Op::OutputMode(spec), Stage::Writer(mut w)) => {
                if w.mode.is_some() {
                    self.error(method.span(), "`.output_mode` is given twice; keep one");
                }
                w.mode = Some((spec.mode, spec.span));
                info.stage = Stage::Writer(w);
                Some(Step::OutputMode {
                    method,
                    mode: spec.mode,
                    span: spec.span,
                })
            }
            (Op::Trigger(spec), Stage::Writer(mut w)) => {
                if w.trigger {
                    self.error(method.span(), "`.trigger` is given twice; keep one");
                }
                w.trigger = true;
                info.stage = Stage::Writer(w);
                let trigger = self.trigger(spec)?;
                Some(Step::Trigger { method, trigger })
            }
            (Op::QueryName(name), Stage::Writer(mut w)) => {
                if w.name {
                    self.error(method.span(), "`.query_name` is given twice; keep one");
                }
                w.name = true;
                info.stage = Stage::Writer(w);
                Some(Step::QueryName {
                    method,
                    name: name.clone(),
                })
            }
            (Op::Start, Stage::Writer(mut w)) => {
                w.started = true;
                info.stage = Stage::Writer(w);
                self.finish(info);
                Some(Step::Start { method })
            }
            (Op::OutputMode(_) | Op::Trigger(_) | Op::QueryName(_) | Op::Start, _) => {
                self.error(
                    method.span(),
                    format!("`.{m}` configures the writer: call `.write_stream(sink)` first, then `.{m}(..)`"),
                );
                None
            }
            (_, Stage::Writer(_)) => {
                self.error(
                    method.span(),
                    format!(
                        "`.{m}` is not available after `.write_stream(..)`: the writer takes `.output_mode(..)`, \
                         `.trigger(..)`, `.query_name(..)` and `.start()`; move `.{m}` before `.write_stream(..)`"
                    ),
                );
                None
            }
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
                    Some(Step::CountKey { method })
                }
            },
            (_, Stage::Grouped { method: g, .. }) => {
                self.error(
                    method.span(),
                    format!("after `.{g}(..)` comes `.agg(..)` or `.count()`, not `.{m}`"),
                );
                None
            }
            // ---- datasets ----
            (Op::Filter(pred), Stage::Rows(rows)) => Some(Step::Filter {
                method,
                pred: self.expr(pred, &rows),
            }),
            (Op::FilterFn(func), Stage::Rows(_)) => Some(Step::FilterFn {
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
                let columns = self.items(items, &rows, "select");
                let names: Vec<Ident> = columns.iter().map(|(n, _)| n.clone()).collect();
                let strukt = self.new_struct("Row", GenKind::Columns(names.clone()));
                info.stage = Stage::Rows(Rows::Known {
                    strukt: Some(strukt.clone()),
                    columns: names,
                    origin: "`.select(..)`".into(),
                });
                Some(Step::Project {
                    method,
                    strukt,
                    columns,
                })
            }
            (Op::WithColumn(item), Stage::Rows(rows)) => {
                info.watermarks.retain(|w| item.name != w);
                let value = self.expr(&item.expr, &rows);
                match rows {
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
                        Some(Step::Project {
                            method,
                            strukt,
                            columns: out,
                        })
                    }
                    Rows::Opaque => {
                        let strukt =
                            self.new_struct("WithColumn", GenKind::WithColumn(item.name.clone()));
                        Some(Step::Extend {
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
                Some(Step::Map {
                    method,
                    func: func.clone(),
                })
            }
            (Op::FlatMap(func), Stage::Rows(_)) => {
                info.stage = Stage::Rows(Rows::Opaque);
                Some(Step::FlatMap {
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
                                lowered.steps.push(Step::Project {
                                    method: method.clone(),
                                    strukt: mine.clone(),
                                    columns,
                                });
                            }
                        }
                    }
                    _ => self.error(
                        method.span(),
                        "`.union` takes a dataset (a pipeline before `.group_by` or `.write_stream`)",
                    ),
                }
                Some(Step::Union {
                    method,
                    other: Box::new(lowered),
                })
            }
            (Op::GroupBy(items), Stage::Rows(rows)) => {
                let mut window = None;
                let mut window_name = None;
                let mut watermarked = false;
                let mut names = Vec::new();
                let mut columns = Vec::new();
                for item in items {
                    match item {
                        GroupItem::Column(named) => {
                            columns.extend(self.items(
                                std::slice::from_ref(named),
                                &rows,
                                "group_by",
                            ));
                            names.push(named.name.clone());
                        }
                        GroupItem::Window(w) => {
                            if let ColExpr::Column(c) = &w.time {
                                watermarked = info.watermarks.contains(&c.to_string());
                            }
                            window = self.window(w, &rows);
                            window_name = Some(w.name.clone());
                            names.push(w.name.clone());
                        }
                    }
                }
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
                    },
                    method: method.clone(),
                };
                Some(Step::GroupBy {
                    method,
                    strukt,
                    columns,
                    window,
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
                Some(Step::WithWatermark {
                    method,
                    time: self.expr(column, &rows),
                    delay: delay.clone(),
                })
            }
            (Op::GroupByKey { func, by_key }, Stage::Rows(rows)) => {
                info.stage = Stage::Grouped {
                    input: rows,
                    key: Key::Opaque,
                    method: method.clone(),
                };
                Some(Step::GroupByFn {
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
            (Op::WriteStream(sink), Stage::Rows(_)) => {
                info.stage = Stage::Writer(Writer {
                    method: method.clone(),
                    mode: None,
                    trigger: false,
                    name: false,
                    started: false,
                    checked: false,
                });
                Some(Step::WriteStream {
                    method,
                    sink: sink.clone(),
                })
            }
        }
    }

    fn agg(
        &mut self,
        method: Ident,
        items: &[AggItem],
        input: &Rows,
        key: &Key,
        info: &mut Info,
    ) -> Step {
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
        for item in items {
            let arg = item.arg.as_ref().map(|a| self.expr(a, input));
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
            session_window: false,
        });
        info.watermarks.clear();
        info.stage = Stage::Rows(Rows::Known {
            strukt: Some(strukt.clone()),
            columns: names,
            origin: format!("`.{method}(..)`"),
        });
        Step::Agg {
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
    fn window(&mut self, w: &WindowItem, rows: &Rows) -> Option<LWindow> {
        use stream_core::WindowSpec;
        let time = self.expr(&w.time, rows);
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

    fn trigger(&mut self, spec: &TriggerSpec) -> Option<LTrigger> {
        Some(match spec {
            TriggerSpec::ProcessingTime(lit) => match stream_core::parse_duration(&lit.value()) {
                Ok(ms) if ms < 0 => {
                    self.error(lit.span(), "a trigger interval cannot be negative");
                    return None;
                }
                Ok(ms) => LTrigger::ProcessingTime(ms, lit.span()),
                Err(e) => {
                    self.error(lit.span(), e);
                    return None;
                }
            },
            TriggerSpec::ProcessingTimeMs(lit) => match lit.base10_parse::<i64>() {
                Ok(ms) => LTrigger::ProcessingTime(ms, lit.span()),
                Err(e) => {
                    self.errors.push(e);
                    return None;
                }
            },
            TriggerSpec::AvailableNow(s) => LTrigger::AvailableNow(*s),
            TriggerSpec::Once(s) => LTrigger::Once(*s),
            TriggerSpec::Default(s) => LTrigger::Default(*s),
        })
    }
}
