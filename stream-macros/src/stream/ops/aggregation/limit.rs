//! `.limit(n)`: the first `n` rows of the result (after `.order_by(..)`, the first in that
//! order). On a batch query any result; on a stream only in Complete mode (`stream_core`'s
//! rules), where each batch's result table is cut. Only the actions or `.write_stream(..)`
//! follow it.

use super::super::super::check::{Checker, Info, Site};
use super::super::super::parse::expect_args;
use super::super::{Operator, Step};
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Expr, ExprMethodCall, Ident, Result};

/// `.limit(n)`: `n` is a Rust expression (a `usize`), not a column.
pub struct Limit(pub Expr);

/// Parses `.limit(n)`.
pub fn parse(_: &str, mc: &ExprMethodCall) -> Result<Box<dyn Operator>> {
    expect_args(mc, 1, ".limit(10)")?;
    Ok(Box::new(Limit(mc.args[0].clone())))
}

impl Operator for Limit {
    fn allowed_after_sort(&self) -> bool {
        true
    }

    fn check(&self, _: &mut Checker, at: Site, info: &mut Info) -> Option<Box<dyn Step>> {
        info.shape.limited = true;
        info.sorted_at = Some(at.method.clone());
        Some(Box::new(LimitStep {
            method: at.method,
            n: self.0.clone(),
        }))
    }
}

/// `.limit(n)`.
pub struct LimitStep {
    /// The user's method token.
    pub method: Ident,
    /// The number of rows.
    pub n: Expr,
}

impl Step for LimitStep {
    fn generate(&self) -> TokenStream {
        let Self { method, n } = self;
        // The count is a `usize`, checked on the user's expression.
        let n = quote_spanned!(n.span()=> { let __n: usize = #n; __n });
        quote!(.#method(#n))
    }
}
