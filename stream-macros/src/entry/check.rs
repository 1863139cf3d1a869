//! Checking that the function can be the program's entry point: `fn main(session: Session)`,
//! optionally with the application's flags (`args: Args`), returning `()` or a `Result`; not
//! async, generic, const or unsafe. Types are left to rustc, on the user's tokens.

use super::parse::Parsed;
use syn::spanned::Spanned;
use syn::{FnArg, ItemFn, PatType};

/// An entry point that passed the checks.
pub struct Checked {
    pub function: ItemFn,
    /// The session parameter.
    pub session: PatType,
    /// The application's flags parameter, if any.
    pub flags: Option<PatType>,
    /// The doc comment, for `--help`.
    pub about: String,
}

const SHAPE: &str = "`fn main(session: Session)`, or `fn main(session: Session, args: Args)` \
                     with `Args` the application's flags (e.g. a `#[derive(clap::Parser)]`)";

pub fn check(parsed: Parsed) -> syn::Result<Checked> {
    let mut errors: Vec<syn::Error> = Vec::new();
    let f = parsed.function;
    let sig = &f.sig;
    if !parsed.args.is_empty() {
        errors.push(syn::Error::new(
            parsed.args.span(),
            "`#[stream::main]` takes no arguments: the engine's flags (-w, -n, -p, -h) come \
             from the command line",
        ));
    }
    if sig.ident != "main" {
        errors.push(syn::Error::new(
            sig.ident.span(),
            format!(
                "`#[stream::main]` makes the program's entry point: put it on `fn main`, not `fn {}`",
                sig.ident
            ),
        ));
    }
    if let Some(a) = &sig.asyncness {
        errors.push(syn::Error::new(
            a.span(),
            "`main` cannot be `async` under `#[stream::main]`: queries run on their own threads \
             (wait for one with `await_termination()`)",
        ));
    }
    for (what, span) in [
        ("const", sig.constness.map(|c| c.span())),
        ("unsafe", sig.unsafety.map(|u| u.span())),
        ("extern", sig.abi.as_ref().map(|a| a.span())),
    ] {
        if let Some(span) = span {
            errors.push(syn::Error::new(
                span,
                format!("`main` cannot be `{what}` under `#[stream::main]`"),
            ));
        }
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        errors.push(syn::Error::new(
            sig.generics.span(),
            "`main` cannot be generic under `#[stream::main]`",
        ));
    }
    if let Some(v) = &sig.variadic {
        errors.push(syn::Error::new(v.span(), "`main` cannot be variadic"));
    }
    let mut params = Vec::new();
    for input in &sig.inputs {
        match input {
            FnArg::Receiver(r) => errors.push(syn::Error::new(
                r.span(),
                format!("`main` takes no `self`: {SHAPE}"),
            )),
            FnArg::Typed(p) => params.push(p.clone()),
        }
    }
    if params.len() > 2 {
        errors.push(syn::Error::new(
            params[2].span(),
            format!("`main` takes at most two parameters: {SHAPE}"),
        ));
    }
    if params.is_empty() && !sig.inputs.iter().any(|i| matches!(i, FnArg::Receiver(_))) {
        errors.push(syn::Error::new(
            sig.paren_token.span.join(),
            format!("`main` takes the session built from the command line: {SHAPE}"),
        ));
    }
    if let Some(mut first) = errors.pop() {
        for e in errors.into_iter().rev() {
            let mut e = e;
            e.combine(first);
            first = e;
        }
        return Err(first);
    }
    let about = doc_comment(&f);
    let mut params = params.into_iter();
    Ok(Checked {
        session: params.next().expect("checked: one or two parameters"),
        flags: params.next(),
        about,
        function: f,
    })
}

/// The function's doc comment as text (each line without the space after `///`).
fn doc_comment(f: &ItemFn) -> String {
    let lines: Vec<String> = f
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .filter_map(|a| match &a.meta {
            syn::Meta::NameValue(nv) => match &nv.value {
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                }) => Some(s.value()),
                _ => None,
            },
            _ => None,
        })
        .map(|l| l.strip_prefix(' ').unwrap_or(&l).to_string())
        .collect();
    lines.join("\n").trim().to_string()
}
