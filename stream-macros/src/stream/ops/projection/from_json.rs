//! `.select(from_json::<T>(col))` and `.select(from_json::<T>(col, mode))`: a string or binary
//! column parsed as JSON into rows of the record type `T` (Spark's `from_json(col, schema)`
//! followed by `.select("parsed.*")`); malformed values follow the mode (`Mode::Permissive` by
//! default, as the file source's).

use super::super::super::check::{Checker, Info, Rows, Site, Stage};
use super::super::super::codegen::{checked, checked_row_type, private, row, Check};
use super::super::{Operator, Step};
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Error, Expr, ExprMethodCall, GenericArgument, Ident, PathArguments, Result, Type};

/// `from_json::<T>(col[, mode])` as the sole item of a `select`.
pub struct FromJson {
    /// The `from_json` token.
    func: Ident,
    /// The record type parsed into.
    ty: Type,
    /// The column parsed.
    column: Ident,
    /// The malformed-value mode, as written.
    mode: Option<Expr>,
}

/// The `from_json` call inside `.select(..)`, if an argument is one: it must be the only one.
pub fn parse_in_select(mc: &ExprMethodCall) -> Result<Option<Box<dyn Operator>>> {
    let calls: Vec<&syn::ExprCall> = mc.args.iter().filter_map(from_json_call).collect();
    let Some(call) = calls.first() else {
        return Ok(None);
    };
    if mc.args.len() > 1 {
        return Err(Error::new(
            call.func.span(),
            "`from_json(..)` parses the column into whole rows of its record type: it must be \
             the only item of `.select(..)`, `.select(from_json::<Bid>(value))`; select other \
             columns after it",
        ));
    }
    parse(call).map(Some)
}

/// `from_json::<..>(..)` (maybe `.. as name`, which is refused by `parse`).
fn from_json_call(e: &Expr) -> Option<&syn::ExprCall> {
    match e {
        Expr::Call(c) => match &*c.func {
            Expr::Path(p)
                if p.path
                    .segments
                    .last()
                    .is_some_and(|s| s.ident == "from_json") =>
            {
                Some(c)
            }
            _ => None,
        },
        Expr::Cast(c) => from_json_call(&c.expr),
        _ => None,
    }
}

fn parse(call: &syn::ExprCall) -> Result<Box<dyn Operator>> {
    let Expr::Path(path) = &*call.func else {
        unreachable!("checked by from_json_call")
    };
    let seg = path.path.segments.last().expect("a segment");
    let func = seg.ident.clone();
    let ty = match &seg.arguments {
        PathArguments::AngleBracketed(a) if a.args.len() == 1 => match &a.args[0] {
            GenericArgument::Type(t) => t.clone(),
            other => return Err(Error::new(
                other.span(),
                "`from_json::<T>` takes the record type to parse into: `from_json::<Bid>(value)`",
            )),
        },
        _ => {
            return Err(Error::new(
                func.span(),
                "`from_json` needs the record type to parse into: `from_json::<Bid>(value)`",
            ))
        }
    };
    let usage = "`from_json::<Bid>(value)` or `from_json::<Bid>(value, Mode::FailFast)`";
    if call.args.is_empty() || call.args.len() > 2 {
        return Err(Error::new(
            func.span(),
            format!("`from_json` takes a column and optionally a mode: {usage}"),
        ));
    }
    let column = match &call.args[0] {
        Expr::Path(p) if p.path.get_ident().is_some() => {
            p.path.get_ident().cloned().expect("an ident")
        }
        other => {
            return Err(Error::new(
                other.span(),
                format!("`from_json` parses one column, named as it is: {usage}"),
            ))
        }
    };
    Ok(Box::new(FromJson {
        func,
        ty,
        column,
        mode: call.args.get(1).cloned(),
    }))
}

impl Operator for FromJson {
    fn check(&self, cx: &mut Checker, _at: Site, info: &mut Info) -> Option<Box<dyn Step>> {
        if let Stage::Rows(Rows::Known {
            columns, origin, ..
        }) = &info.stage
        {
            if !columns.contains(&self.column) {
                let listed = columns.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>();
                cx.error(
                    self.column.span(),
                    format!(
                        "unknown column `{}`; the rows after {origin} have the columns: {}",
                        self.column,
                        listed.join(", ")
                    ),
                );
                return None;
            }
        }
        // New rows of the record type: no column of the input (nor its watermark) remains.
        info.stage = Stage::Rows(Rows::Opaque);
        info.family = cx.new_family();
        info.watermarks.clear();
        info.windows.clear();
        info.unchecked.clear();
        info.tables.clear();
        Some(Box::new(FromJsonStep {
            func: self.func.clone(),
            ty: self.ty.clone(),
            column: self.column.clone(),
            mode: self.mode.clone(),
        }))
    }
}

/// `.from_json::<T>("col", value, origin, mode)`.
pub struct FromJsonStep {
    func: Ident,
    ty: Type,
    column: Ident,
    mode: Option<Expr>,
}

impl Step for FromJsonStep {
    fn generate(&self) -> TokenStream {
        let p = private();
        let ty = checked_row_type(&self.ty);
        let c = &self.column;
        let r = row(c.span());
        let name = c.to_string();
        let read = quote_spanned!(c.span()=> &#r.#c);
        let bytes = checked(Check::JsonValue, c.span(), read);
        let mode = match &self.mode {
            Some(m) => quote!(#m),
            None => quote!(#p::Mode::Permissive),
        };
        let m = Ident::new("from_json", self.func.span());
        quote! {
            .#m::<#ty>(
                #name,
                move |#r| #bytes,
                |#r| {
                    #[allow(unused_imports)]
                    use #p::{KnownOrigin as _, UnknownOrigin as _};
                    (&&#p::OriginOf(#r)).origin()
                },
                #mode,
            )
        }
    }
}
