//! Column expressions: every bare identifier is a column of the current row; `expr as name`
//! names an output column.

use super::super::ast::*;
use super::super::ops::aggregation::agg::AggFunc;
use super::strip_groups;
use syn::spanned::Spanned;
use syn::{Error, Expr, Ident, Lit, Result, Type};

/// The primitive types, the targets of casts (any other `as name` is an alias).
const PRIMITIVES: &[&str] = &[
    "i8", "i16", "i32", "i64", "i128", "isize", "u8", "u16", "u32", "u64", "u128", "usize", "f32",
    "f64", "bool", "char",
];

/// `e as name` where `name` is not a primitive type: an alias.
pub fn alias_of(ty: &Type) -> Option<Ident> {
    match ty {
        Type::Path(p) if p.qself.is_none() => {
            let id = p.path.get_ident()?;
            let s = id.to_string();
            (!PRIMITIVES.contains(&s.as_str())).then(|| id.clone())
        }
        Type::Group(g) => alias_of(&g.elem),
        _ => None,
    }
}

/// Splits `expr as alias`. `as` binds tighter than binary operators in Rust, so
/// `price * 2 as double_price` parses as `price * (2 as double_price)`: the alias is looked for
/// on the right-most operand and applies to the whole item, as in SQL.
pub fn split_alias(expr: &Expr) -> (Expr, Option<Ident>) {
    match expr {
        Expr::Cast(c) => match alias_of(&c.ty) {
            Some(alias) => ((*c.expr).clone(), Some(alias)),
            None => (expr.clone(), None),
        },
        Expr::Binary(b) => {
            let (right, alias) = split_alias(&b.right);
            match alias {
                Some(alias) => {
                    let mut b = b.clone();
                    b.right = Box::new(right);
                    (Expr::Binary(b), Some(alias))
                }
                None => (expr.clone(), None),
            }
        }
        Expr::Group(g) => split_alias(&g.expr),
        _ => (expr.clone(), None),
    }
}

/// A select or group_by item: `col`, `expr as name`.
pub fn parse_named(expr: &Expr) -> Result<NamedExpr> {
    if let Expr::Closure(c) = strip_groups(expr) {
        return Err(Error::new(
            c.span(),
            "a closure is not a column: use column names and expressions here (`price * 2 as double`), or `.map(|row| ...)` for typed code",
        ));
    }
    let (inner, alias) = split_alias(expr);
    let col = parse_col_expr(&inner)?;
    let name = match (alias, &col) {
        (Some(a), _) => a,
        (None, ColExpr::Column(c)) => c.clone(),
        (
            None,
            ColExpr::Field {
                member: syn::Member::Named(f),
                ..
            },
        ) => f.clone(),
        (None, other) => {
            return Err(Error::new(
                other.span(),
                "give this column a name: write `<expression> as name`",
            ))
        }
    };
    Ok(NamedExpr { name, expr: col })
}

/// A column expression.
pub fn parse_col_expr(expr: &Expr) -> Result<ColExpr> {
    Ok(match expr {
        Expr::Path(p) => {
            if let (None, Some(id)) = (&p.qself, p.path.get_ident()) {
                ColExpr::Column(id.clone())
            } else {
                return Err(Error::new(
                    p.span(),
                    "a path is not a column: bare names are columns; pass a Rust value with lit(..)",
                ));
            }
        }
        Expr::Lit(l) => ColExpr::Lit(l.lit.clone()),
        Expr::Call(call) => {
            let Expr::Path(path) = &*call.func else {
                return Err(Error::new(
                    call.func.span(),
                    "only named functions can be called in a column expression",
                ));
            };
            match path.path.get_ident() {
                Some(f) if f == "lit" => {
                    if call.args.len() != 1 {
                        return Err(Error::new(
                            f.span(),
                            "`lit` takes one Rust value: `lit(threshold)`",
                        ));
                    }
                    ColExpr::RustValue {
                        func: f.clone(),
                        expr: Box::new(call.args[0].clone()),
                    }
                }
                // `window_time(window)`: the event time of a window's row (a chained window
                // aggregation groups by `window(window_time(window), ..)`).
                Some(f) if f == "window_time" => {
                    if call.args.len() != 1 {
                        return Err(Error::new(
                            f.span(),
                            "`window_time` takes one window column: `window_time(window)`",
                        ));
                    }
                    ColExpr::Call {
                        func: syn::parse_quote_spanned!(f.span()=> ::stream_runtime::window_time),
                        paren: call.paren_token,
                        args: vec![parse_col_expr(&call.args[0])?],
                    }
                }
                // `window(time, "10 seconds")`: the tumbling window holding the time, a column
                // a stream-stream join can compare (`window == clicks.window`).
                Some(f) if f == "window" => window_column(f, call)?,
                Some(f) if AggFunc::from_name(&f.to_string()).is_some() => {
                    return Err(Error::new(
                        f.span(),
                        format!(
                            "the aggregate function `{f}` can only be used inside `.agg(..)`, after `.group_by(..)`"
                        ),
                    ))
                }
                Some(f) => {
                    return Err(Error::new(
                        f.span(),
                        format!(
                            "unknown function `{f}` in a column expression; call a Rust method on the column \
                             (`name.to_uppercase()`), a function by its path (`f64::from(price)`), or pass a \
                             Rust value with `lit({f}(..))`"
                        ),
                    ))
                }
                None => ColExpr::Call {
                    func: path.clone(),
                    paren: call.paren_token,
                    args: call
                        .args
                        .iter()
                        .map(parse_col_expr)
                        .collect::<Result<_>>()?,
                },
            }
        }
        Expr::Unary(u) => match u.op {
            syn::UnOp::Not(_) | syn::UnOp::Neg(_) => ColExpr::Unary {
                op: u.op,
                expr: Box::new(parse_col_expr(&u.expr)?),
            },
            _ => {
                return Err(Error::new(
                    u.op.span(),
                    "this operator is not supported in a column expression",
                ))
            }
        },
        Expr::Binary(b) => {
            use syn::BinOp::*;
            if matches!(
                b.op,
                AddAssign(_)
                    | SubAssign(_)
                    | MulAssign(_)
                    | DivAssign(_)
                    | RemAssign(_)
                    | BitXorAssign(_)
                    | BitAndAssign(_)
                    | BitOrAssign(_)
                    | ShlAssign(_)
                    | ShrAssign(_)
            ) {
                return Err(Error::new(
                    b.op.span(),
                    "assignment is not allowed in a column expression",
                ));
            }
            ColExpr::Binary {
                left: Box::new(parse_col_expr(&b.left)?),
                op: b.op,
                right: Box::new(parse_col_expr(&b.right)?),
            }
        }
        Expr::Paren(p) => ColExpr::Paren {
            paren: p.paren_token,
            expr: Box::new(parse_col_expr(&p.expr)?),
        },
        Expr::Group(g) => parse_col_expr(&g.expr)?,
        Expr::Cast(c) => {
            if let Some(alias) = alias_of(&c.ty) {
                return Err(Error::new(
                    alias.span(),
                    format!(
                        "`as {alias}` names a column, which is only allowed at the top of a select, group_by or agg item; \
                         to convert a value use a primitive type (`as f64`)"
                    ),
                ));
            }
            ColExpr::Cast {
                expr: Box::new(parse_col_expr(&c.expr)?),
                as_token: c.as_token,
                ty: c.ty.clone(),
            }
        }
        Expr::Reference(r) if r.mutability.is_none() => ColExpr::Ref {
            and_token: r.and_token,
            expr: Box::new(parse_col_expr(&r.expr)?),
        },
        Expr::Field(f) => ColExpr::Field {
            base: Box::new(parse_col_expr(&f.base)?),
            dot: f.dot_token,
            member: f.member.clone(),
        },
        Expr::MethodCall(mc) => ColExpr::MethodCall {
            receiver: Box::new(parse_col_expr(&mc.receiver)?),
            dot: mc.dot_token,
            method: mc.method.clone(),
            turbofish: mc.turbofish.clone(),
            paren: mc.paren_token,
            args: mc.args.iter().map(parse_col_expr).collect::<Result<_>>()?,
        },
        Expr::Closure(c) => {
            return Err(Error::new(
                c.span(),
                "a closure is not a column expression here; write a column expression such as `price > 10`",
            ))
        }
        other => {
            return Err(Error::new(
                other.span(),
                "not supported in a column expression: use columns, literals, operators, casts, method calls and lit(..)",
            ))
        }
    })
}

/// `window(time, "size")` in a projection, as `tumbling_window(time, size_ms)`.
fn window_column(f: &Ident, call: &syn::ExprCall) -> Result<ColExpr> {
    const USAGE: &str = "write `window(time_column, \"10 seconds\") as window`";
    let args: Vec<&Expr> = call.args.iter().collect();
    if args.len() == 3 || args.len() == 4 {
        return Err(Error::new(
            f.span(),
            "a sliding window makes several rows of one: group by it \
             (`.group_by(window(time, \"10 seconds\", \"5 seconds\"), ..)`); a projection takes \
             a tumbling window, `window(time, \"10 seconds\")`",
        ));
    }
    let [time, size] = args.as_slice() else {
        return Err(Error::new(f.span(), USAGE));
    };
    let size = match strip_groups(size) {
        Expr::Lit(syn::ExprLit {
            lit: Lit::Str(s), ..
        }) => s.clone(),
        other => {
            return Err(Error::new(
                other.span(),
                format!("a window's size is a string literal, checked at compile time: {USAGE}"),
            ))
        }
    };
    let ms = match stream_core::parse_duration(&size.value()) {
        Ok(ms) if ms > 0 => ms,
        Ok(_) => return Err(Error::new(size.span(), "a window's size must be positive")),
        Err(e) => return Err(Error::new(size.span(), format!("{e}; {USAGE}"))),
    };
    Ok(ColExpr::Call {
        func: syn::parse_quote_spanned!(f.span()=> ::stream_runtime::tumbling_window),
        paren: call.paren_token,
        args: vec![
            parse_col_expr(time)?,
            ColExpr::Lit(Lit::Int(syn::LitInt::new(&format!("{ms}i64"), size.span()))),
        ],
    })
}
