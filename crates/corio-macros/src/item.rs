//! The function under the attribute: parsed just enough to rewrite it
//! (attributes, visibility, `async`, name, return type), with the body kept
//! as tokens, so syn's `full` feature is not needed and the body's spans are
//! the user's own.

use proc_macro2::{Delimiter, Group, Ident, TokenStream, TokenTree};
use syn::parse::ParseStream;
use syn::{Attribute, Token, Type, Visibility};

/// `#[attrs] vis async fn name() -> Output { body }`.
pub(crate) struct AsyncFn {
    pub(crate) attrs: Vec<Attribute>,
    pub(crate) vis: Visibility,
    /// The `fn` token's position: where errors about the signature point.
    pub(crate) fn_token: Token![fn],
    pub(crate) name: Ident,
    /// `None` for `()`.
    pub(crate) output: Option<Type>,
    /// The braces and everything in them.
    pub(crate) body: Group,
}

impl AsyncFn {
    /// Parses `item`; `macro_name` names the attribute in error messages.
    pub(crate) fn parse(item: TokenStream, macro_name: &str) -> syn::Result<AsyncFn> {
        let parser = |input: ParseStream<'_>| parse_fn(input, macro_name);
        syn::parse::Parser::parse2(parser, item)
    }
}

fn parse_fn(input: ParseStream<'_>, macro_name: &str) -> syn::Result<AsyncFn> {
    let attrs = input.call(Attribute::parse_outer)?;
    let vis: Visibility = input.parse()?;
    // Qualifiers before `fn`: only `async` is allowed, and it is required.
    let mut is_async = false;
    while !input.peek(Token![fn]) {
        if input.peek(Token![async]) {
            input.parse::<Token![async]>()?;
            is_async = true;
            continue;
        }
        // Named by their text: `const`, `extern`, and the keyword tidy keeps
        // to the raw modules.
        let next = input.cursor().token_tree().map(|(token, _)| token);
        return Err(match next {
            Some(TokenTree::Ident(ident))
                if ["const", "unsafe", "extern"].contains(&ident.to_string().as_str()) =>
            {
                syn::Error::new(
                    ident.span(),
                    format!("the #[corio::{macro_name}] function cannot be `{ident}`"),
                )
            }
            _ => input.error(format!(
                "#[corio::{macro_name}] goes on an `async fn` (expected `fn` here)"
            )),
        });
    }
    let fn_token: Token![fn] = input.parse()?;
    if !is_async {
        return Err(syn::Error::new(
            fn_token.span,
            format!("the #[corio::{macro_name}] function must be `async`: write `async fn`"),
        ));
    }
    let name: Ident = input.parse()?;
    if input.peek(Token![<]) {
        return Err(input.error(format!(
            "the #[corio::{macro_name}] function cannot be generic"
        )));
    }
    let params: Group = input.parse()?;
    if params.delimiter() != Delimiter::Parenthesis {
        return Err(syn::Error::new(params.span(), "expected `(`"));
    }
    if !params.stream().is_empty() {
        return Err(syn::Error::new(
            params.span(),
            format!("the #[corio::{macro_name}] function takes no arguments"),
        ));
    }
    let output = if input.peek(Token![->]) {
        input.parse::<Token![->]>()?;
        Some(input.parse::<Type>()?)
    } else {
        None
    };
    if input.peek(Token![where]) {
        return Err(input.error(format!(
            "the #[corio::{macro_name}] function cannot have a `where` clause"
        )));
    }
    let body = match input.parse::<TokenTree>()? {
        TokenTree::Group(group) if group.delimiter() == Delimiter::Brace => group,
        other => {
            return Err(syn::Error::new(
                other.span(),
                "expected the function body `{ ... }`",
            ))
        }
    };
    if !input.is_empty() {
        return Err(input.error("unexpected tokens after the function body"));
    }
    Ok(AsyncFn {
        attrs,
        vis,
        fn_token,
        name,
        output,
        body,
    })
}
