//! Stream-static joins: `stream.join(table, on, how)`, and `table.join(stream, on, how)` with
//! the static table on the left. After the join, bare names are the stream's columns and
//! `table.col` the table's (an `Option` after an outer join).

use super::super::ast::{ColExpr, Pipeline, Source};
use super::super::check::{mentions, unqualify, Checker, Info, JTable, Lowered, Rows, Site, Stage};
use super::super::codegen::{pipeline, row, value};
use super::super::parse::{parse_col_expr, parse_pipeline, strip_groups};
use super::{Operator, Step};
use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use stream_core::rules::{check_stream_static_join, JoinType};
use syn::spanned::Spanned;
use syn::{Error, Expr, ExprMethodCall, Ident, Lit, Result};

/// `.join(other, left_col == right_col && .., "how")`: a stream-static join.
pub struct Join(pub JoinSpec);

/// `.join(other, on, how)`.
pub struct JoinSpec {
    /// The other side: a name (the static table, or the stream when the static table is the
    /// receiver) or a pipeline.
    pub other: Box<Pipeline>,
    /// The equalities of the condition, in order: left operand on the receiver's side, right
    /// operand on `other`'s (unless qualified by the static table's name).
    pub on: Vec<JoinKey>,
    /// The whole condition's span.
    pub on_span: Span,
    /// `"left_outer"` etc., if given (default inner; checked by `check`).
    pub how: Option<syn::LitStr>,
    /// The comparisons of the condition that are not key equalities (`<`, `>=`, ...): a time
    /// range or filters of a stream-stream join; refused in a stream-static join.
    pub extra: Vec<Expr>,
}

/// One `left == right` of a join condition.
pub struct JoinKey {
    /// The left operand.
    pub left: ColExpr,
    /// The right operand.
    pub right: ColExpr,
}

// ---- parse ----

/// Parses `.join(other, on[, how])`.
pub fn parse(_: &str, mc: &ExprMethodCall) -> Result<Box<dyn Operator>> {
    let args: Vec<&Expr> = mc.args.iter().collect();
    if !(2..=3).contains(&args.len()) {
        return Err(Error::new(
            mc.method.span(),
            format!(
                "`.join` takes the static table, the condition and optionally the join type, not {} arguments: \
                 write `.join(people, bidder == id)` or `.join(people, bidder == id, \"left_outer\")`",
                args.len()
            ),
        ));
    }
    let other = Box::new(parse_pipeline(args[0])?);
    let (mut on, mut extra) = (Vec::new(), Vec::new());
    parse_join_condition(args[1], &mut on, &mut extra)?;
    let how = args.get(2).map(|a| parse_join_type(a)).transpose()?;
    Ok(Box::new(Join(JoinSpec {
        other,
        on,
        on_span: args[1].span(),
        how,
        extra,
    })))
}

/// How a join condition is written, for messages.
const JOIN_CONDITION: &str = "a stream-static join condition is an equality between a column of each side, \
                              `bidder == id`, or several joined by `&&`: `bidder == id && day == day`";

/// The equalities of a join condition, joined by `&&`, and its comparisons (`extra`).
fn parse_join_condition(expr: &Expr, out: &mut Vec<JoinKey>, extra: &mut Vec<Expr>) -> Result<()> {
    use syn::BinOp::*;
    match expr {
        Expr::Paren(p) => parse_join_condition(&p.expr, out, extra),
        Expr::Group(g) => parse_join_condition(&g.expr, out, extra),
        Expr::Binary(b) if matches!(b.op, And(_)) => {
            parse_join_condition(&b.left, out, extra)?;
            parse_join_condition(&b.right, out, extra)
        }
        Expr::Binary(b) if matches!(b.op, Lt(_) | Le(_) | Gt(_) | Ge(_) | Ne(_)) => {
            extra.push(expr.clone());
            Ok(())
        }
        Expr::Binary(b) if matches!(b.op, syn::BinOp::Eq(_)) => {
            let left = parse_col_expr(&b.left)?;
            let right = parse_col_expr(&b.right)?;
            for (side, e) in [(&left, &*b.left), (&right, &*b.right)] {
                let mut reads = false;
                side.for_each_column(&mut |_| reads = true);
                if !reads {
                    return Err(Error::new_spanned(
                        e,
                        format!(
                            "each side of a join equality reads a column of its side; {JOIN_CONDITION}. \
                             To compare a column with a value, `.filter(..)` before or after the join"
                        ),
                    ));
                }
            }
            out.push(JoinKey { left, right });
            Ok(())
        }
        Expr::Binary(b) => {
            use quote::ToTokens;
            let op = b.op.to_token_stream().to_string().replace(' ', "");
            Err(Error::new_spanned(
                expr,
                format!(
                    "`{op}` in a join condition: {JOIN_CONDITION}; for other conditions, `.filter(..)` after the join"
                ),
            ))
        }
        Expr::Closure(_) => Err(Error::new_spanned(
            expr,
            format!("a join condition is written with columns, not a closure: {JOIN_CONDITION}"),
        )),
        _ => Err(Error::new_spanned(
            expr,
            format!("this join condition is not an equality: {JOIN_CONDITION}; for other conditions, `.filter(..)` after the join"),
        )),
    }
}

/// The join type, a string literal as Spark's `how` (its value is checked by `check`).
fn parse_join_type(expr: &Expr) -> Result<syn::LitStr> {
    match strip_groups(expr) {
        Expr::Lit(syn::ExprLit {
            lit: Lit::Str(s), ..
        }) => Ok(s.clone()),
        other => Err(Error::new_spanned(
            other,
            "the join type is a string literal, as in Spark: \"inner\" (the default), \"left_outer\", \
             \"left_semi\", \"left_anti\", or \"right_outer\" with the static table on the left",
        )),
    }
}

// ---- check ----

impl Operator for Join {
    fn takes_table(&self) -> bool {
        true
    }

    fn nested(&self) -> Option<&Pipeline> {
        Some(&self.0.other)
    }

    fn check(&self, cx: &mut Checker, at: Site, info: &mut Info) -> Option<Box<dyn Step>> {
        match at.input {
            Stage::Table(name) if refuse_extra(cx, &self.0) => {
                let _ = name;
                None
            }
            Stage::Table(name) => join_table_left(cx, at.method, &self.0, name, info),
            Stage::Rows(rows) => join(cx, at.method, &self.0, rows, info, at.outer_name),
            _ => unreachable!("a join is checked on rows or on a static table"),
        }
    }
}

/// A comparison in a stream-static join's condition: refused, as before the condition was
/// parsed for stream-stream joins.
fn refuse_extra(cx: &mut Checker, spec: &JoinSpec) -> bool {
    use quote::ToTokens;
    for e in &spec.extra {
        if let Expr::Binary(b) = e {
            let op = b.op.to_token_stream().to_string().replace(' ', "");
            cx.push_error(Error::new_spanned(
                e,
                format!("`{op}` in a join condition: {JOIN_CONDITION}; for other conditions, `.filter(..)` after the join"),
            ));
        }
    }
    !spec.extra.is_empty()
}

/// `stream.join(table, on, how)`: with the static table as the argument (the usual case),
/// or, when the receiver is a name of the surrounding code and the argument a stream, with
/// the static table on the left. With a stream's binding as the argument, a stream-stream
/// join ([`stream_join`](super::stream_join)).
fn join(
    cx: &mut Checker,
    method: Ident,
    spec: &JoinSpec,
    rows: Rows,
    info: &mut Info,
    outer_name: Option<Ident>,
) -> Option<Box<dyn Step>> {
    let other = &spec.other;
    if let (Source::Name(n), true) = (&other.source, other.calls.is_empty()) {
        let stream = cx
            .binding(n)
            .map(|i| (matches!(i.stage, Stage::Rows(_)), i.bounded));
        if info.bounded == Some(false) && stream == Some((true, Some(false))) {
            return super::stream_join::check(cx, method, spec, rows, info, n.clone());
        }
    }
    if refuse_extra(cx, spec) {
        return None;
    }
    let table = match (&other.source, other.calls.is_empty()) {
        (Source::ReadStatic { func, .. } | Source::Read { func, .. }, _) => {
            cx.error(
                func.span(),
                format!(
                    "bind the joined side to a name first, `let people = {func}::<Person>(source);`, \
                     then `.join(people, bidder == id)`: its name qualifies its columns (`people.state`)"
                ),
            );
            return None;
        }
        (Source::Name(n), true) => match cx.binding(n).map(|i| (&i.stage, i.bounded)) {
            Some((Stage::Table(_), _)) => Some(n.clone()),
            // A bounded dataset (`read`): joined as a static table, computed with the query.
            Some((Stage::Rows(_), Some(true))) => Some(n.clone()),
            // Two names of the surrounding code: the receiver is the stream, unless the
            // join type says that the static table is on the left.
            None if outer_name.is_none()
                || spec.how.as_ref().and_then(|h| JoinType::parse(&h.value()))
                    != Some(JoinType::RightOuter) =>
            {
                Some(n.clone())
            }
            _ => None,
        },
        _ => None,
    };
    let Some(table) = table else {
        if outer_name.is_some() {
            // `people.join(stream, ..)` with `people` from the surrounding code.
            return join_table_left(cx, method, spec, outer_name, info);
        }
        let msg = if info.bounded == Some(true) {
            "the argument of `.join` is a stream, and this pipeline is a batch query (`read(..)`): \
             a batch query joins bounded inputs only; read the other side with `read(..)` too, or \
             make the stream the receiver, `stream.join(batch, bidder == id)`"
        } else {
            "the argument of `.join` is a stream: bind it to a name first, \
             `let clicks = read_stream::<Click>(source).with_watermark(time, \"10 seconds\");`, \
             then `stream.join(clicks, ad == clicks.ad)`: its name qualifies its columns \
             (`clicks.time`)"
        };
        cx.error(method.span(), msg);
        return None;
    };
    let (table_lowered, _) = cx.pipeline(other);
    let (how, how_span) = join_type(cx, spec, true, info.bounded == Some(true));
    let (stream_key, table_key) = join_keys(cx, spec, &table, &rows, info, false);
    let out = match how {
        JoinType::LeftOuter => JoinOut::Outer,
        JoinType::LeftSemi | JoinType::LeftAnti => JoinOut::Stream,
        _ => JoinOut::Inner,
    };
    joined(info, rows, table, out);
    Some(Box::new(JoinStaticStep {
        method,
        table: Box::new(table_lowered),
        stream_key,
        table_key,
        how,
        how_span,
        out,
    }))
}

/// The stream's and the table's key expressions of a join condition. Each equality's left
/// operand belongs to the receiver (the table if `table_is_receiver`), unless the other
/// operand is the one qualified by the table's name.
fn join_keys(
    cx: &mut Checker,
    spec: &JoinSpec,
    table: &Ident,
    rows: &Rows,
    info: &Info,
    table_is_receiver: bool,
) -> (Vec<ColExpr>, Vec<ColExpr>) {
    let mut stream_key = Vec::new();
    let mut table_key = Vec::new();
    for k in &spec.on {
        let (receiver, argument) = (&k.left, &k.right);
        let swapped = mentions(argument, table) != mentions(receiver, table)
            && mentions(
                if table_is_receiver {
                    argument
                } else {
                    receiver
                },
                table,
            );
        let (mut t, mut s) = if table_is_receiver {
            (receiver, argument)
        } else {
            (argument, receiver)
        };
        if swapped {
            std::mem::swap(&mut t, &mut s);
        }
        stream_key.push(cx.expr(s, rows, &info.tables));
        table_key.push(cx.hoist(&unqualify(t, table)));
    }
    (stream_key, table_key)
}

/// `table.join(stream, on, how)`: the static table on the left.
fn join_table_left(
    cx: &mut Checker,
    method: Ident,
    spec: &JoinSpec,
    table: Option<Ident>,
    info: &mut Info,
) -> Option<Box<dyn Step>> {
    let Some(table) = table else {
        cx.error(
            method.span(),
            "bind the static table to a name first, `let people = read_static::<Person>(source);`, \
             then `people.join(stream, id == bidder)`: its name qualifies its columns (`people.state`)",
        );
        return None;
    };
    let (stream, stream_info) = cx.pipeline(&spec.other);
    let rows = match &stream_info.stage {
        Stage::Rows(rows) => rows.clone(),
        Stage::Table(_) => {
            cx.error(
                method.span(),
                "`stream!` joins a stream with a static table, not two static tables; \
                 join the tables' rows before `read_static(..)`",
            );
            return None;
        }
        _ => {
            cx.error(
                method.span(),
                "the stream joined with a static table is a dataset (a pipeline before `.group_by` or `.write_stream`)",
            );
            return None;
        }
    };
    if let Some(at) = &stream_info.sorted_at {
        cx.error(
            at.span(),
            format!("`.{at}(..)` sorts the rows written to the sink: sort after `.join(..)`, right before `.write_stream(..)`"),
        );
    }
    *info = stream_info;
    let (how, how_span) = join_type(cx, spec, false, false);
    let (stream_key, table_key) = join_keys(cx, spec, &table, &rows, info, true);
    let out = match how {
        JoinType::RightOuter => JoinOut::Outer,
        _ => JoinOut::Inner,
    };
    joined(info, rows, table, out);
    Some(Box::new(JoinStreamStep {
        method,
        stream: Box::new(stream),
        stream_key,
        table_key,
        how,
        how_span,
        out,
    }))
}

/// The join type (inner by default), checked with `stream_core`'s rules (`batch`: the
/// receiver is a batch input, joined with another one as with a static table).
fn join_type(
    cx: &mut Checker,
    spec: &JoinSpec,
    stream_on_left: bool,
    batch: bool,
) -> (JoinType, Span) {
    let Some(lit) = &spec.how else {
        return (JoinType::Inner, spec.on_span);
    };
    let Some(how) = JoinType::parse(&lit.value()) else {
        cx.error(
            lit.span(),
            format!(
                "unknown join type `{}`; a stream-static join is \"inner\" (the default), \"left_outer\" \
                 (or \"left\"), \"left_semi\" or \"left_anti\" with the stream on the left, \"inner\" or \
                 \"right_outer\" with the static table on the left",
                lit.value()
            ),
        );
        return (JoinType::Inner, lit.span());
    };
    if let Err(e) = check_stream_static_join(how, stream_on_left) {
        let msg = e.message.split_whitespace().collect::<Vec<_>>().join(" ");
        let hint = match (stream_on_left, how) {
            (true, JoinType::RightOuter | JoinType::FullOuter) if batch => {
                cx.error(
                    lit.span(),
                    format!(
                        "a `{}` join of two batch inputs is not supported by `stream!` yet: it joins \
                         them as a stream with a static table, \"inner\", \"left_outer\", \"left_semi\" \
                         or \"left_anti\"; for \"right_outer\", swap the two sides and write \"left_outer\"",
                        lit.value()
                    ),
                );
                return (JoinType::Inner, lit.span());
            }
            (true, JoinType::RightOuter) => {
                "; to keep every stream row write \"left_outer\" (the stream is the left side)"
            }
            (false, JoinType::LeftOuter) => {
                "; to keep every stream row write \"right_outer\" (the stream is the right side)"
            }
            _ => "",
        };
        cx.error(lit.span(), format!("{msg}{hint}"));
        return (JoinType::Inner, lit.span());
    }
    (how, lit.span())
}

/// The rows after a join.
pub(super) fn joined(info: &mut Info, rows: Rows, table: Ident, out: JoinOut) {
    if out == JoinOut::Stream {
        info.stage = Stage::Rows(rows);
        return;
    }
    info.tables.push(JTable {
        name: table,
        optional: out == JoinOut::Outer,
    });
    info.stage = Stage::Rows(match rows {
        Rows::Known { columns, .. } => Rows::Known {
            strukt: None,
            columns,
            origin: "`.join(..)`".into(),
        },
        Rows::Opaque => Rows::Opaque,
    });
}

// ---- codegen ----

/// The output row of a stream-static join.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum JoinOut {
    /// The stream row and the matching table row (`Joined`).
    Inner,
    /// The stream row and the table row if one matches (`OuterJoined`).
    Outer,
    /// The stream row alone (semi and anti joins).
    Stream,
}

/// `.join_static(table, |__r| stream_key, |__r| table_key, how, combine)`: the stream is the
/// receiver.
pub struct JoinStaticStep {
    /// The user's method token.
    pub method: Ident,
    /// The static table's pipeline.
    pub table: Box<Lowered>,
    /// The stream's key, one expression per equality.
    pub stream_key: Vec<ColExpr>,
    /// The table's key, over the table's own rows.
    pub table_key: Vec<ColExpr>,
    /// The join type.
    pub how: JoinType,
    /// Where the join type was written (or the condition, for the default).
    pub how_span: Span,
    /// The output row.
    pub out: JoinOut,
}

/// `.join_stream(stream, |__r| table_key, |__r| stream_key, how, combine)`: the static table is
/// the receiver (the pipeline's source).
pub struct JoinStreamStep {
    /// The user's method token.
    pub method: Ident,
    /// The stream's pipeline.
    pub stream: Box<Lowered>,
    /// The stream's key, one expression per equality.
    pub stream_key: Vec<ColExpr>,
    /// The table's key, over the table's own rows.
    pub table_key: Vec<ColExpr>,
    /// The join type.
    pub how: JoinType,
    /// Where the join type was written (or the condition, for the default).
    pub how_span: Span,
    /// The output row.
    pub out: JoinOut,
}

impl Step for JoinStaticStep {
    fn generate(&self) -> TokenStream {
        let r = row(Span::call_site());
        let Self {
            method,
            table,
            stream_key,
            table_key,
            how,
            how_span,
            out,
        } = self;
        let m = Ident::new("join_static", method.span());
        let table = pipeline(table);
        let (sk, tk) = (join_key(stream_key), join_key(table_key));
        let how = join_type_tokens(*how, *how_span);
        let combine = match out {
            JoinOut::Inner => quote!(::stream_runtime::__private::join_inner),
            JoinOut::Outer => quote!(::stream_runtime::__private::join_outer),
            JoinOut::Stream => quote!(::stream_runtime::__private::join_semi),
        };
        quote!(.#m(#table, move |#r| #sk, move |#r| #tk, #how, #combine))
    }
}

impl Step for JoinStreamStep {
    fn generate(&self) -> TokenStream {
        let r = row(Span::call_site());
        let Self {
            method,
            stream,
            stream_key,
            table_key,
            how,
            how_span,
            out,
        } = self;
        let m = Ident::new("join_stream", method.span());
        let stream = pipeline(stream);
        let (sk, tk) = (join_key(stream_key), join_key(table_key));
        let how = join_type_tokens(*how, *how_span);
        let combine = match out {
            JoinOut::Outer => quote!(::stream_runtime::__private::static_join_outer),
            _ => quote!(::stream_runtime::__private::static_join_inner),
        };
        quote!(.#m(#stream, move |#r| #tk, move |#r| #sk, #how, #combine))
    }
}

/// The key of one side of a join: one value, or a tuple of several. Each value is bound first
/// (`{ let __k = value; __k }`, on the user's token), so that keys of different types on the two
/// sides are reported as rustc's "expected `u64`, found `String`" on the key itself, not as an
/// argument of `Clone::clone`.
pub(super) fn join_key(keys: &[ColExpr]) -> TokenStream {
    let values: Vec<TokenStream> = keys
        .iter()
        .map(|e| {
            let v = value(e, true);
            let k = Ident::new("__k", e.span());
            quote_spanned!(e.span()=> { let #k = #v; #k })
        })
        .collect();
    match values.as_slice() {
        [one] => one.clone(),
        many => quote!((#(#many,)*)),
    }
}

/// `::stream_runtime::JoinType::X`, on the span of the user's join type.
pub(super) fn join_type_tokens(how: JoinType, span: Span) -> TokenStream {
    use stream_core::rules::JoinType::*;
    let name = match how {
        Inner => "Inner",
        LeftOuter => "LeftOuter",
        RightOuter => "RightOuter",
        FullOuter => "FullOuter",
        LeftSemi => "LeftSemi",
        LeftAnti => "LeftAnti",
    };
    let v = Ident::new(name, span);
    quote_spanned!(span=> ::stream_runtime::JoinType::#v)
}
