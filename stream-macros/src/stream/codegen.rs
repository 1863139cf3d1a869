//! Codegen: turns a checked [`Plan`] into calls of `stream_runtime`'s public builder API.
//!
//! Column expressions become closures over the row (`__r`). Every token generated for a column
//! expression carries the span of the user's token it comes from, so rustc's own errors (an
//! unknown field of a user struct, a non-numeric column under `sum`) point at what the user wrote.
//! Projections and keys become generated structs with one type parameter per column, so that
//! rustc infers the column types.

use super::ast::{AggFunc, ColExpr};
use super::check::*;
use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::ext::IdentExt;
use syn::{BinOp, Ident, Lit};

/// The support module of the runtime.
fn rt() -> TokenStream {
    quote!(::stream_runtime)
}

fn private() -> TokenStream {
    quote!(::stream_runtime::__private)
}

/// The lints generated items and statements must not trigger in user crates.
fn allows() -> TokenStream {
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

/// The whole expansion: `{ structs; lits; bindings; result }`.
///
/// Lints are allowed on the generated items only: the user's expressions (column expressions,
/// closures, sources, sinks) are linted as if written outside the macro.
pub fn generate(plan: &Plan) -> TokenStream {
    let structs = plan.structs.iter().map(gen_struct);
    let lits = plan
        .lits
        .iter()
        .map(|(var, expr)| quote! { let #var = #expr; });
    let bindings = plan.bindings.iter().map(|(name, p)| {
        let p = pipeline(p);
        quote! { let #name = #p; }
    });
    let result = pipeline(&plan.result);
    quote! {
        {
            #(#structs)*
            #(#lits)*
            #(#bindings)*
            #result
        }
    }
}

fn gen_struct(s: &GenStruct) -> TokenStream {
    let allow = allows();
    let p = private();
    let name = &s.name;
    match &s.kind {
        GenKind::Columns(cols) => {
            let cols: Vec<Ident> = cols
                .iter()
                .map(|c| {
                    let mut c = c.clone();
                    c.set_span(Span::call_site());
                    c
                })
                .collect();
            let params: Vec<Ident> = (0..cols.len()).map(|i| format_ident!("__C{}", i)).collect();
            quote! {
                #allow
                #[derive(#p::Record)]
                struct #name<#(#params),*> { #(#cols: #params),* }
            }
        }
        GenKind::WithColumn(col) => {
            let mut col = col.clone();
            col.set_span(Span::call_site());
            let col_str = col.unraw().to_string();
            let ser = quote!(#p::serde);
            quote! {
                #allow
                struct #name<__B, __V> { __base: __B, #col: __V }
                #allow
                const _: () = {
                    impl<__B: #p::Record, __V: #p::Field> ::core::clone::Clone for #name<__B, __V> {
                        fn clone(&self) -> Self {
                            #name {
                                __base: ::core::clone::Clone::clone(&self.__base),
                                #col: ::core::clone::Clone::clone(&self.#col),
                            }
                        }
                    }
                    impl<__B: #p::Record, __V: #p::Field> ::core::fmt::Debug for #name<__B, __V> {
                        fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                            f.debug_struct("WithColumn")
                                .field("base", &self.__base)
                                .field(#col_str, &self.#col)
                                .finish()
                        }
                    }
                    impl<__B: #p::Record, __V: #p::Field> ::core::cmp::Ord for #name<__B, __V> {
                        fn cmp(&self, other: &Self) -> ::core::cmp::Ordering {
                            match ::core::cmp::Ord::cmp(&self.__base, &other.__base) {
                                ::core::cmp::Ordering::Equal => #p::Field::cmp_field(&self.#col, &other.#col),
                                ord => ord,
                            }
                        }
                    }
                    impl<__B: #p::Record, __V: #p::Field> ::core::cmp::PartialOrd for #name<__B, __V> {
                        fn partial_cmp(&self, other: &Self) -> ::core::option::Option<::core::cmp::Ordering> {
                            ::core::option::Option::Some(::core::cmp::Ord::cmp(self, other))
                        }
                    }
                    impl<__B: #p::Record, __V: #p::Field> ::core::cmp::PartialEq for #name<__B, __V> {
                        fn eq(&self, other: &Self) -> bool {
                            ::core::cmp::Ord::cmp(self, other) == ::core::cmp::Ordering::Equal
                        }
                    }
                    impl<__B: #p::Record, __V: #p::Field> ::core::cmp::Eq for #name<__B, __V> {}
                    impl<__B: #p::Record, __V: #p::Field> ::core::hash::Hash for #name<__B, __V> {
                        fn hash<__H: ::core::hash::Hasher>(&self, state: &mut __H) {
                            ::core::hash::Hash::hash(&self.__base, state);
                            #p::Field::hash_field(&self.#col, state);
                        }
                    }
                    impl<__B: #p::Record, __V: #p::Field> #ser::Serialize for #name<__B, __V> {
                        fn serialize<__S: #ser::Serializer>(&self, s: __S) -> ::core::result::Result<__S::Ok, __S::Error> {
                            #ser::Serialize::serialize(&(&self.__base, &self.#col), s)
                        }
                    }
                    impl<'de, __B: #p::Record, __V: #p::Field> #ser::Deserialize<'de> for #name<__B, __V> {
                        fn deserialize<__D: #ser::Deserializer<'de>>(d: __D) -> ::core::result::Result<Self, __D::Error> {
                            let (b, v) = <(__B, __V) as #ser::Deserialize<'de>>::deserialize(d)?;
                            ::core::result::Result::Ok(#name { __base: b, #col: v })
                        }
                    }
                    impl<__B: #p::Record, __V: #p::Field> #p::Record for #name<__B, __V> {
                        fn schema() -> #p::Schema {
                            #p::with_column_schema::<__B, __V>(#col_str)
                        }
                        fn values(&self) -> ::std::vec::Vec<#p::Value> {
                            #p::with_column_values(&self.__base, #col_str, &self.#col)
                        }
                        fn event_time(&self) -> ::core::option::Option<#p::Timestamp> {
                            #p::Record::event_time(&self.__base)
                        }
                    }
                    impl<__B, __V> ::core::ops::Deref for #name<__B, __V> {
                        type Target = __B;
                        fn deref(&self) -> &__B {
                            &self.__base
                        }
                    }
                    impl<__B, __V> ::core::ops::DerefMut for #name<__B, __V> {
                        fn deref_mut(&mut self) -> &mut __B {
                            &mut self.__base
                        }
                    }
                };
            }
        }
    }
}

fn pipeline(p: &Lowered) -> TokenStream {
    let rt = rt();
    let mut out = match &p.source {
        LSource::ReadStream {
            func,
            row_type,
            arg,
        }
        | LSource::ReadStatic {
            func,
            row_type,
            arg,
        } => match row_type {
            Some(t) => quote!(#rt::#func::<#t>(#arg)),
            None => quote!(#rt::#func(#arg)),
        },
        LSource::Name { ident, clone } => {
            if *clone {
                quote_spanned!(ident.span()=> ::core::clone::Clone::clone(&#ident))
            } else {
                ident.to_token_stream()
            }
        }
    };
    for s in &p.steps {
        out.extend(step(s));
    }
    out
}

/// A closure parameter or a row reference: `__r`, resolved at the call site so that the tokens
/// spanned at the user's columns find it.
fn row(span: Span) -> Ident {
    Ident::new("__r", span)
}

fn step(s: &Step) -> TokenStream {
    let rt = rt();
    let r = row(Span::call_site());
    match s {
        Step::Filter { method, pred } => {
            let m = Ident::new("filter", method.span());
            let pred = value(pred, false);
            quote!(.#m(move |#r| #pred))
        }
        Step::FilterFn { method, func } => {
            let m = Ident::new("filter", method.span());
            quote!(.#m(#func))
        }
        Step::Map { method, func } | Step::FlatMap { method, func } => quote!(.#method(#func)),
        Step::Project {
            method,
            strukt,
            columns,
        } => {
            let m = Ident::new("map", method.span());
            // The closure owns its row: a column read once, as an output column of its own, is
            // moved out of it rather than cloned (a `String` column costs no allocation).
            let mut reads = std::collections::HashMap::<Ident, usize>::new();
            for (_, e) in columns {
                e.for_each_column(&mut |c| *reads.entry(c.clone()).or_default() += 1);
            }
            let moved = |e: &ColExpr| root_column(e).is_some_and(|c| reads[c] == 1);
            let p = private();
            let fields = columns.iter().map(|(n, e)| {
                let v = if moved(e) {
                    let place = place(e);
                    quote_spanned!(e.span()=> (&#p::column(&mut #place)).take_or_clone())
                } else {
                    value(e, true)
                };
                quote!(#n: #v)
            });
            if columns.iter().any(|(_, e)| moved(e)) {
                quote!(.#m(move |mut #r| {
                    #[allow(unused_imports)]
                    use #p::{CloneColumn as _, TakeColumn as _};
                    #strukt { #(#fields),* }
                }))
            } else {
                quote!(.#m(move |#r| #strukt { #(#fields),* }))
            }
        }
        Step::Extend {
            method,
            strukt,
            column,
            value: v,
        } => {
            let m = Ident::new("map", method.span());
            let v = value(v, true);
            let tmp = Ident::new("__v", Span::mixed_site());
            quote!(.#m(move |#r| { let #tmp = #v; #strukt { __base: #r, #column: #tmp } }))
        }
        Step::Union { method, other } => {
            let other = pipeline(other);
            quote!(.#method(#other))
        }
        Step::WithWatermark {
            method,
            time,
            delay,
        } => {
            let t = event_time(time);
            quote!(.#method(move |#r| #t, #delay))
        }
        Step::GroupBy {
            method,
            strukt,
            columns,
            window,
            session,
        } => {
            let fields = columns.iter().map(|(n, e)| {
                let v = value(e, true);
                quote!(#n: #v)
            });
            let key = quote!(move |#r| #strukt { #(#fields),* });
            if let Some(s) = session {
                let t = event_time(&s.time);
                return match &s.gap {
                    LGap::Fixed(ms, span) => {
                        let m = Ident::new("group_by_session", method.span());
                        let ms = proc_macro2::Literal::i64_suffixed(*ms);
                        let gap = quote_spanned!(*span=> ::stream_runtime::__private::fixed_session_gap(#ms));
                        quote!(.#m(#gap, move |#r| #t, #key))
                    }
                    LGap::PerRow(e) => {
                        // A method of the support module, so that the gap's row type is known.
                        let m = Ident::new("__group_by_session_per_row", method.span());
                        let v = value(e, false);
                        let check =
                            quote_spanned!(e.span()=> ::stream_runtime::__private::gap_millis);
                        quote!(.#m(move |#r| #check(#v), move |#r| #t, #key))
                    }
                };
            }
            match window {
                None => {
                    let m = Ident::new("group_by", method.span());
                    quote!(.#m(#key))
                }
                Some(w) => {
                    let m = Ident::new("group_by_window", method.span());
                    let (size, slide, offset) = (
                        proc_macro2::Literal::i64_suffixed(w.size),
                        proc_macro2::Literal::i64_suffixed(w.slide),
                        proc_macro2::Literal::i64_suffixed(w.offset),
                    );
                    let spec = quote_spanned!(w.span=> ::stream_runtime::WindowSpec { size: #size, slide: #slide, offset: #offset });
                    let t = event_time(&w.time);
                    quote!(.#m(#spec, move |#r| #t, #key))
                }
            }
        }
        Step::GroupByFn {
            method,
            func,
            by_key,
        } => {
            let m = Ident::new(
                if *by_key { "group_by_key" } else { "group_by" },
                method.span(),
            );
            quote!(.#m(#func))
        }
        Step::Agg {
            method,
            aggs,
            names,
            key,
            strukt,
        } => {
            let m = Ident::new("agg", method.span());
            let a = Ident::new("__a", Span::mixed_site());
            let k = Ident::new("__k", Span::mixed_site());
            let calls = aggs.iter().map(|agg| {
                let f = Ident::new(agg.func.name(), agg.func_token.span());
                match (&agg.arg, agg.func) {
                    (None, _) => quote!(#a.#f()),
                    (Some(e), AggFunc::Sum | AggFunc::Avg) => {
                        let v = value(e, false);
                        let check = quote_spanned!(e.span()=> ::stream_runtime::__private::numeric);
                        let r = row(e.span());
                        quote_spanned!(e.span()=> #a.#f(move |#r| #check(#v)))
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
        Step::CountKey { method } => quote!(.#method()),
        Step::OrderBy { method, keys } => {
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
        Step::JoinStatic {
            method,
            table,
            stream_key,
            table_key,
            how,
            how_span,
            out,
        } => {
            let m = Ident::new("join_static", method.span());
            let table = pipeline(table);
            let (sk, tk) = (join_key(stream_key), join_key(table_key));
            let how = join_type(*how, *how_span);
            let combine = match out {
                JoinOut::Inner => quote!(::stream_runtime::__private::join_inner),
                JoinOut::Outer => quote!(::stream_runtime::__private::join_outer),
                JoinOut::Stream => quote!(::stream_runtime::__private::join_semi),
            };
            quote!(.#m(#table, move |#r| #sk, move |#r| #tk, #how, #combine))
        }
        Step::JoinStream {
            method,
            stream,
            stream_key,
            table_key,
            how,
            how_span,
            out,
        } => {
            let m = Ident::new("join_stream", method.span());
            let stream = pipeline(stream);
            let (sk, tk) = (join_key(stream_key), join_key(table_key));
            let how = join_type(*how, *how_span);
            let combine = match out {
                JoinOut::Outer => quote!(::stream_runtime::__private::static_join_outer),
                _ => quote!(::stream_runtime::__private::static_join_inner),
            };
            quote!(.#m(#stream, move |#r| #tk, move |#r| #sk, #how, #combine))
        }
        Step::WriteStream { method, sink } => quote!(.#method(#sink)),
        Step::OutputMode { method, mode, span } => {
            let m = Ident::new(mode.name(), *span);
            quote!(.#method(#rt::OutputMode::#m))
        }
        Step::Trigger { method, trigger } => {
            let t = match trigger {
                LTrigger::ProcessingTime(ms, span) => {
                    let ms = proc_macro2::Literal::i64_suffixed(*ms);
                    quote_spanned!(*span=> #rt::Trigger::ProcessingTime(#ms))
                }
                LTrigger::AvailableNow(span) => quote_spanned!(*span=> #rt::Trigger::AvailableNow),
                LTrigger::Once(span) => quote_spanned!(*span=> #rt::Trigger::Once),
                LTrigger::Default(span) => quote_spanned!(*span=> #rt::Trigger::Default),
            };
            quote!(.#method(#t))
        }
        Step::QueryName { method, name } => quote!(.#method(#name)),
        Step::Start { method } => quote!(.#method()),
    }
}

/// The key of one side of a join: one value, or a tuple of several.
fn join_key(keys: &[ColExpr]) -> TokenStream {
    let values: Vec<TokenStream> = keys.iter().map(|e| value(e, true)).collect();
    match values.as_slice() {
        [one] => one.clone(),
        many => quote!((#(#many,)*)),
    }
}

fn join_type(how: stream_core::rules::JoinType, span: Span) -> TokenStream {
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

/// Where an expression's value is used.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ctx {
    /// An owned value (a column is cloned out of the row).
    Value,
    /// A value that may stay a place: an operand of a comparison, the receiver of a method, the
    /// operand of a cast or of `&` (a column is read in place, without cloning).
    Place,
}

/// The expression as an owned value; `top` = the value of an output column (a string literal
/// becomes a `String`).
fn value(e: &ColExpr, top: bool) -> TokenStream {
    if top {
        if let ColExpr::Lit(Lit::Str(s)) = e {
            return quote_spanned!(s.span()=> ::std::string::String::from(#s));
        }
    }
    emit(e, Ctx::Value)
}

fn is_comparison(op: &BinOp) -> bool {
    matches!(
        op,
        BinOp::Eq(_) | BinOp::Ne(_) | BinOp::Lt(_) | BinOp::Le(_) | BinOp::Gt(_) | BinOp::Ge(_)
    )
}

fn emit(e: &ColExpr, ctx: Ctx) -> TokenStream {
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
            let args: Vec<TokenStream> = args.iter().map(|a| emit(a, Ctx::Value)).collect();
            let mut out = func.to_token_stream();
            paren.surround(&mut out, |t| t.extend(quote!(#(#args),*)));
            out
        }
    }
}

/// An event-time column's value, checked to be a `Timestamp` on the user's token.
fn event_time(e: &ColExpr) -> TokenStream {
    let v = value(e, false);
    quote_spanned!(e.span()=> ::stream_runtime::__private::event_time(#v))
}

/// A column (or a field of one) as a place: `__r.price`, every token on the user's span.
fn place(e: &ColExpr) -> TokenStream {
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
fn root_column(e: &ColExpr) -> Option<&Ident> {
    match e {
        ColExpr::Column(c) => Some(c),
        ColExpr::Field { base, .. } => root_column(base),
        _ => None,
    }
}

/// A joined table's row in the current row: `__r.__table`, or `__r.__stream.__table` for a table
/// joined before the last join, and so on.
fn table_place(e: &ColExpr) -> TokenStream {
    let ColExpr::Table { name, depth, .. } = e else {
        unreachable!("a table reference")
    };
    let r = row(name.span());
    let streams = (0..*depth).map(|_| quote_spanned!(name.span()=> .__stream));
    quote_spanned!(name.span()=> #r #(#streams)* .__table)
}

#[cfg(test)]
mod tests {
    use super::super::{check::check, parse::parse_body};
    use super::*;

    fn expand(t: TokenStream) -> String {
        let body = parse_body(t).unwrap();
        let plan = check(&body).unwrap_or_else(|e| panic!("{e}"));
        generate(&plan).to_string()
    }

    fn squash(s: &str) -> String {
        s.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    #[test]
    fn filter_reads_columns_in_place() {
        let out = expand(quote!(
            read_stream::<Bid>(src).filter(price > 1_000 && auction != 3)
        ));
        assert!(out.contains(&squash(
            ":: stream_runtime :: read_stream :: < Bid > (src) . filter (move | __r | __r . price > 1_000 && __r . auction != 3)"
        )), "{out}");
    }

    #[test]
    fn select_generates_a_row_struct() {
        let out = expand(quote!(
            read_stream::<Bid>(src).select(auction, price * 2 as double_price)
        ));
        assert!(
            out.contains("struct __Row1 < __C0 , __C1 > { auction : __C0 , double_price : __C1 }"),
            "{out}"
        );
        // `auction` is an output column read once: moved out; `price` is cloned into an expression.
        assert!(out.contains(". map (move | mut __r | {"), "{out}");
        assert!(out.contains("__Row1 { auction : (& :: stream_runtime :: __private :: column (& mut __r . auction)) . take_or_clone () , double_price : :: core :: clone :: Clone :: clone (& __r . price) * 2 }"), "{out}");
    }

    #[test]
    fn select_clones_a_column_it_reads_twice() {
        let out = expand(quote!(
            read_stream::<Bid>(src).select(auction, auction as again)
        ));
        assert!(out.contains(". map (move | __r | __Row1 { auction : :: core :: clone :: Clone :: clone (& __r . auction) , again : :: core :: clone :: Clone :: clone (& __r . auction) })"), "{out}");
    }

    #[test]
    fn lit_is_hoisted() {
        let out = expand(quote!(read_stream::<Bid>(src).filter(price > lit(limit))));
        assert!(out.contains("let __lit0 = limit ;"), "{out}");
        assert!(out.contains("__r . price > __lit0"), "{out}");
    }

    #[test]
    fn agg_generates_builder_and_finisher() {
        let out = expand(quote! {
            read_stream::<Bid>(src)
                .group_by(auction)
                .agg(count() as n, sum(price) as total)
                .write_stream(Console::new())
                .output_mode(Update)
                .trigger(ProcessingTime("1 second"))
        });
        assert!(
            out.contains("struct __Key1 < __C0 > { auction : __C0 }"),
            "{out}"
        );
        assert!(
            out.contains(
                "struct __Row2 < __C0 , __C1 , __C2 > { auction : __C0 , n : __C1 , total : __C2 }"
            ),
            "{out}"
        );
        assert!(out.contains(". group_by (move | __r | __Key1 { auction : :: core :: clone :: Clone :: clone (& __r . auction) })"), "{out}");
        assert!(out.contains("__a . count () , __a . sum (move | __r | :: stream_runtime :: __private :: numeric (:: core :: clone :: Clone :: clone (& __r . price)))"), "{out}");
        assert!(out.contains("move | __k , (__v0 , __v1 ,) | __Row2 { auction : __k . auction , n : __v0 , total : __v1 }"), "{out}");
        assert!(
            out.contains(". output_mode (:: stream_runtime :: OutputMode :: Update)"),
            "{out}"
        );
        assert!(
            out.contains(". trigger (:: stream_runtime :: Trigger :: ProcessingTime (1000i64))"),
            "{out}"
        );
    }

    #[test]
    fn reused_bindings_are_cloned() {
        let out = expand(quote! {
            let a = read_stream::<Bid>(src);
            a.union(a)
        });
        assert!(
            out.contains("let a = :: stream_runtime :: read_stream :: < Bid > (src) ;"),
            "{out}"
        );
        assert!(
            out.contains(":: core :: clone :: Clone :: clone (& a) . union (a)"),
            "{out}"
        );
    }

    fn check_err(t: TokenStream) -> String {
        let body = parse_body(t).unwrap();
        match check(&body) {
            Ok(_) => panic!("expected an error"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn check_errors() {
        let e = check_err(quote!(read_stream::<Bid>(s)
            .select(price)
            .filter(pricee > 1)));
        assert!(
            e.starts_with("unknown column `pricee` (did you mean `price`?)"),
            "{e}"
        );
        let e = check_err(quote!(read_stream::<Bid>(s)
            .write_stream(c)
            .output_mode(Complete)));
        assert!(e.contains("Complete output mode is not supported"), "{e}");
        let e = check_err(quote!(read_stream::<Bid>(s)
            .group_by(a)
            .count()
            .write_stream(c)));
        assert!(
            e.contains("no `.output_mode(..)` is given, so this query writes in Append mode"),
            "{e}"
        );
        let e = check_err(quote!(read_stream::<Bid>(s)
            .write_stream(c)
            .trigger(ProcessingTime("1 secnd"))));
        assert!(e.contains("invalid duration `1 secnd`"), "{e}");
        let e = check_err(quote!(read_stream::<Bid>(s).output_mode(Update)));
        assert!(e.contains("call `.write_stream(sink)` first"), "{e}");
        let e = check_err(quote!(read_stream::<Bid>(s).group_by(a).filter(a > 1)));
        assert!(e.contains("comes `.agg(..)` or `.count()`"), "{e}");
        let e = check_err(quote! {
            let a = read_stream::<Bid>(s).select(x, y);
            read_stream::<Bid>(s).select(y, x).union(a)
        });
        assert!(
            e.contains("`.union` needs the same columns in the same order"),
            "{e}"
        );
        let e = check_err(quote!(read_stream::<Bid>(s).write_stream(c).filter(a > 1)));
        assert!(e.contains("not available after `.write_stream(..)`"), "{e}");
        let e = check_err(quote!(read_stream::<Bid>(s)
            .write_stream(c)
            .start()
            .trigger(Once)));
        assert!(e.contains("comes after `.start()`"), "{e}");
        let e = check_err(quote!(read_stream::<Bid>(s).select(a, a)));
        assert!(e.contains("appears twice"), "{e}");
        // A watermark on another column than the window's does not close the groups.
        let e = check_err(quote! {
            read_stream::<Bid>(s)
                .with_watermark(t1, "1 minute")
                .group_by(window(t2, "1 minute"))
                .count()
                .write_stream(c)
        });
        assert!(e.contains("without a watermark"), "{e}");
    }

    #[test]
    fn joins_sessions_and_sorting() {
        let out = expand(quote! {
            let people = read_static::<Person>(Files::json("people"));
            read_stream::<Bid>(s)
                .with_watermark(t, "1 second")
                .join(people, bidder == id, "left_outer")
                .group_by(session_window(t, "5 seconds"), people.state)
                .count()
                .order_by(count.desc())
                .write_stream(c)
                .output_mode(Complete)
        });
        assert!(out.contains("let people = :: stream_runtime :: read_static :: < Person > (Files :: json (\"people\")) ;"), "{out}");
        assert!(out.contains(". join_static (people , move | __r | :: core :: clone :: Clone :: clone (& __r . bidder) , move | __r | :: core :: clone :: Clone :: clone (& __r . id) , :: stream_runtime :: JoinType :: LeftOuter , :: stream_runtime :: __private :: join_outer)"), "{out}");
        assert!(out.contains(". group_by_session (:: stream_runtime :: __private :: fixed_session_gap (5000i64) , move | __r | :: stream_runtime :: __private :: event_time (:: core :: clone :: Clone :: clone (& __r . t)) , move | __r | __Key1 { state : __r . __table . as_ref () . map (| __t | :: core :: clone :: Clone :: clone (& __t . state)) })"), "{out}");
        assert!(out.contains(". order_by (move | __r | :: stream_runtime :: __private :: sort_key_desc (:: core :: clone :: Clone :: clone (& __r . count)))"), "{out}");
        // The static table on the left; a second join reaches the first table through the row.
        let out = expand(quote! {
            let people = read_static::<Person>(p);
            let cities = read_static::<City>(c);
            people
                .join(read_stream::<Bid>(s), id == bidder && day == day)
                .join(cities, people.city == name)
                .select(price, people.name as buyer, cities.country as country)
        });
        assert!(out.contains("people . join_stream (:: stream_runtime :: read_stream :: < Bid > (s) , move | __r | (:: core :: clone :: Clone :: clone (& __r . id) , :: core :: clone :: Clone :: clone (& __r . day) ,) , move | __r | (:: core :: clone :: Clone :: clone (& __r . bidder) , :: core :: clone :: Clone :: clone (& __r . day) ,) , :: stream_runtime :: JoinType :: Inner , :: stream_runtime :: __private :: static_join_inner)"), "{out}");
        assert!(out.contains(". join_static (cities , move | __r | :: core :: clone :: Clone :: clone (& __r . __table . city) , move | __r | :: core :: clone :: Clone :: clone (& __r . name)"), "{out}");
        assert!(out.contains("buyer : :: core :: clone :: Clone :: clone (& __r . __stream . __table . name) , country : :: core :: clone :: Clone :: clone (& __r . __table . country)"), "{out}");
    }

    #[test]
    fn join_and_sort_errors() {
        let e = check_err(quote! {
            let other = read_stream::<Bid>(s2);
            read_stream::<Bid>(s).join(other, a == b)
        });
        assert!(e.contains("stream-stream joins are not supported"), "{e}");
        let e = check_err(quote! {
            let p = read_static::<P>(x);
            read_stream::<Bid>(s).join(p, a == b, "full")
        });
        assert!(
            e.starts_with("full_outer join with a streaming Dataset on the left"),
            "{e}"
        );
        let e = check_err(quote!(
            read_stream::<Bid>(s).join(read_static::<P>(x), a == b)
        ));
        assert!(e.starts_with("bind the static table to a name"), "{e}");
        let e = check_err(quote!(read_stream::<Bid>(s).select(a).order_by(a)));
        assert!(
            e.contains("sorts the result table of an aggregation"),
            "{e}"
        );
        let e = check_err(quote! {
            let p = read_static::<P>(x);
            read_stream::<Bid>(s).select(a).join(p, a == id).filter(zz > p.c)
        });
        assert!(
            e.starts_with("unknown column `zz`; the rows after `.join(..)` have the columns: a, and the static table's columns are written `p.column`"),
            "{e}"
        );
        let e = check_err(quote! {
            read_stream::<Bid>(s)
                .group_by(session_window(t, "-1 second"))
                .count()
        });
        assert!(e.contains("a session gap must be positive"), "{e}");
    }

    #[test]
    fn watermarks_follow_projections_into_windows() {
        let out = expand(quote! {
            read_stream::<Bid>(s)
                .with_watermark(date_time, "10 seconds")
                .select(auction, date_time as t)
                .group_by(window(t, "10 seconds", "5 seconds"), auction)
                .agg(count() as n)
                .write_stream(c)
                .output_mode(Append)
        });
        assert!(out.contains(". with_watermark (move | __r | :: stream_runtime :: __private :: event_time (:: core :: clone :: Clone :: clone (& __r . date_time)) , \"10 seconds\")"), "{out}");
        assert!(out.contains(". group_by_window (:: stream_runtime :: WindowSpec { size : 10000i64 , slide : 5000i64 , offset : 0i64 } , move | __r | :: stream_runtime :: __private :: event_time (:: core :: clone :: Clone :: clone (& __r . t)) , move | __r | __Key2 { auction : :: core :: clone :: Clone :: clone (& __r . auction) })"), "{out}");
        assert!(out.contains("move | __w , __k , (__v0 ,) | __Row3 { window : __w , auction : __k . auction , n : __v0 }"), "{out}");
    }
}
