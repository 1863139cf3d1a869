//! `stream!`: a pipeline written in ordinary Rust syntax, checked at compile time, expanded into
//! calls of `stream_runtime`'s builder API.
//!
//! As serde_derive separates its AST, its checks and its code generation, the body is parsed
//! completely, then checked completely, then expanded:
//!
//! - [`ast`]: the language's syntax tree (keeping the user's tokens and spans);
//! - [`parse`]: syn parses the body as Rust; `parse` interprets it (bindings, pipelines,
//!   sources, column expressions) and hands each method call to its operator's parse function;
//! - [`check`]: follows the rows through the pipelines, reports unknown columns, misplaced calls,
//!   malformed durations and output-mode violations (with `stream_core`'s rules), and lowers the
//!   AST into a plan;
//! - [`codegen`]: emits the builder calls;
//! - [`ops`]: the operators, one module per family, each with its parse, check and codegen,
//!   and the registry of method names (the one place an operator is registered).

mod ast;
mod check;
mod codegen;
mod ops;
mod parse;
mod suggest;

use proc_macro2::TokenStream;

/// Expands the body of `stream!`; errors become `compile_error!`s.
pub fn expand(input: TokenStream) -> TokenStream {
    parse::parse_body(input)
        .and_then(|body| check::check(&body))
        .map(|plan| codegen::generate(&plan))
        .unwrap_or_else(|e| errors(&e))
}

/// All errors, in one block expression (the macro is used in expression position): its value is
/// the last `compile_error!`, whose type is rustc's error type, so nothing else is reported.
fn errors(e: &syn::Error) -> TokenStream {
    let each = e.clone().into_iter().map(|e| e.to_compile_error());
    quote::quote!({ #(#each);* })
}
