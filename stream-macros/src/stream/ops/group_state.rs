//! Arbitrary stateful processing on a keyed grouping: `.map_groups_with_state([timeout,] f)`,
//! `.flat_map_groups_with_state(mode, timeout, f)` and `.transform_with_state(processor,
//! time_mode, mode)` after `.group_by_key(|row| key)`
//! (Spark's `mapGroupsWithState` / `flatMapGroupsWithState`). The function is the user's typed
//! closure `(key, rows, &mut GroupState<S>)`, passed through; the checks are Spark's
//! analysis-time rules: a typed key, a watermark for `EventTimeTimeout`, the operator's mode,
//! and (at the writer, through `stream-core`'s rules) the output modes.

use super::super::ast::ColExpr;
use super::super::check::{Checker, Info, Key, Rows, Site, Stage};
use super::super::codegen::{event_time, row};
use super::super::parse::{last_ident, strip_groups};
use super::writer::{parse_mode, ModeSpec};
use super::{Operator, Place, Step};
use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use stream_core::rules::GroupStateShape;
use stream_core::{GroupStateTimeout, OutputMode};
use syn::spanned::Spanned;
use syn::{Error, Expr, ExprMethodCall, Ident, Result};

/// `.map_groups_with_state(..)` (`mode: None`), `.flat_map_groups_with_state(..)` or
/// `.transform_with_state(processor, time_mode, mode)` (`transform`, its time mode as the
/// timeout it works like).
pub struct GroupsWithState {
    /// `transform_with_state`: `func` is the processor.
    pub transform: bool,
    /// The operator's output mode (flat only).
    pub mode: Option<ModeSpec>,
    /// The timeout, with where it was written (`None`: not written, NoTimeout).
    pub timeout: (GroupStateTimeout, Option<Span>),
    /// The user's function.
    pub func: Expr,
}

// ---- parse ----

/// Parses `.map_groups_with_state([timeout,] f)`.
pub fn parse_map(name: &str, mc: &ExprMethodCall) -> Result<Box<dyn Operator>> {
    let args: Vec<&Expr> = mc.args.iter().collect();
    let (timeout, func) =
        match args.as_slice() {
            [func] => ((GroupStateTimeout::NoTimeout, None), *func),
            [timeout, func] => (parse_timeout(timeout)?, *func),
            _ => return Err(usage(
                name,
                mc,
                ".map_groups_with_state(NoTimeout, |key, rows, state: &mut GroupState<S>| output)",
            )),
        };
    Ok(Box::new(GroupsWithState {
        transform: false,
        mode: None,
        timeout,
        func: func.clone(),
    }))
}

/// Parses `.flat_map_groups_with_state(mode, timeout, f)`.
pub fn parse_flat_map(name: &str, mc: &ExprMethodCall) -> Result<Box<dyn Operator>> {
    let args: Vec<&Expr> = mc.args.iter().collect();
    let [mode, timeout, func] = args.as_slice() else {
        return Err(usage(name, mc, ".flat_map_groups_with_state(Append, NoTimeout, |key, rows, state: &mut GroupState<S>| outputs)"));
    };
    let mode = parse_mode(mode)?;
    if mode.mode == OutputMode::Complete {
        return Err(Error::new(
            mode.span,
            "flat_map_groups_with_state takes Append or Update as its own output mode, not Complete",
        ));
    }
    Ok(Box::new(GroupsWithState {
        transform: false,
        mode: Some(mode),
        timeout: parse_timeout(timeout)?,
        func: (*func).clone(),
    }))
}

/// Parses `.transform_with_state(processor, time_mode, mode)`.
pub fn parse_transform(name: &str, mc: &ExprMethodCall) -> Result<Box<dyn Operator>> {
    let args: Vec<&Expr> = mc.args.iter().collect();
    let [processor, time_mode, mode] = args.as_slice() else {
        return Err(usage(
            name,
            mc,
            ".transform_with_state(MyProcessor::default(), TimeMode::None, Update)",
        ));
    };
    let mode = parse_mode(mode)?;
    if mode.mode == OutputMode::Complete {
        return Err(Error::new(
            mode.span,
            "transform_with_state takes Append or Update as its output mode, not Complete",
        ));
    }
    let e = strip_groups(time_mode);
    let span = last_ident(e).map_or(e.span(), |i| i.span());
    let timeout = match last_ident(e).map(|i| i.to_string()).as_deref() {
        Some("None") => GroupStateTimeout::NoTimeout,
        Some("ProcessingTime") => GroupStateTimeout::ProcessingTimeTimeout,
        Some("EventTime") => GroupStateTimeout::EventTimeTimeout,
        _ => {
            return Err(Error::new(
                e.span(),
                "unknown time mode; use TimeMode::None, TimeMode::ProcessingTime or TimeMode::EventTime",
            ))
        }
    };
    Ok(Box::new(GroupsWithState {
        transform: true,
        mode: Some(mode),
        timeout: (timeout, Some(span)),
        func: (*processor).clone(),
    }))
}

fn usage(name: &str, mc: &ExprMethodCall, example: &str) -> Error {
    Error::new(
        mc.method.span(),
        format!("`.{name}` takes its arguments this way: `{example}`"),
    )
}

/// `NoTimeout`, `ProcessingTimeTimeout` or `EventTimeTimeout` (also `GroupStateTimeout::..`).
fn parse_timeout(expr: &Expr) -> Result<(GroupStateTimeout, Option<Span>)> {
    let e = strip_groups(expr);
    let timeout = match last_ident(e).map(|i| i.to_string()).as_deref() {
        Some("NoTimeout") => GroupStateTimeout::NoTimeout,
        Some("ProcessingTimeTimeout") => GroupStateTimeout::ProcessingTimeTimeout,
        Some("EventTimeTimeout") => GroupStateTimeout::EventTimeTimeout,
        _ => {
            return Err(Error::new(
                e.span(),
                "unknown timeout; use NoTimeout, ProcessingTimeTimeout or EventTimeTimeout",
            ))
        }
    };
    Ok((timeout, Some(last_ident(e).map_or(e.span(), |i| i.span()))))
}

// ---- check ----

impl Operator for GroupsWithState {
    fn place(&self) -> Place {
        Place::Grouping
    }

    fn check(&self, cx: &mut Checker, at: Site, info: &mut Info) -> Option<Box<dyn Step>> {
        let method = at.method;
        let name = method.to_string();
        let Stage::Grouped {
            key,
            method: g,
            input,
        } = at.input
        else {
            cx.error(
                method.span(),
                format!("`.{name}(..)` needs rows grouped by a typed key first: `.group_by_key(|row| row.key).{name}(..)`"),
            );
            return None;
        };
        if let Key::Columns { .. } = key {
            cx.error(
                g.span(),
                format!("`.{name}(..)` needs a typed key, as Spark's `groupByKey`: group with `.group_by_key(|row| row.key)` instead of columns"),
            );
            return reported(cx, info);
        }
        let (timeout, timeout_span) = self.timeout;
        let watermark = !info.event_time.is_empty();
        if timeout == GroupStateTimeout::EventTimeTimeout && !watermark && self.transform {
            cx.error(
                timeout_span.unwrap_or(method.span()),
                "TimeMode::EventTime needs a watermark: add `.with_watermark(col, \"delay\")` before `.group_by_key(..)`, or use TimeMode::ProcessingTime or TimeMode::None",
            );
            return reported(cx, info);
        }
        if timeout == GroupStateTimeout::EventTimeTimeout && !watermark {
            cx.error(
                timeout_span.unwrap_or(method.span()),
                "EventTimeTimeout needs a watermark: add `.with_watermark(col, \"delay\")` before `.group_by_key(..)`, or use ProcessingTimeTimeout or NoTimeout",
            );
            return reported(cx, info);
        }
        // Spark drops the rows at or below the watermark before the function, with
        // EventTimeTimeout: the builder needs the watermarked column of the rows.
        let late = (timeout == GroupStateTimeout::EventTimeTimeout)
            .then(|| {
                info.watermarks.iter().find_map(|w| match &input {
                    Rows::Known { columns, .. } => columns
                        .iter()
                        .any(|c| *c == w.column)
                        .then(|| (w.origin.clone(), Ident::new(&w.column, method.span()))),
                    Rows::Opaque => w
                        .unchecked
                        .as_ref()
                        .filter(|(_, family)| *family == info.family)
                        .map(|(c, _)| (w.origin.clone(), c.clone())),
                })
            })
            .flatten();
        let map = self.mode.is_none();
        info.shape.group_states.push(GroupStateShape {
            map,
            mode: self.mode.as_ref().map_or(OutputMode::Update, |m| m.mode),
            timeout,
            aggregations_before: info.shape.aggregations.len(),
            watermark,
        });
        function_rows(cx, info);
        Some(Box::new(GroupsWithStateStep {
            transform: self.transform,
            method,
            mode: self.mode.as_ref().map(|m| (m.mode, m.span)),
            timeout: (timeout, timeout_span),
            func: self.func.clone(),
            late,
        }))
    }
}

/// The function makes the rows: of a type the macro cannot see, with no watermark.
fn function_rows(cx: &mut Checker, info: &mut Info) {
    info.stage = Stage::Rows(Rows::Opaque);
    info.family = cx.new_family();
    info.watermarks.clear();
    info.windows.clear();
    info.event_time.clear();
    info.unchecked.clear();
    info.tables.clear();
}

/// After a reported error: the calls that follow are checked on the function's rows, and the
/// output-mode rules are not run (one mistake is reported once).
fn reported(cx: &mut Checker, info: &mut Info) -> Option<Box<dyn Step>> {
    function_rows(cx, info);
    info.failed = true;
    None
}

// ---- codegen ----

/// The builder call, with the user's function.
pub struct GroupsWithStateStep {
    /// `transform_with_state`.
    pub transform: bool,
    /// The user's method token.
    pub method: Ident,
    /// The operator's mode, with its span (flat only).
    pub mode: Option<(OutputMode, Span)>,
    /// The timeout, with its span.
    pub timeout: (GroupStateTimeout, Option<Span>),
    /// The function.
    pub func: Expr,
    /// The rows' watermarked column (the builder's name, the column), to drop late rows.
    pub late: Option<(String, Ident)>,
}

impl Step for GroupsWithStateStep {
    fn generate(&self) -> TokenStream {
        let Self {
            transform,
            method,
            mode,
            timeout,
            func,
            late,
        } = self;
        let late = late.as_ref().map(|(origin, column)| {
            let t = event_time(&ColExpr::Column(column.clone()));
            let r = row(column.span());
            quote!(.late_rows_by(#origin, move |#r| #t))
        });
        let span = timeout.1.unwrap_or(method.span());
        if let (true, Some((m, mspan))) = (*transform, *mode) {
            let t = Ident::new(
                match timeout.0 {
                    GroupStateTimeout::NoTimeout => "None",
                    GroupStateTimeout::ProcessingTimeTimeout => "ProcessingTime",
                    GroupStateTimeout::EventTimeTimeout => "EventTime",
                },
                span,
            );
            let time_mode = quote_spanned!(span=> ::stream_runtime::TimeMode::#t);
            let m = Ident::new(m.name(), mspan);
            let mode = quote_spanned!(mspan=> ::stream_runtime::OutputMode::#m);
            return quote!(#late .#method(#func, #time_mode, #mode));
        }
        let t = Ident::new(timeout.0.name(), span);
        let timeout = quote_spanned!(span=> ::stream_runtime::GroupStateTimeout::#t);
        match mode {
            None => quote!(#late .#method(#timeout, #func)),
            Some((mode, span)) => {
                let m = Ident::new(mode.name(), *span);
                let mode = quote_spanned!(*span=> ::stream_runtime::OutputMode::#m);
                quote!(#late .#method(#mode, #timeout, #func))
            }
        }
    }
}
