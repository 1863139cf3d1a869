//! `#[stream::main]`: an application's entry point. Parsed, checked and generated in turn, as
//! `stream!` is: `parse` reads the attribute and the function, `check` decides whether it can
//! be an entry point (each error on the user's token), `codegen` emits a `fn main` that builds
//! the session from the command line and reports how `main` ended.

mod check;
mod codegen;
mod parse;

use proc_macro2::TokenStream;

/// Expands `#[stream::main]` (`attr`: its arguments) on `item`.
pub fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    match parse::parse(attr, item).and_then(check::check) {
        Ok(checked) => codegen::generate(checked),
        Err(errors) => codegen::failed(errors),
    }
}
