//! Parse: the body of `stream!` is ordinary Rust (statements and method-call chains), parsed by
//! syn and then interpreted into the [`ast`](super::ast) of the language.
//!
//! This step knows the shape of the body (bindings, pipelines, sources) and of column
//! expressions; each method call is parsed by the function the registry of `ops` has for its
//! name (an unknown name is reported here). It does not know rows or columns (that is `check`).
//!
//! - [`columns`]: column expressions, shared by the operators.

mod columns;
#[cfg(test)]
mod tests;

pub use columns::{parse_col_expr, parse_named, split_alias};

use super::ast::*;
use super::ops::{self, METHODS};
use super::suggest::did_you_mean;
use proc_macro2::TokenStream;
use syn::parse::Parser;
use syn::spanned::Spanned;
use syn::{Error, Expr, Ident, Result, Stmt};

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
    const HOW: &str = "a pipeline starts with `read_stream::<T>(source)` (a stream), \
                       `read::<T>(source)` (a batch query) or the name of a `let` binding";
    match expr {
        Expr::Call(call) => {
            let Expr::Path(path) = &*call.func else {
                return Err(Error::new(call.func.span(), HOW));
            };
            let Some(last) = path.path.segments.last() else {
                return Err(Error::new(path.span(), HOW));
            };
            let is_static = last.ident == "read_static";
            let is_batch = last.ident == "read";
            if last.ident != "read_stream" && !is_static && !is_batch {
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
                        if is_static || is_batch {
                            "Files::json(\"people\")"
                        } else {
                            "MemoryStream::new()"
                        },
                        call.args.len()
                    ),
                ));
            }
            let (func, arg) = (last.ident.clone(), Box::new(call.args[0].clone()));
            Ok(if is_batch {
                Source::Read {
                    func,
                    row_type,
                    arg,
                }
            } else if is_static {
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

/// The expression inside invisible groups (from `macro_rules!` fragments).
pub fn strip_groups(mut e: &Expr) -> &Expr {
    while let Expr::Group(g) = e {
        e = &g.expr;
    }
    e
}

/// The last segment of a path expression: `Update` in `OutputMode::Update`.
pub fn last_ident(expr: &Expr) -> Option<&Ident> {
    match strip_groups(expr) {
        Expr::Path(p) if p.qself.is_none() => p.path.segments.last().map(|s| &s.ident),
        _ => None,
    }
}
