//! `#[derive(Record)]`: parse the struct, check its attributes, generate the impls.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields, Ident, Type};

/// The parsed struct.
struct RecordAst {
    ident: Ident,
    generics: syn::Generics,
    fields: Vec<(Ident, Type)>,
    event_time: Option<Ident>,
}

fn parse(input: DeriveInput) -> syn::Result<RecordAst> {
    let fields = match &input.data {
        Data::Struct(s) => match &s.fields {
            Fields::Named(named) => named,
            other => {
                return Err(syn::Error::new(
                    other.span(),
                    "#[derive(Record)] needs a struct with named fields, e.g. `struct Bid { price: u64 }`",
                ))
            }
        },
        _ => {
            return Err(syn::Error::new(
                input.ident.span(),
                "#[derive(Record)] works on structs only: a record is a row with named columns",
            ))
        }
    };
    let mut out = Vec::new();
    let mut event_time: Option<Ident> = None;
    for f in &fields.named {
        let ident = f.ident.clone().expect("named field");
        for attr in &f.attrs {
            if attr.path().is_ident("event_time") {
                check_event_time(attr, f, &event_time)?;
                event_time = Some(ident.clone());
            }
        }
        out.push((ident, f.ty.clone()));
    }
    Ok(RecordAst {
        ident: input.ident,
        generics: input.generics,
        fields: out,
        event_time,
    })
}

/// `#[event_time]` takes no arguments, appears once, and marks a `Timestamp` column.
fn check_event_time(
    attr: &syn::Attribute,
    field: &syn::Field,
    seen: &Option<Ident>,
) -> syn::Result<()> {
    if !matches!(attr.meta, syn::Meta::Path(_)) {
        return Err(syn::Error::new(
            attr.span(),
            "`#[event_time]` takes no arguments; write it alone above the event-time column",
        ));
    }
    if let Some(first) = seen {
        return Err(syn::Error::new(
            attr.span(),
            format!(
                "a record has at most one `#[event_time]` column, and `{first}` is already marked"
            ),
        ));
    }
    let is_timestamp = match &field.ty {
        Type::Path(p) => p
            .path
            .segments
            .last()
            .is_some_and(|s| s.ident == "Timestamp"),
        _ => false,
    };
    if !is_timestamp {
        return Err(syn::Error::new(
            field.ty.span(),
            "the `#[event_time]` column must have type `Timestamp` (epoch milliseconds); change its type to `Timestamp`",
        ));
    }
    Ok(())
}

pub fn expand(input: DeriveInput) -> syn::Result<TokenStream> {
    let ast = parse(input)?;
    Ok(codegen(&ast))
}

fn codegen(ast: &RecordAst) -> TokenStream {
    let p = quote!(::stream_runtime::__private);
    let name = &ast.ident;
    let name_str = name.to_string();
    let mut generics = ast.generics.clone();
    {
        let wc = generics.make_where_clause();
        for tp in ast.generics.type_params() {
            let id = &tp.ident;
            wc.predicates.push(syn::parse_quote!(#id: #p::Field));
        }
    }
    let (impl_g, ty_g, where_c) = generics.split_for_impl();
    let idents: Vec<&Ident> = ast.fields.iter().map(|(i, _)| i).collect();
    let types: Vec<&Type> = ast.fields.iter().map(|(_, t)| t).collect();
    let names: Vec<String> = idents.iter().map(|i| i.to_string()).collect();
    let n = idents.len();
    // Every column must be a Field: check it with the error on the column's type.
    let field_checks = types
        .iter()
        .map(|t| quote_spanned!(t.span()=> let _ = <#t as #p::Field>::data_type;));
    let event_time = match &ast.event_time {
        Some(et) => {
            let s = et.to_string();
            (
                quote!(::core::option::Option::Some(#s)),
                quote!(::core::option::Option::Some(self.#et)),
            )
        }
        None => (
            quote!(::core::option::Option::None),
            quote!(::core::option::Option::None),
        ),
    };
    let (et_name, et_value) = event_time;
    let shadow = format_ident!("__{}Shadow", name);
    let shadow_generics = &ast.generics;
    let cmp_chain = idents.iter().map(|i| {
        quote! {
            match #p::Field::cmp_field(&self.#i, &other.#i) {
                ::core::cmp::Ordering::Equal => {}
                ord => return ord,
            }
        }
    });
    let serde_crate = quote!(#p::serde).to_string();
    // serde names the shadow struct in "expected struct ..." errors: name the record instead.
    let expecting = format!("struct {name_str}");
    let mut de_generics = generics.clone();
    de_generics.params.insert(0, syn::parse_quote!('de));
    let (de_impl_g, _, _) = de_generics.split_for_impl();
    quote! {
        #[allow(non_local_definitions, clippy::all)]
        const _: () = {
            impl #impl_g ::core::clone::Clone for #name #ty_g #where_c {
                fn clone(&self) -> Self {
                    #name { #(#idents: ::core::clone::Clone::clone(&self.#idents),)* }
                }
            }
            impl #impl_g ::core::fmt::Debug for #name #ty_g #where_c {
                fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                    f.debug_struct(#name_str)#(.field(#names, &self.#idents))*.finish()
                }
            }
            impl #impl_g ::core::cmp::Ord for #name #ty_g #where_c {
                fn cmp(&self, other: &Self) -> ::core::cmp::Ordering {
                    #(#cmp_chain)*
                    ::core::cmp::Ordering::Equal
                }
            }
            impl #impl_g ::core::cmp::PartialOrd for #name #ty_g #where_c {
                fn partial_cmp(&self, other: &Self) -> ::core::option::Option<::core::cmp::Ordering> {
                    ::core::option::Option::Some(::core::cmp::Ord::cmp(self, other))
                }
            }
            impl #impl_g ::core::cmp::PartialEq for #name #ty_g #where_c {
                fn eq(&self, other: &Self) -> bool {
                    ::core::cmp::Ord::cmp(self, other) == ::core::cmp::Ordering::Equal
                }
            }
            impl #impl_g ::core::cmp::Eq for #name #ty_g #where_c {}
            impl #impl_g ::core::hash::Hash for #name #ty_g #where_c {
                fn hash<__H: ::core::hash::Hasher>(&self, state: &mut __H) {
                    #(#p::Field::hash_field(&self.#idents, state);)*
                }
            }
            impl #impl_g #p::serde::Serialize for #name #ty_g #where_c {
                fn serialize<__S: #p::serde::Serializer>(&self, s: __S) -> ::core::result::Result<__S::Ok, __S::Error> {
                    use #p::serde::ser::SerializeStruct;
                    let mut st = s.serialize_struct(#name_str, #n)?;
                    #(st.serialize_field(#names, &self.#idents)?;)*
                    st.end()
                }
            }
            #[derive(#p::serde::Deserialize)]
            #[serde(crate = #serde_crate)]
            #[serde(rename = #name_str, expecting = #expecting)]
            struct #shadow #shadow_generics { #(#idents: #types,)* }
            impl #de_impl_g #p::serde::Deserialize<'de> for #name #ty_g #where_c {
                fn deserialize<__D: #p::serde::Deserializer<'de>>(d: __D) -> ::core::result::Result<Self, __D::Error> {
                    let s = <#shadow #ty_g as #p::serde::Deserialize<'de>>::deserialize(d)?;
                    ::core::result::Result::Ok(#name { #(#idents: s.#idents,)* })
                }
            }
            // Not listed in rustc's "the following types implement `Record`" (generated rows
            // among them): a type that lacks the derive is told to add it.
            #[diagnostic::do_not_recommend]
            impl #impl_g #p::Record for #name #ty_g #where_c {
                fn schema() -> #p::Schema {
                    #(#field_checks)*
                    #p::Schema {
                        fields: ::std::vec![#(#p::FieldSchema { name: #names, data_type: <#types as #p::Field>::data_type() },)*],
                        event_time: #et_name,
                    }
                }
                fn values(&self) -> ::std::vec::Vec<#p::Value> {
                    ::std::vec![#(#p::Field::to_value(&self.#idents),)*]
                }
                fn event_time(&self) -> ::core::option::Option<#p::Timestamp> {
                    #et_value
                }
            }
            // A record is also a column of another record: a nested struct, as Spark's.
            #[diagnostic::do_not_recommend]
            impl #impl_g #p::Field for #name #ty_g #where_c {
                fn data_type() -> #p::DataType {
                    #p::DataType::Struct(<Self as #p::Record>::schema().fields)
                }
                fn to_value(&self) -> #p::Value {
                    #p::Value::Struct(::std::vec![#((#names, #p::Field::to_value(&self.#idents)),)*])
                }
                fn cmp_field(&self, other: &Self) -> ::core::cmp::Ordering {
                    ::core::cmp::Ord::cmp(self, other)
                }
                fn hash_field<__H: ::core::hash::Hasher>(&self, state: &mut __H) {
                    ::core::hash::Hash::hash(self, state)
                }
            }
            // `stream!` reads the type through `RowType` (one error for a type without the
            // derive, and none downstream).
            #[diagnostic::do_not_recommend]
            impl #impl_g #p::RowType for #name #ty_g #where_c {
                type Row = Self;
            }
        };
    }
}
