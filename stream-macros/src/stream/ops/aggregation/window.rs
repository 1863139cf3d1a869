//! The windows of a `.group_by(..)`: `window(time, "size"[, "slide"[, "offset"]])` and
//! `session_window(time, gap)`; their durations are checked with `stream_core`'s rules.

use super::super::super::ast::ColExpr;
use super::super::super::check::{Checker, JTable, Rows};
use super::super::super::parse::{parse_col_expr, strip_groups};
use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{Error, Expr, Ident, Lit, Result};

/// `window(time, "size"[, "slide"[, "offset"]]) [as name]`: an event-time window.
pub struct WindowItem {
    /// The `window` token.
    pub func: Ident,
    /// The event-time column.
    pub time: ColExpr,
    /// Size, then optionally slide and start offset (checked by `check`).
    pub durations: Vec<syn::LitStr>,
    /// The output column's name (`window` unless aliased).
    pub name: Ident,
}

/// `session_window(time, gap) [as name]`: a session window.
pub struct SessionItem {
    /// The `session_window` token.
    pub func: Ident,
    /// The event-time column.
    pub time: ColExpr,
    /// The gap.
    pub gap: SessionGapSpec,
    /// The output column's name (`session_window` unless aliased).
    pub name: Ident,
}

/// The gap of a session window.
pub enum SessionGapSpec {
    /// A duration string, the same for every row (checked by `check`).
    Fixed(syn::LitStr),
    /// A column expression giving each row's gap in milliseconds (`i64`).
    PerRow(ColExpr),
}

// ---- parse ----

/// `window(time, "size"[, "slide"[, "offset"]])`, its `window` token being `func`.
pub fn parse_window(
    func: &Ident,
    call: &syn::ExprCall,
    alias: Option<Ident>,
) -> Result<WindowItem> {
    const USAGE: &str =
        "window(time_column, \"10 seconds\"), or with a slide and a start offset: window(time_column, \"10 seconds\", \"5 seconds\", \"1 second\")";
    let args: Vec<&Expr> = call.args.iter().collect();
    if !(2..=4).contains(&args.len()) {
        return Err(Error::new(func.span(), format!("write `{USAGE}`")));
    }
    let time = parse_col_expr(args[0])?;
    let durations = args[1..]
        .iter()
        .map(|a| match strip_groups(a) {
            Expr::Lit(syn::ExprLit {
                lit: Lit::Str(s), ..
            }) => Ok(s.clone()),
            other => Err(Error::new(
                other.span(),
                format!("window durations are string literals, checked at compile time: `{USAGE}`"),
            )),
        })
        .collect::<Result<_>>()?;
    Ok(WindowItem {
        func: func.clone(),
        time,
        durations,
        name: alias.unwrap_or_else(|| Ident::new("window", func.span())),
    })
}

/// `session_window(time, "5 seconds")` or `session_window(time, gap_ms_expression)`.
pub fn parse_session_window(
    func: &Ident,
    call: &syn::ExprCall,
    alias: Option<Ident>,
) -> Result<SessionItem> {
    const USAGE: &str =
        "session_window(time_column, \"5 seconds\"), or with a gap in milliseconds per row: \
                         session_window(time_column, gap_ms_column)";
    if call.args.len() != 2 {
        return Err(Error::new(func.span(), format!("write `{USAGE}`")));
    }
    let time = parse_col_expr(&call.args[0])?;
    let gap = match strip_groups(&call.args[1]) {
        Expr::Lit(syn::ExprLit {
            lit: Lit::Str(s), ..
        }) => SessionGapSpec::Fixed(s.clone()),
        e => SessionGapSpec::PerRow(parse_col_expr(e)?),
    };
    Ok(SessionItem {
        func: func.clone(),
        time,
        gap,
        name: alias.unwrap_or_else(|| Ident::new("session_window", func.span())),
    })
}

// ---- check ----

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

/// A checked `session_window(..)` of a group_by.
pub struct LSession {
    /// The event-time column.
    pub time: ColExpr,
    /// The gap.
    pub gap: LGap,
}

/// A checked session gap.
pub enum LGap {
    /// The same for every row, in milliseconds, with the string's span.
    Fixed(i64, Span),
    /// Per row, in milliseconds.
    PerRow(ColExpr),
}

/// Checks a `window(..)`: its durations (with `stream_core`'s rules) and its column.
pub fn check_window(
    cx: &mut Checker,
    w: &WindowItem,
    rows: &Rows,
    tables: &[JTable],
) -> Option<LWindow> {
    use stream_core::WindowSpec;
    let time = cx.expr(&w.time, rows, tables);
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
            cx.error(span, e);
            None
        }
    }
}

/// Checks a `session_window(..)`: a fixed gap is a positive duration, a per-row gap is a
/// column expression.
pub fn check_session_window(
    cx: &mut Checker,
    w: &SessionItem,
    rows: &Rows,
    tables: &[JTable],
) -> Option<Box<LSession>> {
    let time = cx.expr(&w.time, rows, tables);
    let gap = match &w.gap {
        SessionGapSpec::Fixed(lit) => match stream_core::parse_duration(&lit.value()) {
            Ok(ms) if ms <= 0 => {
                cx.error(
                    lit.span(),
                    format!("a session gap must be positive, not `{}`", lit.value()),
                );
                return None;
            }
            Ok(ms) => LGap::Fixed(ms, lit.span()),
            Err(e) => {
                cx.error(lit.span(), e);
                return None;
            }
        },
        SessionGapSpec::PerRow(e) => LGap::PerRow(cx.expr(e, rows, tables)),
    };
    Some(Box::new(LSession { time, gap }))
}

/// The column a window is computed on: `ts`, or the window column in `window_time(window)`.
pub fn event_time_column(time: &ColExpr) -> Option<&Ident> {
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
