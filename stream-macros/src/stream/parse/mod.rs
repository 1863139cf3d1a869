//! Parse: the body of `stream!` is ordinary Rust (statements and method-call chains), parsed by
//! syn and then interpreted into the [`ast`](super::ast) of the language.
//!
//! This step knows the vocabulary (method names, aggregate functions, output modes, triggers) and
//! the shape of each call; it does not know rows or columns (that is `check`).
//!
//! - [`columns`]: column expressions, shared by the operators.

mod columns;
#[cfg(test)]
mod tests;

pub use columns::parse_col_expr;
use columns::{parse_named, split_alias};

use super::ast::*;
use super::ops::{self, Operator, METHODS};
use super::suggest::did_you_mean;
use proc_macro2::TokenStream;
use syn::parse::Parser;
use syn::spanned::Spanned;
use syn::{Error, Expr, Ident, Lit, Result, Stmt};

/// Spark methods the language does not have (yet), with what to do instead.
const NOT_YET: &[(&str, &str)] = &[
    (
        "drop_duplicates",
        "drop_duplicates is not supported by `stream!` yet",
    ),
    (
        "map_groups_with_state",
        "arbitrary stateful operations are not supported by `stream!` yet",
    ),
    (
        "flat_map_groups_with_state",
        "arbitrary stateful operations are not supported by `stream!` yet",
    ),
];

/// Parses the tokens given to `stream!`.
pub fn parse_body(tokens: TokenStream) -> Result<StreamBody> {
    let stmts = syn::Block::parse_within.parse2(tokens)?;
    let n = stmts.len();
    if n == 0 {
        return Err(Error::new(
            proc_macro2::Span::call_site(),
            "`stream!` needs a pipeline, e.g. `stream! { read_stream::<Bid>(source).filter(price > 10) }`",
        ));
    }
    let mut bindings = Vec::new();
    let mut result = None;
    for (i, stmt) in stmts.into_iter().enumerate() {
        let last = i + 1 == n;
        match stmt {
            Stmt::Local(local) => {
                let name = match &local.pat {
                    syn::Pat::Ident(p) if p.by_ref.is_none() && p.subpat.is_none() => {
                        p.ident.clone()
                    }
                    other => {
                        return Err(Error::new(
                            other.span(),
                            "bind a pipeline to a plain name: `let name = pipeline;`",
                        ))
                    }
                };
                let init = match &local.init {
                    Some(init) if init.diverge.is_none() => &init.expr,
                    Some(init) => {
                        return Err(Error::new(
                            init.eq_token.span,
                            "`let ... else` is not supported in `stream!`: write `let name = pipeline;`",
                        ))
                    }
                    None => {
                        return Err(Error::new(
                            name.span(),
                            format!("`let {name};` needs a pipeline: `let {name} = read_stream::<T>(source);`"),
                        ))
                    }
                };
                let pipeline = parse_pipeline(init)?;
                if last {
                    return Err(Error::new(
                        local.semi_token.span,
                        format!(
                            "`stream!` ends with the resulting pipeline, not with a `let`; add `{name}` (without `;`) as the last line"
                        ),
                    ));
                }
                bindings.push(Binding { name, pipeline });
            }
            Stmt::Expr(expr, None) if last => result = Some(parse_pipeline(&expr)?),
            Stmt::Expr(expr, semi) => {
                let msg = if last {
                    "remove this `;`: the last pipeline of `stream!` is its result"
                } else {
                    "name this pipeline with `let name = ...;`; only the last expression of `stream!` stands alone"
                };
                let span = match semi {
                    Some(s) if last => s.span,
                    _ => expr.span(),
                };
                return Err(Error::new(span, msg));
            }
            Stmt::Item(item) => {
                return Err(Error::new(
                    item.span(),
                    "items cannot be declared inside `stream!`; declare them outside the macro",
                ))
            }
            Stmt::Macro(m) => {
                return Err(Error::new(
                    m.span(),
                    "macro calls are not supported inside `stream!`; compute the value outside and pass it with lit(..)",
                ))
            }
        }
    }
    Ok(StreamBody {
        bindings,
        result: result.expect("the last statement is the result"),
    })
}

/// A source and a chain of method calls.
pub fn parse_pipeline(expr: &Expr) -> Result<Pipeline> {
    let mut calls_rev = Vec::new();
    let mut cur = expr;
    loop {
        match cur {
            Expr::MethodCall(mc) => {
                calls_rev.push(mc);
                cur = &mc.receiver;
            }
            Expr::Paren(p) => cur = &p.expr,
            Expr::Group(g) => cur = &g.expr,
            _ => break,
        }
    }
    let source = parse_source(cur)?;
    let calls = calls_rev
        .into_iter()
        .rev()
        .map(parse_call)
        .collect::<Result<Vec<_>>>()?;
    Ok(Pipeline { source, calls })
}

/// The start of a pipeline: `read_stream::<T>(..)`, `read_static::<T>(..)` or a name.
fn parse_source(expr: &Expr) -> Result<Source> {
    const HOW: &str =
        "a pipeline starts with `read_stream::<T>(source)` or with the name of a `let` binding";
    match expr {
        Expr::Call(call) => {
            let Expr::Path(path) = &*call.func else {
                return Err(Error::new(call.func.span(), HOW));
            };
            let Some(last) = path.path.segments.last() else {
                return Err(Error::new(path.span(), HOW));
            };
            let is_static = last.ident == "read_static";
            if last.ident != "read_stream" && !is_static {
                return Err(Error::new(
                    last.ident.span(),
                    format!("unknown source function `{}`; {HOW}", last.ident),
                ));
            }
            let func_name = last.ident.to_string();
            let row_type = match &last.arguments {
                syn::PathArguments::None => None,
                syn::PathArguments::AngleBracketed(args) if args.args.len() == 1 => {
                    match &args.args[0] {
                        syn::GenericArgument::Type(t) => Some(Box::new(t.clone())),
                        other => {
                            return Err(Error::new(
                                other.span(),
                                format!("write the row type: `{func_name}::<Bid>(source)`"),
                            ))
                        }
                    }
                }
                other => {
                    return Err(Error::new(
                        other.span(),
                        format!("`{func_name}` takes one type argument, the row type: `{func_name}::<Bid>(source)`"),
                    ))
                }
            };
            if call.args.len() != 1 {
                return Err(Error::new(
                    last.ident.span(),
                    format!(
                        "`{func_name}` takes one argument, the source (e.g. `{}`), not {}",
                        if is_static {
                            "Files::json(\"people\")"
                        } else {
                            "MemoryStream::new()"
                        },
                        call.args.len()
                    ),
                ));
            }
            let (func, arg) = (last.ident.clone(), Box::new(call.args[0].clone()));
            Ok(if is_static {
                Source::ReadStatic {
                    func,
                    row_type,
                    arg,
                }
            } else {
                Source::ReadStream {
                    func,
                    row_type,
                    arg,
                }
            })
        }
        Expr::Path(p) if p.qself.is_none() && p.path.get_ident().is_some() => {
            Ok(Source::Name(p.path.get_ident().unwrap().clone()))
        }
        other => Err(Error::new(other.span(), HOW)),
    }
}

/// The method's name without `r#`.
fn method_name(ident: &Ident) -> String {
    use syn::ext::IdentExt;
    ident.unraw().to_string()
}

/// An error unless the call has `n` arguments; `usage` shows how to call it.
pub fn expect_args(mc: &syn::ExprMethodCall, n: usize, usage: &str) -> Result<()> {
    if mc.args.len() != n {
        let what = match n {
            0 => "no arguments".to_string(),
            1 => "one argument".to_string(),
            n => format!("{n} arguments"),
        };
        return Err(Error::new(
            mc.method.span(),
            format!(
                "`.{}` takes {what}, not {}: write `{usage}`",
                method_name(&mc.method),
                mc.args.len()
            ),
        ));
    }
    Ok(())
}

/// One `.method(args)`: the registry of `ops` has the function parsing it.
fn parse_call(mc: &syn::ExprMethodCall) -> Result<Call> {
    let method = mc.method.clone();
    let name = method_name(&method);
    if let Some(tf) = &mc.turbofish {
        return Err(Error::new(
            tf.span(),
            format!("type arguments are not supported on `.{name}`: the macro infers the types"),
        ));
    }
    let Some(parse) = ops::parser(&name) else {
        let methods = || METHODS.iter().map(|(m, _)| *m);
        let list = methods().collect::<Vec<_>>().join(", ");
        if let Some((_, why)) = NOT_YET.iter().find(|(m, _)| *m == name) {
            return Err(Error::new(
                method.span(),
                format!("`.{name}`: {why}; supported methods: {list}"),
            ));
        }
        return Err(Error::new(
            method.span(),
            format!(
                "unknown method `.{name}` in `stream!`{}; supported methods: {list}",
                did_you_mean(&name, methods()).replace("(did you mean `", "(did you mean `."),
            ),
        ));
    };
    Ok(Call {
        method,
        op: parse(&name, mc)?,
    })
}

/// The operators not yet in a family module of `ops`: the `ast::Op` enum.
pub fn parse_op(name: &str, mc: &syn::ExprMethodCall) -> Result<Box<dyn Operator>> {
    let method = mc.method.clone();
    let args: Vec<&Expr> = mc.args.iter().collect();
    let op = match name {
        "filter" | "where" | "where_" => {
            expect_args(mc, 1, &format!(".{name}(price > 10)"))?;
            match strip_groups(args[0]) {
                Expr::Closure(_) => Op::FilterFn(args[0].clone()),
                e => Op::Filter(parse_col_expr(e)?),
            }
        }
        "select" => {
            if args.is_empty() {
                return Err(Error::new(
                    method.span(),
                    "`.select` needs at least one column: `.select(auction, price * 2 as double_price)`",
                ));
            }
            Op::Select(args.into_iter().map(parse_named).collect::<Result<_>>()?)
        }
        "with_column" => {
            expect_args(mc, 2, ".with_column(name, expression)")?;
            let name = match strip_groups(args[0]) {
                Expr::Path(p) if p.qself.is_none() && p.path.get_ident().is_some() => {
                    p.path.get_ident().unwrap().clone()
                }
                Expr::Lit(syn::ExprLit { lit: Lit::Str(s), .. }) => {
                    s.parse::<Ident>().map_err(|_| {
                        Error::new(s.span(), "a column name must be a Rust identifier, e.g. `bonus`")
                    })?
                }
                other => {
                    return Err(Error::new(
                        other.span(),
                        "the first argument of `.with_column` is the new column's name: `.with_column(bonus, price + 1)`",
                    ))
                }
            };
            let expr = parse_col_expr(args[1])?;
            Op::WithColumn(NamedExpr { name, expr })
        }
        "map" => {
            expect_args(mc, 1, ".map(|row: Row| ...)")?;
            Op::Map(args[0].clone())
        }
        "flat_map" => {
            expect_args(mc, 1, ".flat_map(|row: Row| ...)")?;
            Op::FlatMap(args[0].clone())
        }
        "union" => {
            expect_args(mc, 1, ".union(other)")?;
            Op::Union(Box::new(parse_pipeline(args[0])?))
        }
        "group_by" => {
            if args.len() == 1 && matches!(strip_groups(args[0]), Expr::Closure(_)) {
                Op::GroupByKey {
                    func: args[0].clone(),
                    by_key: false,
                }
            } else {
                let items: Vec<GroupItem> = args
                    .into_iter()
                    .map(parse_group_item)
                    .collect::<Result<_>>()?;
                let mut windows = items.iter().filter_map(GroupItem::window_token);
                if let (Some(_), Some(second)) = (windows.next(), windows.next()) {
                    return Err(Error::new(
                        second.span(),
                        "group by at most one `window(..)` or `session_window(..)`",
                    ));
                }
                Op::GroupBy(items)
            }
        }
        "with_watermark" => {
            const USAGE: &str = ".with_watermark(event_time_column, \"10 seconds\")";
            expect_args(mc, 2, USAGE)?;
            let column = parse_col_expr(args[0])?;
            let delay = match strip_groups(args[1]) {
                Expr::Lit(syn::ExprLit {
                    lit: Lit::Str(s), ..
                }) => s.clone(),
                other => {
                    return Err(Error::new(
                        other.span(),
                        format!("the watermark delay is a duration string literal, checked at compile time: `{USAGE}`"),
                    ))
                }
            };
            Op::WithWatermark { column, delay }
        }
        "group_by_key" => {
            expect_args(mc, 1, ".group_by_key(|row| row.key)")?;
            Op::GroupByKey {
                func: args[0].clone(),
                by_key: true,
            }
        }
        "agg" => {
            if args.is_empty() {
                return Err(Error::new(
                    method.span(),
                    "`.agg` needs at least one aggregate: `.agg(count() as n, sum(price) as total)`",
                ));
            }
            Op::Agg(
                args.into_iter()
                    .map(parse_agg_item)
                    .collect::<Result<_>>()?,
            )
        }
        "count" => {
            expect_args(mc, 0, ".count()")?;
            Op::Count
        }
        "order_by" | "sort" => {
            if args.is_empty() {
                return Err(Error::new(
                    method.span(),
                    format!("`.{name}` needs at least one column: `.{name}(n.desc(), page)`"),
                ));
            }
            Op::OrderBy(
                args.into_iter()
                    .map(parse_sort_item)
                    .collect::<Result<_>>()?,
            )
        }
        _ => unreachable!("the registry has a parse function of its own for `.{name}`"),
    };
    Ok(Box::new(op))
}

/// The expression inside invisible groups (from `macro_rules!` fragments).
pub fn strip_groups(mut e: &Expr) -> &Expr {
    while let Expr::Group(g) = e {
        e = &g.expr;
    }
    e
}

/// A group_by item: a column, a named expression, or `window(time, "size"[, "slide"[, "offset"]])`.
fn parse_group_item(expr: &Expr) -> Result<GroupItem> {
    const USAGE: &str =
        "window(time_column, \"10 seconds\"), or with a slide and a start offset: window(time_column, \"10 seconds\", \"5 seconds\", \"1 second\")";
    let (inner, alias) = split_alias(expr);
    if let Expr::Call(call) = strip_groups(&inner) {
        if let Expr::Path(p) = &*call.func {
            if let Some(func) = p.path.get_ident().filter(|f| *f == "session_window") {
                return parse_session_window(func, call, alias);
            }
            if let Some(func) = p.path.get_ident().filter(|f| *f == "window") {
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
                return Ok(GroupItem::Window(WindowItem {
                    func: func.clone(),
                    time,
                    durations,
                    name: alias.unwrap_or_else(|| Ident::new("window", func.span())),
                }));
            }
        }
    }
    parse_named(expr).map(GroupItem::Column)
}

/// `session_window(time, "5 seconds")` or `session_window(time, gap_ms_expression)`.
fn parse_session_window(
    func: &Ident,
    call: &syn::ExprCall,
    alias: Option<Ident>,
) -> Result<GroupItem> {
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
    Ok(GroupItem::Session(SessionItem {
        func: func.clone(),
        time,
        gap,
        name: alias.unwrap_or_else(|| Ident::new("session_window", func.span())),
    }))
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
        (AggFunc::Count, _) => {
            return Err(Error::new(
                func_token.span(),
                "`count()` takes no argument: it counts the rows of each group",
            ))
        }
        (_, 1) => Some(parse_col_expr(args[0])?),
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

/// The last segment of a path expression: `Update` in `OutputMode::Update`.
pub fn last_ident(expr: &Expr) -> Option<&Ident> {
    match strip_groups(expr) {
        Expr::Path(p) if p.qself.is_none() => p.path.segments.last().map(|s| &s.ident),
        _ => None,
    }
}
