//! Codegen: turns a checked [`Plan`] into calls of `stream_runtime`'s public builder API.
//!
//! Column expressions become closures over the row (`__r`). Every token generated for a column
//! expression carries the span of the user's token it comes from, so rustc's own errors (an
//! unknown field of a user struct, a non-numeric column under `sum`) point at what the user wrote.
//! Projections and keys become generated structs with one type parameter per column, so that
//! rustc infers the column types.
//!
//! - [`emit`]: the shared pieces: paths of the runtime, the row, column expressions.

mod emit;
#[cfg(test)]
mod tests;

use super::check::*;
pub use emit::*;
use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::ext::IdentExt;
use syn::Ident;

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

/// The declaration of a generated struct (a `WithColumn` wrapper gets its impls written out).
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

/// A lowered pipeline: its source, then its steps.
pub fn pipeline(p: &Lowered) -> TokenStream {
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
        out.extend(s.generate());
    }
    out
}
