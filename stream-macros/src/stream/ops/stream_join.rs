//! Stream-stream joins: `left.join(right, on, how)` where `right` is a binding of a stream
//! (`let clicks = read_stream::<Click>(..).with_watermark(..);`). The condition is the
//! equalities of the keys, and optionally a time range between the two event times
//! (`clicks.time >= time && clicks.time <= time + interval("1 hour")`) and comparisons of one
//! side's columns (filters, which in an outer join make a row unmatched, not dropped). After
//! the join, bare names are the left row's columns and `clicks.col` the right row's (an
//! `Option` after a left outer join). Spark's rules (`stream_core::join_rules`) are compile
//! errors here.

use super::super::ast::ColExpr;
use super::super::check::{mentions, unqualify, Checker, Info, Lowered, Rows, Stage};
use super::super::codegen::{checked, pipeline, row, value, Check};
use super::super::parse::parse_col_expr;
use super::join::{join_key, join_type_tokens, joined, JoinOut, JoinSpec};
use super::Step;
use proc_macro2::{Span, TokenStream};
use quote::quote;
use stream_core::join_rules::{check_stream_stream_join, StreamJoinShape};
use stream_core::rules::JoinType;
use syn::{BinOp, Expr, Ident, Lit};

/// One side of a time comparison: a column (of the left rows, or `right.col`) plus a constant.
struct TimeTerm {
    column: Ident,
    right: bool,
    offset_ms: i64,
}

/// `interval("1 hour")`: a Spark interval in milliseconds.
fn interval(e: &Expr) -> Option<std::result::Result<i64, syn::Error>> {
    let Expr::Call(call) = e else { return None };
    let Expr::Path(p) = &*call.func else {
        return None;
    };
    if !p.path.is_ident("interval") || call.args.len() != 1 {
        return None;
    }
    let arg = call.args.first()?;
    Some(match arg {
        Expr::Lit(syn::ExprLit {
            lit: Lit::Str(s), ..
        }) => stream_core::parse_duration(&s.value())
            .map_err(|err| syn::Error::new(s.span(), format!("{err}; e.g. interval(\"1 hour\")"))),
        other => Err(syn::Error::new_spanned(
            other,
            "an interval is a string literal, as Spark's: interval(\"1 hour\")",
        )),
    })
}

/// `col`, `right.col`, `col + interval(..)`, `col - interval(..)`.
fn time_term(e: &Expr, right: &Ident, cx: &mut Checker) -> Option<TimeTerm> {
    match e {
        Expr::Paren(p) => time_term(&p.expr, right, cx),
        Expr::Group(g) => time_term(&g.expr, right, cx),
        Expr::Path(p) => p.path.get_ident().map(|c| TimeTerm {
            column: c.clone(),
            right: false,
            offset_ms: 0,
        }),
        Expr::Field(f) => match (&*f.base, &f.member) {
            (Expr::Path(p), syn::Member::Named(col)) if p.path.is_ident(right) => Some(TimeTerm {
                column: col.clone(),
                right: true,
                offset_ms: 0,
            }),
            _ => None,
        },
        Expr::Binary(b) if matches!(b.op, BinOp::Add(_) | BinOp::Sub(_)) => {
            let ms = match interval(&b.right)? {
                Ok(ms) => ms,
                Err(e) => {
                    cx.push_error(e);
                    0
                }
            };
            let mut t = time_term(&b.left, right, cx)?;
            t.offset_ms += if matches!(b.op, BinOp::Add(_)) {
                ms
            } else {
                -ms
            };
            Some(t)
        }
        _ => None,
    }
}

/// A comparison of the two event times, as bounds of `right.t - left.t`: `(left col, right
/// col, lower, upper)` (either bound open).
type Bound = (Ident, Ident, Option<i64>, Option<i64>);

/// `a op b` with `a`, `b` time terms of different sides, as a bound of `right - left`.
fn time_bound(e: &Expr, right: &Ident, cx: &mut Checker) -> Option<Bound> {
    let Expr::Binary(b) = e else { return None };
    let op = match b.op {
        BinOp::Ge(_) | BinOp::Gt(_) | BinOp::Le(_) | BinOp::Lt(_) => b.op,
        _ => return None,
    };
    let (a, c) = (
        time_term(&b.left, right, cx)?,
        time_term(&b.right, right, cx)?,
    );
    if a.right == c.right {
        return None;
    }
    // Rewrite as `R + x op L + y`, then as `R - L op y - x`.
    let (r, l, flipped) = if a.right { (a, c, false) } else { (c, a, true) };
    let d = l.offset_ms - r.offset_ms;
    // With `flipped`, the comparison reads `L op R`: mirror it.
    let (ge, strict) = match (op, flipped) {
        (BinOp::Ge(_), false) | (BinOp::Le(_), true) => (true, false),
        (BinOp::Gt(_), false) | (BinOp::Lt(_), true) => (true, true),
        (BinOp::Le(_), false) | (BinOp::Ge(_), true) => (false, false),
        _ => (false, true),
    };
    // Milliseconds are whole: `> d` is `>= d + 1`.
    Some(match (ge, strict) {
        (true, s) => (l.column, r.column, Some(d + s as i64), None),
        (false, s) => (l.column, r.column, None, Some(d - s as i64)),
    })
}

/// The parts of a stream-stream join's condition beyond its keys.
struct Condition {
    /// `(left col, right col, lower, upper)`: `right - left` in `[lower, upper]` ms.
    range: Option<(Ident, Ident, i64, i64)>,
    left_filters: Vec<ColExpr>,
    right_filters: Vec<ColExpr>,
}

fn condition(cx: &mut Checker, spec: &JoinSpec, right: &Ident) -> Option<Condition> {
    let mut out = Condition {
        range: None,
        left_filters: Vec::new(),
        right_filters: Vec::new(),
    };
    let (mut cols, mut lower, mut upper) = (None, None, None);
    // The last bound read, where a missing or contradicting bound is reported.
    let mut bound_at: Option<&Expr> = None;
    let mut ok = true;
    for e in &spec.extra {
        if let Some((l, r, lo, hi)) = time_bound(e, right, cx) {
            let same = |c: &Option<(Ident, Ident)>| {
                c.as_ref()
                    .is_none_or(|(a, b): &(Ident, Ident)| *a == l && *b == r)
            };
            if !same(&cols) {
                cx.push_error(syn::Error::new_spanned(
                    e,
                    "a time range compares one event-time column of each side: every bound of \
                     this condition must compare the same two columns",
                ));
                ok = false;
            }
            cols = Some((l, r));
            bound_at = Some(e);
            lower = lo.map(|x| lower.map_or(x, |y: i64| y.max(x))).or(lower);
            upper = hi.map(|x| upper.map_or(x, |y: i64| y.min(x))).or(upper);
            continue;
        }
        let ce = match parse_col_expr(e) {
            Ok(ce) => ce,
            Err(err) => {
                cx.push_error(err);
                ok = false;
                continue;
            }
        };
        let mut left_cols = false;
        ce.for_each_column(&mut |c| left_cols |= c != right);
        match (mentions(&ce, right), left_cols) {
            (true, false) => out.right_filters.push(unqualify(&ce, right)),
            (false, _) => out.left_filters.push(ce),
            (true, true) => {
                cx.push_error(syn::Error::new_spanned(
                    e,
                    format!(
                        "this condition reads both sides: a stream-stream join condition is the \
                         equalities of its keys, a time range (`{right}.time >= time && \
                         {right}.time <= time + interval(\"1 hour\")`), and conditions on one \
                         side's columns; compare both sides in `.filter(..)` after the join"
                    ),
                ));
                ok = false;
            }
        }
    }
    match (cols, lower, upper) {
        (None, _, _) => {}
        (Some((l, r)), Some(lo), Some(hi)) if lo <= hi => out.range = Some((l, r, lo, hi)),
        (Some(_), Some(_), Some(_)) => {
            let at = bound_at.expect("a bound was read");
            let msg = "this time range is empty: its lower bound is above its upper bound";
            cx.push_error(syn::Error::new_spanned(at, msg));
            ok = false;
        }
        (Some((l, r)), lo, _) => {
            let missing = if lo.is_some() { "upper" } else { "lower" };
            cx.push_error(syn::Error::new_spanned(
                bound_at.expect("a bound was read"),
                format!(
                    "this time range has no {missing} bound: give both, e.g. `{right}.{r} >= {l} && \
                     {right}.{r} <= {l} + interval(\"1 hour\")`"
                ),
            ));
            ok = false;
        }
    }
    ok.then_some(out)
}

/// Whether `column` of these rows carries a watermark; returns its `with_watermark` column.
fn watermark_of(info: &Info, column: &Ident) -> Option<String> {
    info.watermarks
        .iter()
        .find(|w| *column == w.column)
        .map(|w| w.origin.clone())
}

/// Checks `left.join(right, on, how)` with `right` a stream's binding.
pub fn check(
    cx: &mut Checker,
    method: Ident,
    spec: &JoinSpec,
    rows: Rows,
    info: &mut Info,
    right: Ident,
) -> Option<Box<dyn Step>> {
    let (right_lowered, right_info) = cx.pipeline(&spec.other);
    let Stage::Rows(right_rows) = right_info.stage.clone() else {
        cx.error(
            method.span(),
            "the stream joined here is a dataset (a pipeline before `.group_by` or `.write_stream`)",
        );
        return None;
    };
    let (how, how_span) = match &spec.how {
        None => (JoinType::Inner, spec.on_span),
        Some(lit) => match JoinType::parse(&lit.value()) {
            Some(how @ (JoinType::Inner | JoinType::LeftOuter | JoinType::LeftSemi)) => {
                (how, lit.span())
            }
            Some(JoinType::LeftAnti) => {
                cx.error(
                    lit.span(),
                    "left_anti join between two streaming DataFrames/Datasets is not supported; \
                     use \"left_outer\" and keep the rows whose right side is NULL",
                );
                return None;
            }
            Some(_) => {
                cx.error(
                    lit.span(),
                    format!(
                        "a `{}` stream-stream join is not supported by `stream!` yet: swap the two \
                         streams and write \"left_outer\", or use the builder's \
                         `Dataset::join_stream`",
                        lit.value()
                    ),
                );
                return None;
            }
            None => {
                cx.error(
                    lit.span(),
                    format!(
                        "unknown join type `{}`; a stream-stream join is \"inner\" (the default), \
                         \"left_outer\" (or \"left\") or \"left_semi\"",
                        lit.value()
                    ),
                );
                return None;
            }
        },
    };
    if spec.on.is_empty() {
        cx.error(
            spec.on_span,
            format!(
                "Stream-stream join without equality predicate is not supported: add an equality \
                 of a column of each side, e.g. `key == {right}.key`"
            ),
        );
        return None;
    }
    let cond = condition(cx, spec, &right)?;
    // Keys: each equality's operand qualified by the right stream's name is its side. An
    // equality of two watermarked windows (`window == clicks.window`) is a key that also
    // bounds the state, as Spark's window equality.
    let (mut left_key, mut right_key) = (Vec::new(), Vec::new());
    let mut windows = None;
    for k in &spec.on {
        let (mut l, mut r) = (&k.left, &k.right);
        if mentions(l, &right) && !mentions(r, &right) {
            std::mem::swap(&mut l, &mut r);
        }
        let r = unqualify(r, &right);
        let lk = cx.expr(l, &rows, &info.tables);
        let rk = cx.expr(&r, &right_rows, &right_info.tables);
        if let (ColExpr::Column(lc), ColExpr::Column(rc)) = (l, &r) {
            let lw = info.window_of(&lc.to_string());
            let rw = right_info.window_of(&rc.to_string());
            if let (Some(lw), Some(rw), None) = (lw, rw, &windows) {
                windows = Some((lk.clone(), rk.clone(), lw.origin.clone(), rw.origin.clone()));
            }
        }
        left_key.push(lk);
        right_key.push(rk);
    }
    let left_filters: Vec<ColExpr> = (cond.left_filters.iter())
        .map(|f| cx.expr(f, &rows, &info.tables))
        .collect();
    let right_filters: Vec<ColExpr> = (cond.right_filters.iter())
        .map(|f| cx.expr(f, &right_rows, &right_info.tables))
        .collect();
    // The time range's columns, checked, and whether their watermarks bound the state.
    let mut range = None;
    let (mut wl, mut wr) = (
        !info.event_time.is_empty(),
        !right_info.event_time.is_empty(),
    );
    if let Some((l, r, lo, hi)) = &cond.range {
        let lt = cx.expr(&ColExpr::Column(l.clone()), &rows, &info.tables);
        let rt = cx.expr(&ColExpr::Column(r.clone()), &right_rows, &right_info.tables);
        let (lw, rw) = (watermark_of(info, l), watermark_of(&right_info, r));
        (wl, wr) = (lw.is_some(), rw.is_some());
        let name = |w: Option<String>, c: &Ident| w.unwrap_or_else(|| c.to_string());
        range = Some((lt, rt, name(lw, l), name(rw, r), *lo, *hi));
    }
    if range.is_none() && windows.is_some() {
        (wl, wr) = (true, true);
    }
    let shape = StreamJoinShape {
        left_watermark: wl,
        right_watermark: wr,
        time_range: range.is_some(),
        window_key: windows.is_some(),
        aggregation_before: !info.shape.aggregations.is_empty()
            || !right_info.shape.aggregations.is_empty(),
    };
    if let Err(e) = check_stream_stream_join(how, &shape) {
        let span = if shape.aggregation_before {
            method.span()
        } else {
            how_span
        };
        cx.error(span, e.message);
        return None;
    }
    info.shape.stream_joins += 1 + right_info.shape.stream_joins;
    info.event_time
        .extend(right_info.event_time.iter().cloned());
    info.failed |= right_info.failed;
    let out = match how {
        JoinType::LeftOuter => JoinOut::Outer,
        JoinType::LeftSemi => JoinOut::Stream,
        _ => JoinOut::Inner,
    };
    joined(info, rows, right, out);
    Some(Box::new(StreamJoinStep {
        method,
        right: Box::new(right_lowered),
        left_key,
        right_key,
        range,
        windows,
        left_filters,
        right_filters,
        how,
        how_span,
        out,
    }))
}

/// `.__join_stream_with(right, |on| on.keys(..).time_range(..).left_filter(..), how, combine)`.
pub struct StreamJoinStep {
    method: Ident,
    right: Box<Lowered>,
    left_key: Vec<ColExpr>,
    right_key: Vec<ColExpr>,
    /// Left and right event-time columns, their watermarks' names, lower and upper bound (ms).
    range: Option<(ColExpr, ColExpr, String, String, i64, i64)>,
    /// Left and right window columns, and their watermarks' names (equal windows).
    windows: Option<(ColExpr, ColExpr, String, String)>,
    left_filters: Vec<ColExpr>,
    right_filters: Vec<ColExpr>,
    how: JoinType,
    how_span: Span,
    out: JoinOut,
}

impl Step for StreamJoinStep {
    fn generate(&self) -> TokenStream {
        let r = row(Span::call_site());
        let m = Ident::new("__join_stream_with", self.method.span());
        let right = pipeline(&self.right);
        let (lk, rk) = (join_key(&self.left_key), join_key(&self.right_key));
        let mut on = quote!(__on.keys(move |#r| #lk, move |#r| #rk));
        if let Some((lt, rt, ln, rn, lo, hi)) = &self.range {
            let (lt, rt) = (value(lt, false), value(rt, false));
            let (lo, hi) = (format!("{lo} milliseconds"), format!("{hi} milliseconds"));
            on = quote!(#on.time_range((#ln, move |#r| #lt), (#rn, move |#r| #rt), #lo, #hi));
        }
        if let Some((lw, rw, ln, rn)) = &self.windows {
            let (lw, rw) = (value(lw, false), value(rw, false));
            on = quote!(#on.windows((#ln, move |#r| #lw), (#rn, move |#r| #rw)));
        }
        for (filters, side) in [
            (&self.left_filters, "left_filter"),
            (&self.right_filters, "right_filter"),
        ] {
            for f in filters {
                let pred = checked(Check::Condition, f.span(), value(f, false));
                let side = Ident::new(side, f.span());
                on = quote!(#on.#side(move |#r| #pred));
            }
        }
        let how = join_type_tokens(self.how, self.how_span);
        let combine = match self.out {
            JoinOut::Inner => quote!(::stream_runtime::__private::stream_join_inner),
            JoinOut::Outer => quote!(::stream_runtime::__private::stream_join_outer),
            JoinOut::Stream => quote!(::stream_runtime::__private::stream_join_semi),
        };
        quote!(.#m(#right, move |__on| #on, #how, #combine))
    }
}
