//! The pieces of generated code every operator shares: paths of the runtime, the row, and
//! column expressions (each token on the span of the user's token it comes from).

use super::super::ast::ColExpr;
use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned, ToTokens};
use syn::{BinOp, Ident, Lit};

/// The runtime crate.
pub fn rt() -> TokenStream {
    quote!(::stream_runtime)
}

/// The runtime's support module for generated code.
pub fn private() -> TokenStream {
    quote!(::stream_runtime::__private)
}

/// The lints generated items and statements must not trigger in user crates.
pub fn allows() -> TokenStream {
    quote! {
        #[allow(
            non_camel_case_types,
            non_snake_case,
            dead_code,
            unused_parens,
            unused_braces,
            clippy::all,
            clippy::pedantic,
            clippy::nursery
        )]
    }
}

/// A closure parameter or a row reference: `__r`, resolved at the call site so that the tokens
/// spanned at the user's columns find it.
pub fn row(span: Span) -> Ident {
    Ident::new("__r", span)
}

/// Where an expression's value is used.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Ctx {
    /// An owned value (a column is cloned out of the row).
    Value,
    /// A value that may stay a place: an operand of a comparison, the receiver of a method, the
    /// operand of a cast or of `&` (a column is read in place, without cloning).
    Place,
}

/// The expression as an owned value; `top` = the value of an output column (a string literal
/// becomes a `String`).
pub fn value(e: &ColExpr, top: bool) -> TokenStream {
    if top {
        if let ColExpr::Lit(Lit::Str(s)) = e {
            return quote_spanned!(s.span()=> ::std::string::String::from(#s));
        }
    }
    emit(e, Ctx::Value)
}

/// `==`, `!=`, `<`, `<=`, `>`, `>=`: operands may stay places.
pub fn is_comparison(op: &BinOp) -> bool {
    matches!(
        op,
        BinOp::Eq(_) | BinOp::Ne(_) | BinOp::Lt(_) | BinOp::Le(_) | BinOp::Gt(_) | BinOp::Ge(_)
    )
}

/// The expression's tokens, a column read as `ctx` says.
pub fn emit(e: &ColExpr, ctx: Ctx) -> TokenStream {
    match e {
        ColExpr::Column(_) | ColExpr::Field { .. } => {
            let place = place(e);
            match ctx {
                Ctx::Place => place,
                Ctx::Value => {
                    quote_spanned!(e.span()=> ::core::clone::Clone::clone(&#place))
                }
            }
        }
        ColExpr::Table {
            optional: true,
            member: Some((dot, member)),
            ..
        } => {
            // A column of an outer join's table: `Option` of the value.
            let t = Ident::new("__t", Span::mixed_site());
            let table = table_place(e);
            quote_spanned!(e.span()=> #table.as_ref().map(|#t| ::core::clone::Clone::clone(&#t #dot #member)))
        }
        ColExpr::Table { .. } => {
            let place = place(e);
            match ctx {
                Ctx::Place => place,
                Ctx::Value => quote_spanned!(e.span()=> ::core::clone::Clone::clone(&#place)),
            }
        }
        ColExpr::Lit(l) => l.to_token_stream(),
        ColExpr::RustValue { expr, .. } => expr.to_token_stream(),
        ColExpr::Hoisted { func, var } => match ctx {
            Ctx::Place => var.to_token_stream(),
            Ctx::Value => quote_spanned!(func.span()=> ::core::clone::Clone::clone(&#var)),
        },
        ColExpr::Unary { op, expr } => {
            let inner = emit(expr, Ctx::Value);
            quote!(#op #inner)
        }
        ColExpr::Binary { left, op, right } => {
            let ctx = if is_comparison(op) {
                Ctx::Place
            } else {
                Ctx::Value
            };
            let l = emit(left, ctx);
            let r = emit(right, ctx);
            quote!(#l #op #r)
        }
        ColExpr::Paren { paren, expr } => {
            let inner = emit(expr, ctx);
            let mut out = TokenStream::new();
            paren.surround(&mut out, |t| t.extend(inner));
            out
        }
        ColExpr::Cast { expr, as_token, ty } => {
            let inner = emit(expr, Ctx::Place);
            quote!(#inner #as_token #ty)
        }
        ColExpr::Ref { and_token, expr } => {
            let inner = emit(expr, Ctx::Place);
            quote!(#and_token #inner)
        }
        ColExpr::MethodCall {
            receiver,
            dot,
            method,
            turbofish,
            paren,
            args,
        } => {
            let recv = emit(receiver, Ctx::Place);
            let args: Vec<TokenStream> = args.iter().map(|a| emit(a, Ctx::Value)).collect();
            let mut out = quote!(#recv #dot #method #turbofish);
            paren.surround(&mut out, |t| t.extend(quote!(#(#args),*)));
            out
        }
        ColExpr::Call { func, paren, args } => {
            // `window(time, ..)` in a projection: the time is checked to be a `Timestamp` on
            // the user's token.
            let window = (func.path.segments.last()).is_some_and(|s| s.ident == "tumbling_window");
            let args: Vec<TokenStream> = (args.iter().enumerate())
                .map(|(i, a)| match emit(a, Ctx::Value) {
                    v if window && i == 0 => checked(Check::EventTime, a.span(), v),
                    v => v,
                })
                .collect();
            let mut out = func.to_token_stream();
            paren.surround(&mut out, |t| t.extend(quote!(#(#args),*)));
            out
        }
    }
}

/// A check the generated code makes on a value (see the runtime's `__stream_check!`), and
/// the trait the expansion declares for it.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub enum Check {
    /// `sum` / `avg`: a numeric column (`NumericColumn`).
    Numeric,
    /// An event-time column: a `Timestamp` (`EventTimeColumn`).
    EventTime,
    /// A session gap per row: `i64` milliseconds (`GapMillis`).
    Gap,
    /// A filter condition: a `bool` (`FilterCondition`).
    Condition,
    /// A row type read by `read_stream::<T>` / `read_static::<T>` derives `Record`
    /// (`DeriveRecord`).
    RowType,
    /// The row type `read_stream(source)` infers from its source derives `Record`
    /// (`ReadStream`).
    ReadStream,
    /// `from_json`'s column is a string or binary (`JsonValue`).
    JsonValue,
}

impl Check {
    /// The argument of `__stream_check!` declaring the check.
    pub fn kind(self) -> &'static str {
        match self {
            Check::Numeric => "numeric",
            Check::EventTime => "event_time",
            Check::Gap => "gap",
            Check::Condition => "condition",
            Check::RowType => "row_type",
            Check::ReadStream => "read_stream",
            Check::JsonValue => "json_value",
        }
    }

    /// The trait the check declares, and its method.
    fn names(self) -> (&'static str, &'static str) {
        match self {
            Check::Numeric => ("NumericColumn", "into_numeric"),
            Check::EventTime => ("EventTimeColumn", "into_timestamp"),
            Check::Gap => ("GapMillis", "into_millis"),
            Check::Condition => ("FilterCondition", "into_bool"),
            Check::RowType => ("DeriveRecord", ""),
            Check::ReadStream => ("ReadStream", "read_stream"),
            Check::JsonValue => ("JsonValue", "json_bytes"),
        }
    }
}

thread_local! {
    /// The checks the code generated so far makes (codegen runs once per expansion, on one
    /// thread).
    static CHECKS: std::cell::RefCell<std::collections::BTreeSet<Check>> = Default::default();
}

/// Records that the expansion makes `check`.
fn need(check: Check) {
    CHECKS.with(|c| c.borrow_mut().insert(check));
}

/// The checks made since the last call, and forgets them.
pub fn take_checks() -> Vec<Check> {
    CHECKS.with(|c| std::mem::take(&mut *c.borrow_mut()).into_iter().collect())
}

/// `v` checked by `check`: `<_ as Trait>::method(v)`, every token on `span` (the user's token),
/// so that a value of the wrong type is one error there (rustc reports the unsatisfied bound
/// and the failed projection at the same place, which is one message) and the value has
/// rustc's error type afterwards (nothing downstream is reported again).
pub fn checked(check: Check, span: Span, v: TokenStream) -> TokenStream {
    need(check);
    let (t, m) = check.names();
    let (t, m) = (Ident::new(t, span), Ident::new(m, span));
    quote_spanned!(span=> <_ as #t>::#m(#v))
}

/// A row type checked to derive `Record`: `<T as DeriveRecord>::Row`, on the type's span.
pub fn checked_row_type(t: &syn::Type) -> TokenStream {
    use syn::spanned::Spanned;
    need(Check::RowType);
    let span = t.span();
    let name = Ident::new(Check::RowType.names().0, span);
    quote_spanned!(span=> <#t as #name>::Row)
}

/// An event-time column's value, checked to be a `Timestamp` on the user's token.
pub fn event_time(e: &ColExpr) -> TokenStream {
    let v = value(e, false);
    checked(Check::EventTime, e.span(), v)
}

/// A column (or a field of one) as a place: `__r.price`, every token on the user's span.
pub fn place(e: &ColExpr) -> TokenStream {
    match e {
        ColExpr::Column(c) => {
            let r = row(c.span());
            quote_spanned!(c.span()=> #r.#c)
        }
        ColExpr::Field { base, dot, member } => {
            let b = place(base);
            quote!(#b #dot #member)
        }
        ColExpr::Table {
            optional: false,
            member: Some((dot, member)),
            ..
        } => {
            let table = table_place(e);
            quote!(#table #dot #member)
        }
        ColExpr::Table { member: None, .. } => table_place(e),
        other => emit(other, Ctx::Value),
    }
}

/// The column a plain column reference (`c`, or `c.field`) reads.
pub fn root_column(e: &ColExpr) -> Option<&Ident> {
    match e {
        ColExpr::Column(c) => Some(c),
        ColExpr::Field { base, .. } => root_column(base),
        _ => None,
    }
}

/// A joined table's row in the current row: `__r.__table`, or `__r.__stream.__table` for a table
/// joined before the last join, and so on.
pub fn table_place(e: &ColExpr) -> TokenStream {
    let ColExpr::Table { name, depth, .. } = e else {
        unreachable!("a table reference")
    };
    let r = row(name.span());
    let streams = (0..*depth).map(|_| quote_spanned!(name.span()=> .__stream));
    quote_spanned!(name.span()=> #r #(#streams)* .__table)
}
