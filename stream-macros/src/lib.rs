//! Procedural macros of Structured Streaming for Rust: `#[derive(Record)]` and `stream!`.
//!
//! Each macro is split as serde_derive is: parsing into a small AST, checking it (with errors on
//! the user's tokens), and generating code that calls only the public API of `stream_runtime`.

extern crate proc_macro;

mod record;

use proc_macro::TokenStream;

/// Derives `Record` for a struct with named fields: schema, values, serde, `Clone`, `Debug`,
/// a total order and a hash. Mark the event-time column (of type `Timestamp`) with
/// `#[event_time]`.
#[proc_macro_derive(Record, attributes(event_time))]
pub fn derive_record(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    record::expand(input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
