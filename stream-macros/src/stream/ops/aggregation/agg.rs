//! `.agg(agg as name, ..)` and `.count()` after a grouping: the aggregates `count()`,
//! `count(expr)` (its non-NULL values), `sum(expr)`, `avg(expr)`, `min(expr)`, `max(expr)` (up
//! to 8).

use super::super::super::ast::ColExpr;
use super::super::super::check::{Checker, GenKind, Info, Key, Rows, Site, Stage, Watermark};
use super::super::super::codegen::{checked, row, value, Check};
use super::super::super::parse::{expect_args, parse_col_expr, split_alias, strip_groups};
use super::super::{Operator, Place, Step};
use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use stream_core::rules::AggShape;
use syn::spanned::Spanned;
use syn::{Error, Expr, ExprMethodCall, Ident, Result};

/// `.agg(agg as name, ...)`.
pub struct Agg(pub Vec<AggItem>);

/// `.count()` after a grouping.
pub struct Count;

/// The aggregate functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AggFunc {
    /// `count()`, or `count(col)`: the rows where `col` is not NULL
    Count,
    /// `sum(col)`
    Sum,
    /// `avg(col)`
    Avg,
    /// `min(col)`
    Min,
    /// `max(col)`
    Max,
}

impl AggFunc {
    /// The function's name in the language (and the `Agg<T>` method it becomes).
    pub fn name(self) -> &'static str {
        match self {
            AggFunc::Count => "count",
            AggFunc::Sum => "sum",
            AggFunc::Avg => "avg",
            AggFunc::Min => "min",
            AggFunc::Max => "max",
        }
    }

    /// The function called `name`.
    pub fn from_name(name: &str) -> Option<AggFunc> {
        Some(match name {
            "count" => AggFunc::Count,
            "sum" => AggFunc::Sum,
            "avg" | "mean" => AggFunc::Avg,
            "min" => AggFunc::Min,
            "max" => AggFunc::Max,
            _ => return None,
        })
    }
}

/// One aggregate of `.agg(...)`: `sum(price) as total`.
pub struct AggItem {
    /// The function's name token.
    pub func_token: Ident,
    /// The function.
    pub func: AggFunc,
    /// Its argument (`None` for `count()`; `count(col)` counts the non-NULL values).
    pub arg: Option<ColExpr>,
    /// The output column's name.
    pub name: Ident,
}

// ---- parse ----

/// Parses `.agg(item, ..)`.
pub fn parse_agg(_: &str, mc: &ExprMethodCall) -> Result<Box<dyn Operator>> {
    if mc.args.is_empty() {
        return Err(Error::new(
            mc.method.span(),
            "`.agg` needs at least one aggregate: `.agg(count() as n, sum(price) as total)`",
        ));
    }
    Ok(Box::new(Agg(mc
        .args
        .iter()
        .map(parse_agg_item)
        .collect::<Result<_>>()?)))
}

/// Parses `.count()`.
pub fn parse_count(_: &str, mc: &ExprMethodCall) -> Result<Box<dyn Operator>> {
    expect_args(mc, 0, ".count()")?;
    Ok(Box::new(Count))
}

/// An item of `.agg(...)`: `count() as n`, `sum(price) as total`.
fn parse_agg_item(expr: &Expr) -> Result<AggItem> {
    let (inner, alias) = split_alias(expr);
    let call = match strip_groups(&inner) {
        Expr::Call(call) => call,
        other => {
            return Err(Error::new(
                other.span(),
                "`.agg` takes aggregate functions: `.agg(count() as n, sum(price) as total)`",
            ))
        }
    };
    let func_token = match &*call.func {
        Expr::Path(p) if p.qself.is_none() && p.path.get_ident().is_some() => {
            p.path.get_ident().unwrap().clone()
        }
        other => {
            return Err(Error::new(
                other.span(),
                "`.agg` takes aggregate functions (count, sum, min, max, avg): `.agg(sum(price) as total)`",
            ))
        }
    };
    let fname = func_token.to_string();
    let func = AggFunc::from_name(&fname).ok_or_else(|| {
        Error::new(
            func_token.span(),
            format!("unknown aggregate function `{fname}`; use one of count, sum, min, max, avg"),
        )
    })?;
    let args: Vec<&Expr> = call.args.iter().collect();
    let arg = match (func, args.len()) {
        (AggFunc::Count, 0) => None,
        (_, 1) => Some(parse_col_expr(args[0])?),
        (AggFunc::Count, n) => {
            return Err(Error::new(
                func_token.span(),
                format!(
                    "`count` takes no column (`count()`: the rows of each group) or one \
                     (`count(col)`: the rows where `col` is not NULL), not {n}"
                ),
            ))
        }
        (_, n) => {
            return Err(Error::new(
                func_token.span(),
                format!("`{fname}` takes one column, not {n}: `{fname}(price)`"),
            ))
        }
    };
    let name = match (alias, &arg) {
        (Some(a), _) => a,
        (None, None) => Ident::new(func.name(), func_token.span()),
        (None, Some(ColExpr::Column(c))) => {
            use syn::ext::IdentExt;
            Ident::new(&format!("{}_{}", func.name(), c.unraw()), func_token.span())
        }
        (None, Some(_)) => {
            return Err(Error::new(
                func_token.span(),
                format!("give this aggregate a name: `{fname}(..) as name`"),
            ))
        }
    };
    Ok(AggItem {
        func_token,
        func,
        arg,
        name,
    })
}

// ---- check ----

impl Operator for Agg {
    fn place(&self) -> Place {
        Place::Grouping
    }

    fn check(&self, cx: &mut Checker, at: Site, info: &mut Info) -> Option<Box<dyn Step>> {
        match at.input {
            Stage::Grouped { input, key, .. } => {
                Some(Box::new(agg(cx, at.method, &self.0, &input, &key, info)))
            }
            _ => {
                cx.error(
                    at.method.span(),
                    "`.agg(..)` needs a grouping first: `.group_by(col, ..).agg(..)` (or `.group_by()` for one global group)",
                );
                None
            }
        }
    }
}

impl Operator for Count {
    fn place(&self) -> Place {
        Place::Grouping
    }

    fn check(&self, cx: &mut Checker, at: Site, info: &mut Info) -> Option<Box<dyn Step>> {
        let method = at.method;
        let Stage::Grouped { input, key, .. } = at.input else {
            cx.error(
                method.span(),
                "`.count()` on a stream needs a grouping: `.group_by(col).count()` or `.group_by().count()` for a running total",
            );
            return None;
        };
        match key {
            key @ Key::Columns { .. } => {
                let item = AggItem {
                    func_token: Ident::new("count", method.span()),
                    func: AggFunc::Count,
                    arg: None,
                    name: Ident::new("count", method.span()),
                };
                Some(Box::new(agg(cx, method, &[item], &input, &key, info)))
            }
            Key::Opaque => {
                info.shape.aggregation_after_join |= info.shape.stream_joins > 0;
                info.shape.aggregations.push(AggShape::default());
                info.watermarks.clear();
                info.windows.clear();
                info.event_time.clear();
                info.unchecked.clear();
                info.stage = Stage::Rows(Rows::Known {
                    strukt: None,
                    columns: vec![
                        Ident::new("key", Span::call_site()),
                        Ident::new("count", Span::call_site()),
                    ],
                    origin: "`.group_by_key(..).count()`".into(),
                });
                Some(Box::new(CountKeyStep { method }))
            }
        }
    }
}

/// Checks the aggregates of a grouping and lowers them; the rows after are the key's columns,
/// then the aggregates.
fn agg(
    cx: &mut Checker,
    method: Ident,
    items: &[AggItem],
    input: &Rows,
    key: &Key,
    info: &mut Info,
) -> AggStep {
    let key_names: Vec<Ident> = match key {
        Key::Columns { names, .. } => names.clone(),
        Key::Opaque => vec![Ident::new("key", Span::call_site())],
    };
    if items.len() > 8 {
        cx.error(
            items[8].func_token.span(),
            "at most 8 aggregates fit in one `.agg(..)`; split the aggregation or drop some",
        );
    }
    let mut names = key_names.clone();
    let mut aggs = Vec::new();
    let tables = std::mem::take(&mut info.tables);
    for item in items {
        let arg = item.arg.as_ref().map(|a| cx.expr(a, input, &tables));
        if names.contains(&item.name) {
            cx.error(
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
    let strukt = cx.new_struct("Row", GenKind::Columns(names.clone()));
    info.shape.aggregation_after_join |= info.shape.stream_joins > 0;
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
    // The window of a watermarked windowed aggregation carries the watermark on (a chained
    // aggregation may group by `window(window_time(window), ..)`), and so does an event-time
    // key; the builder keeps the watermark's name for it.
    info.watermarks.clear();
    info.windows.clear();
    info.event_time.clear();
    if let Key::Columns {
        window,
        event_time_key,
        origin: Some(origin),
        ..
    } = key
    {
        if let Some(column) = window.as_ref().or(event_time_key.as_ref()) {
            info.event_time.push((origin.clone(), method.span()));
            info.watermarks.push(Watermark {
                column: column.to_string(),
                origin: origin.clone(),
                unchecked: None,
            });
        }
    }
    info.stage = Stage::Rows(Rows::Known {
        strukt: Some(strukt.clone()),
        columns: names,
        origin: format!("`.{method}(..)`"),
    });
    AggStep {
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

// ---- codegen ----

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

/// `.agg(|__a| (..), |__k, (..)| S { .. })`.
pub struct AggStep {
    /// The user's method token.
    pub method: Ident,
    /// The aggregates.
    pub aggs: Vec<LAgg>,
    /// Their output columns.
    pub names: Vec<Ident>,
    /// The key columns the output starts with.
    pub key: KeyOut,
    /// The generated output row struct.
    pub strukt: Ident,
}

/// The runtime's `.count()` on a grouping by key.
pub struct CountKeyStep {
    /// The user's method token.
    pub method: Ident,
}

impl Step for AggStep {
    fn generate(&self) -> TokenStream {
        let r = row(Span::call_site());
        let Self {
            method,
            aggs,
            names,
            key,
            strukt,
        } = self;
        let m = Ident::new("agg", method.span());
        let a = Ident::new("__a", Span::mixed_site());
        let k = Ident::new("__k", Span::mixed_site());
        let calls = aggs.iter().map(|agg| {
            let f = Ident::new(agg.func.name(), agg.func_token.span());
            match (&agg.arg, agg.func) {
                (None, _) => quote!(#a.#f()),
                (Some(e), AggFunc::Count) => {
                    let f = Ident::new("count_non_null", agg.func_token.span());
                    let v = value(e, false);
                    quote!(#a.#f(move |#r| #v))
                }
                (Some(e), AggFunc::Sum | AggFunc::Avg) => {
                    let v = checked(Check::Numeric, e.span(), value(e, false));
                    let r = row(e.span());
                    quote_spanned!(e.span()=> #a.#f(move |#r| #v))
                }
                (Some(e), _) => {
                    let v = value(e, false);
                    quote!(#a.#f(move |#r| #v))
                }
            }
        });
        let vars: Vec<Ident> = (0..aggs.len())
            .map(|i| Ident::new(&format!("__v{i}"), Span::mixed_site()))
            .collect();
        let w = Ident::new("__w", Span::mixed_site());
        let (key_fields, window_param) = match key {
            KeyOut::Fields { fields, window } => {
                let fields = fields.iter().map(|c| {
                    let mut c = c.clone();
                    c.set_span(Span::call_site());
                    if window.as_ref() == Some(&c) {
                        quote!(#c: #w,)
                    } else {
                        quote!(#c: #k.#c,)
                    }
                });
                (quote!(#(#fields)*), window.as_ref().map(|_| quote!(#w,)))
            }
            KeyOut::Whole => (quote!(key: #k,), None),
        };
        quote! {
            .#m(
                move |#a| (#(#calls,)*),
                move |#window_param #k, (#(#vars,)*)| #strukt { #key_fields #(#names: #vars),* },
            )
        }
    }
}

impl Step for CountKeyStep {
    fn generate(&self) -> TokenStream {
        let method = &self.method;
        quote!(.#method())
    }
}
