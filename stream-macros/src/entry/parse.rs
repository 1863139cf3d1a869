//! Parsing `#[stream::main]`: its arguments (there are none) and the function it is on.

use proc_macro2::TokenStream;

/// What the attribute was given.
pub struct Parsed {
    /// The attribute's arguments, which must be empty.
    pub args: TokenStream,
    pub function: syn::ItemFn,
}

pub fn parse(args: TokenStream, item: TokenStream) -> syn::Result<Parsed> {
    let function = syn::parse2::<syn::ItemFn>(item).map_err(|e| {
        syn::Error::new(
            e.span(),
            "`#[stream::main]` goes on the program's `fn main(session: Session)`",
        )
    })?;
    Ok(Parsed { args, function })
}
