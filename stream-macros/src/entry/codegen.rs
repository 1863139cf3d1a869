//! Generating the entry point: the user's function, renamed and kept inside a `fn main` that
//! calls the runtime with it. The checks of types are rustc's, spanned on the user's tokens: a
//! session parameter of the wrong type, flags that no parser reads, or a return value that
//! cannot be reported are errors there. They are trait projections (`<T as AppFlags>::..`),
//! not bounds of runtime functions, so rustc's messages name no item of the library.

use super::check::Checked;
use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

pub fn generate(c: Checked) -> TokenStream {
    let Checked {
        mut function,
        session,
        flags,
        about,
    } = c;
    let attrs = std::mem::take(&mut function.attrs);
    let vis = function.vis.clone();
    let inner = format_ident!("__stream_main");
    function.sig.ident = inner.clone();
    function.vis = syn::Visibility::Inherited;
    let output_span = match &function.sig.output {
        syn::ReturnType::Default => function.sig.paren_token.span.join(),
        syn::ReturnType::Type(_, t) => t.span(),
    };
    let app = quote!(::stream_runtime::__private::app);
    // The session converted to the type the user declared, on that type: any other type is
    // reported there.
    let session_ty = &session.ty;
    let session_arg = quote_spanned!(session_ty.span()=> <#session_ty as #app::SessionParam>::from_session(__session));
    let error =
        |call: TokenStream| quote_spanned!(output_span=> <_ as #app::MainResult>::error(#call));
    let call = match &flags {
        None => {
            let result = error(quote!(#inner(#session_arg)));
            quote!(#app::run(#about, |__session| #result))
        }
        Some(flags) => {
            let ty = &flags.ty;
            let parse = quote_spanned!(ty.span()=> <#ty as #app::AppFlags>::parse_app_flags);
            let result = error(quote!(#inner(#session_arg, __flags)));
            quote!(#app::run_with_flags(#about, #parse, |__session, __flags| #result))
        }
    };
    quote! {
        #(#attrs)*
        #vis fn main() -> ::std::process::ExitCode {
            #function
            #call
        }
    }
}

/// What an entry point that failed the checks expands to: the errors, and an empty `fn main`,
/// so that rustc does not add that the program has no entry point.
pub fn failed(errors: syn::Error) -> TokenStream {
    let errors = errors.into_compile_error();
    quote! {
        #errors
        fn main() {}
    }
}
