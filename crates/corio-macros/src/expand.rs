//! The code the attributes generate: a plain `fn` with the same name,
//! attributes and return type that builds a `corio::Runner` from the options,
//! runs the async body on it (on the calling thread, so the body need not be
//! `Send`), closes it and returns the body's output.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

use crate::item::AsyncFn;
use crate::options::Options;

/// `#[corio::main]`: the function, made synchronous.
pub(crate) fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    expand(args, item, "main", |_| Ok(TokenStream::new()))
}

/// `#[corio::test]`: the function, made synchronous and marked `#[test]`.
pub(crate) fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    expand(args, item, "test", |function| {
        if let Some(attr) = function.attrs.iter().find(|a| a.path().is_ident("test")) {
            return Err(syn::Error::new_spanned(
                attr,
                "#[corio::test] already marks the function `#[test]`: remove this attribute",
            ));
        }
        // The full path: a `test` the user's module defines cannot capture it.
        Ok(quote!(#[::core::prelude::v1::test]))
    })
}

/// Parses and rewrites; on an error, emits it next to the best code it
/// has, so that the one error is all the compiler reports: the original
/// item (unused items allowed) if the function could not be parsed, else
/// the function rewritten with default options.
fn expand(
    args: TokenStream,
    item: TokenStream,
    macro_name: &str,
    extra_attr: impl FnOnce(&AsyncFn) -> syn::Result<TokenStream>,
) -> TokenStream {
    let function = match AsyncFn::parse(item.clone(), macro_name) {
        Ok(function) => function,
        Err(error) => {
            let error = error.into_compile_error();
            return quote!(#error #[allow(dead_code)] #item);
        }
    };
    let (attr, attr_error) = match extra_attr(&function) {
        Ok(attr) => (attr, None),
        Err(error) => (TokenStream::new(), Some(error)),
    };
    let (options, options_error) = match Options::parse(args, macro_name) {
        Ok(options) => (options, None),
        Err(error) => (Options::default(), Some(error)),
    };
    let errors = attr_error
        .into_iter()
        .chain(options_error)
        .map(syn::Error::into_compile_error);
    let function = rewrite(&function, &options, macro_name, attr);
    quote!(#(#errors)* #function)
}

fn rewrite(
    function: &AsyncFn,
    options: &Options,
    macro_name: &str,
    extra_attr: TokenStream,
) -> TokenStream {
    let AsyncFn {
        attrs,
        vis,
        fn_token,
        name,
        output,
        body,
    } = function;
    let (signature_output, output_type) = match output {
        Some(ty) => (quote!(-> #ty), quote!(#ty)),
        None => (TokenStream::new(), quote!(())),
    };
    let build_runner = options.build_runner(macro_name);
    // Boxed as `dyn Future<Output = T>`: the output type is fixed before
    // the body is type-checked, so `?` in the body converts into the
    // declared error type, and a wrong tail expression is reported in the
    // body, where it was written. Moved into `run` (not pinned on this
    // stack), so when Ctrl-C cancels it, its `Drop`s run inside the loop.
    // The runner closes when dropped, after `run` returns.
    let run = quote_spanned! {body.span()=>
        #[allow(clippy::type_complexity)]
        let body: ::core::pin::Pin<
            ::std::boxed::Box<dyn ::core::future::Future<Output = #output_type>>,
        > = ::std::boxed::Box::pin(async #body);
        let mut runner = #build_runner;
        runner.run(body)
    };
    quote! {
        #extra_attr
        #(#attrs)*
        #vis #fn_token #name() #signature_output {
            #run
        }
    }
}
