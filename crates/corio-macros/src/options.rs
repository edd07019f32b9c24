//! The attribute's options (`workers = 4`, `debug`, `manual_clock`,
//! `crate = "path"`): parsed into [`Options`], each mapped to one
//! `corio::Builder` call.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::meta::ParseNestedMeta;
use syn::parse::Parser;
use syn::{Lit, LitBool, LitStr};

/// `workers = N` or `workers = "auto"`.
enum Workers {
    Count(usize, Span),
    Auto(Span),
}

/// What the attribute asked for; `None`/`false` leaves the Builder's default.
#[derive(Default)]
pub(crate) struct Options {
    workers: Option<Workers>,
    debug: Option<(bool, Span)>,
    manual_clock: Option<(bool, Span)>,
    /// The path corio is reached by: `::corio` unless `crate = "..."`.
    krate: Option<TokenStream>,
}

impl Options {
    /// Parses the attribute's arguments; `macro_name` (`main` or `test`)
    /// names the attribute in error messages.
    pub(crate) fn parse(args: TokenStream, macro_name: &str) -> syn::Result<Options> {
        let mut options = Options::default();
        let parser = syn::meta::parser(|meta| options.parse_one(&meta, macro_name));
        parser.parse2(args)?;
        Ok(options)
    }

    fn parse_one(&mut self, meta: &ParseNestedMeta<'_>, macro_name: &str) -> syn::Result<()> {
        let name = match meta.path.get_ident() {
            Some(ident) => ident.to_string(),
            None => return Err(meta.error(unknown(&path_text(meta), macro_name))),
        };
        let span = meta.path.segments[0].ident.span();
        match name.as_str() {
            "workers" => {
                check_unset(self.workers.is_some(), meta)?;
                self.workers = Some(parse_workers(meta, span)?);
            }
            "debug" => {
                check_unset(self.debug.is_some(), meta)?;
                self.debug = Some((parse_flag(meta)?, span));
            }
            "manual_clock" => {
                check_unset(self.manual_clock.is_some(), meta)?;
                self.manual_clock = Some((parse_flag(meta)?, span));
            }
            "crate" => {
                check_unset(self.krate.is_some(), meta)?;
                let path: LitStr = meta.value()?.parse()?;
                let parsed: syn::Path = path.parse().map_err(|_| {
                    syn::Error::new(
                        path.span(),
                        format!(
                            "`crate` expects a path, such as \"::corio\"; got {:?}",
                            path.value()
                        ),
                    )
                })?;
                self.krate = Some(quote_spanned!(path.span()=> #parsed));
            }
            _ => return Err(meta.error(unknown(&name, macro_name))),
        }
        Ok(())
    }

    /// The path to the corio crate, as the generated code names it.
    pub(crate) fn krate(&self) -> TokenStream {
        match &self.krate {
            Some(path) => path.clone(),
            None => quote!(::corio),
        }
    }

    /// The expression building the runner: `corio::Runner::builder()`, one
    /// call per option, `.build()`, and a panic naming the attribute if the
    /// runtime cannot be built (too many workers, no file descriptors left).
    pub(crate) fn build_runner(&self, macro_name: &str) -> TokenStream {
        let krate = self.krate();
        let mut calls = TokenStream::new();
        match &self.workers {
            Some(Workers::Count(n, span)) => calls.extend(quote_spanned!(*span=> .workers(#n))),
            Some(Workers::Auto(span)) => calls.extend(quote_spanned!(*span=> .workers_auto())),
            None => {}
        }
        if let Some((on, span)) = self.debug {
            calls.extend(quote_spanned!(span=> .debug(#on)));
        }
        if let Some((true, span)) = self.manual_clock {
            calls.extend(quote_spanned!(span=> .manual_clock()));
        }
        let message = format!("#[corio::{macro_name}]: could not build the corio runtime: {{}}");
        quote! {
            match #krate::Runner::builder() #calls .build() {
                ::core::result::Result::Ok(runner) => runner,
                ::core::result::Result::Err(error) => ::core::panic!(#message, error),
            }
        }
    }
}

/// `workers = 4` or `workers = "auto"`.
fn parse_workers(meta: &ParseNestedMeta<'_>, span: Span) -> syn::Result<Workers> {
    let value = meta.value()?;
    match value.parse::<Lit>()? {
        Lit::Int(n) => {
            let count: usize = n.base10_parse()?;
            if count == 0 {
                return Err(syn::Error::new(
                    n.span(),
                    "`workers` must be at least 1 (1 is the single-threaded loop)",
                ));
            }
            Ok(Workers::Count(count, span))
        }
        Lit::Str(s) if s.value() == "auto" => Ok(Workers::Auto(span)),
        other => Err(syn::Error::new(
            other.span(),
            "`workers` expects a number of threads or \"auto\" (one per core)",
        )),
    }
}

/// `debug` alone, or `debug = true` / `debug = false`.
fn parse_flag(meta: &ParseNestedMeta<'_>) -> syn::Result<bool> {
    if meta.input.is_empty() || meta.input.peek(syn::Token![,]) {
        return Ok(true);
    }
    let value: LitBool = meta.value()?.parse()?;
    Ok(value.value)
}

fn check_unset(already_set: bool, meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
    if already_set {
        return Err(meta.error(format!("duplicate option `{}`", path_text(meta))));
    }
    Ok(())
}

fn path_text(meta: &ParseNestedMeta<'_>) -> String {
    let segments: Vec<String> = meta
        .path
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    segments.join("::")
}

fn unknown(name: &str, macro_name: &str) -> String {
    format!(
        "unknown option `{name}` for #[corio::{macro_name}]: expected `workers`, `debug`, \
         `manual_clock` or `crate`"
    )
}
