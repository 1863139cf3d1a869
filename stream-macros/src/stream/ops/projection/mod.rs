//! Projections and filters: `.filter(..)` / `.r#where(..)` / `.where_(..)`, `.select(..)`
//! (and `.select(from_json::<T>(col))`), `.with_column(..)`, the typed `.map(..)` and
//! `.flat_map(..)`, and `.union(..)`.

pub mod filter;
pub mod from_json;
pub mod map;
pub mod select;
pub mod union;
pub mod with_column;

use super::super::ast::ColExpr;
use super::super::codegen::{place, private, root_column, row, value};
use super::Step;
use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::Ident;

/// The columns copied as they are: `(c, c)` for each (the read on the call site's span).
fn copy_columns(columns: &[Ident]) -> Vec<(Ident, ColExpr)> {
    columns
        .iter()
        .map(|c| {
            let mut copy = c.clone();
            copy.set_span(Span::call_site());
            (c.clone(), ColExpr::Column(copy))
        })
        .collect()
}

/// `.map(|__r| S { col: expr, ... })`: rows of a generated struct (`select`, `with_column` on
/// known columns, the other side of a `union`).
pub struct ProjectStep {
    /// The user's method token.
    pub method: Ident,
    /// The generated row struct.
    pub strukt: Ident,
    /// The output columns and their values.
    pub columns: Vec<(Ident, ColExpr)>,
}

impl Step for ProjectStep {
    fn generate(&self) -> TokenStream {
        let r = row(Span::call_site());
        let Self {
            method,
            strukt,
            columns,
        } = self;
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
}
