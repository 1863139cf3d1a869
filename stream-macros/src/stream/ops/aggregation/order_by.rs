//! `.order_by(col, col.desc(), desc(col), ..)` / `.sort(..)`: sorts the result table of an
//! aggregation (Complete mode); the last step before `.write_stream(..)`.

use super::super::super::ast::ColExpr;
use super::super::super::check::{Checker, Info, Site, Stage};
use super::super::super::codegen::{row, value};
use super::super::super::parse::{parse_col_expr, strip_groups};
use super::super::{Operator, Step};
use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Error, Expr, ExprMethodCall, Ident, Result};

/// `.order_by(col, col.desc(), desc(col), ..)` / `.sort(..)`.
pub struct OrderBy(pub Vec<SortItem>);

/// An item of `.order_by(..)`.
pub struct SortItem {
    /// The sort key.
    pub expr: ColExpr,
    /// `col.desc()` / `desc(col)`.
    pub descending: bool,
}

/// Parses `.order_by(item, ..)` and `.sort(item, ..)`.
pub fn parse(name: &str, mc: &ExprMethodCall) -> Result<Box<dyn Operator>> {
    if mc.args.is_empty() {
        return Err(Error::new(
            mc.method.span(),
            format!("`.{name}` needs at least one column: `.{name}(n.desc(), page)`"),
        ));
    }
    Ok(Box::new(OrderBy(
        mc.args.iter().map(parse_sort_item).collect::<Result<_>>()?,
    )))
}

/// An item of `.order_by(..)`: `col`, `col.desc()`, `desc(col)`, `col.asc()`, `asc(col)`.
fn parse_sort_item(expr: &Expr) -> Result<SortItem> {
    let direction = |m: &Ident| match m.to_string().as_str() {
        "desc" => Some(true),
        "asc" => Some(false),
        _ => None,
    };
    match strip_groups(expr) {
        Expr::MethodCall(mc) if mc.args.is_empty() && mc.turbofish.is_none() => {
            if let Some(descending) = direction(&mc.method) {
                return Ok(SortItem {
                    expr: parse_col_expr(&mc.receiver)?,
                    descending,
                });
            }
        }
        Expr::Call(call) => {
            if let Expr::Path(p) = &*call.func {
                if let Some(descending) = p.path.get_ident().and_then(direction) {
                    if call.args.len() != 1 {
                        return Err(Error::new(
                            p.span(),
                            "`desc` / `asc` take one column: `.order_by(desc(n))` or `.order_by(n.desc())`",
                        ));
                    }
                    return Ok(SortItem {
                        expr: parse_col_expr(&call.args[0])?,
                        descending,
                    });
                }
            }
        }
        Expr::Closure(c) => {
            return Err(Error::new(
                c.span(),
                "`.order_by` takes columns (`.order_by(n.desc(), page)`), not a closure",
            ))
        }
        _ => {}
    }
    Ok(SortItem {
        expr: parse_col_expr(expr)?,
        descending: false,
    })
}

impl Operator for OrderBy {
    fn check(&self, cx: &mut Checker, at: Site, info: &mut Info) -> Option<Box<dyn Step>> {
        let Stage::Rows(rows) = at.input else {
            unreachable!("a sort is checked on rows")
        };
        let method = at.method;
        let m = method.to_string();
        // A batch query sorts any rows (the builder checks a dataset of the surrounding code).
        if info.shape.aggregations.is_empty() && info.bounded == Some(false) {
            cx.error(
                method.span(),
                format!(
                    "`.{m}` sorts the result table of an aggregation, in Complete output mode: Spark supports \
                     no other sort on a stream; sort after `.group_by(..).agg(..)` and write with \
                     `.output_mode(Complete)`, or sort in the sink"
                ),
            );
        }
        let keys = self
            .0
            .iter()
            .map(|i| (cx.expr(&i.expr, &rows, &info.tables), i.descending))
            .collect();
        info.shape.sorted = true;
        info.sorted_at = Some(method.clone());
        Some(Box::new(OrderByStep { method, keys }))
    }
}

/// `.order_by(move |__r| (key, Reverse(key), ..))`.
pub struct OrderByStep {
    /// The user's method token.
    pub method: Ident,
    /// The keys, each descending or not.
    pub keys: Vec<(ColExpr, bool)>,
}

impl Step for OrderByStep {
    fn generate(&self) -> TokenStream {
        let r = row(Span::call_site());
        let Self { method, keys } = self;
        let m = Ident::new("order_by", method.span());
        let keys: Vec<TokenStream> = keys
            .iter()
            .map(|(e, desc)| {
                let v = value(e, false);
                let f = if *desc {
                    quote_spanned!(e.span()=> ::stream_runtime::__private::sort_key_desc)
                } else {
                    quote_spanned!(e.span()=> ::stream_runtime::__private::sort_key)
                };
                quote!(#f(#v))
            })
            .collect();
        let key = match keys.as_slice() {
            [one] => one.clone(),
            many => quote!((#(#many,)*)),
        };
        quote!(.#m(move |#r| #key))
    }
}
