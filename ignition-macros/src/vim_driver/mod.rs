//! `#[vim_driver]`: parse → validate → expand.

mod checks;
mod expand;
mod operations;
mod parse;
mod validate;

#[cfg(test)]
mod tests;

use proc_macro2::{Group, TokenStream, TokenTree};
use quote::quote;

use crate::errors::Errors;

/// The whole macro: the author's item, unchanged, followed by the `Driver` impl, or by
/// one `compile_error!` per mistake and a placeholder `Driver` impl (so that the mistakes
/// are the only errors).
pub(crate) fn vim_driver(args: TokenStream, input: TokenStream) -> TokenStream {
    let cx = Errors::new();
    validate::validate_args(&cx, &args);
    let mut driver_impl = None;
    // Input that is not an item at all is re-emitted as is: the compiler reports the
    // syntax error on it better than syn would. A syntax error inside a method body is
    // reported the same way, and the signatures alone still give the `Driver` impl (so
    // the error is not followed by "`Driver` is not implemented" wherever it is used).
    let (parsed, bodies_broken) = match syn::parse2::<syn::Item>(input.clone()) {
        Ok(item) => (Ok(item), false),
        Err(_) => (syn::parse2::<syn::Item>(without_bodies(&input)), true),
    };
    if let Ok(item) = parsed {
        if let Some(driver) = parse::parse(&cx, &item) {
            validate::validate(&cx, &driver);
            driver_impl = Some(if cx.is_empty() && !bodies_broken {
                expand::driver_impl(&driver)
            } else {
                expand::fallback_impl(driver.item)
            });
        }
    }
    match cx.finish() {
        Ok(()) => quote!(#input #driver_impl),
        Err(errors) => {
            let errors = errors.to_compile_error();
            quote!(#input #errors #driver_impl)
        }
    }
}

/// The check traits of `ignition::__private`, for `__check_traits!`.
pub(crate) fn check_traits() -> TokenStream {
    checks::check_traits()
}

/// The table of operations as text, for `__operation_table!`.
pub(crate) fn operation_table() -> String {
    operations::table_text()
}

/// `input` with every brace group inside the impl body (the method bodies) emptied:
/// what the expansion needs are the signatures, which then parse even when a body has a
/// syntax error.
fn without_bodies(input: &TokenStream) -> TokenStream {
    let mut tokens: Vec<TokenTree> = input.clone().into_iter().collect();
    let body = tokens.iter().rposition(
        |token| matches!(token, TokenTree::Group(group) if group.delimiter() == proc_macro2::Delimiter::Brace),
    );
    if let Some(index) = body {
        if let TokenTree::Group(group) = &tokens[index] {
            let emptied: TokenStream = group
                .stream()
                .into_iter()
                .map(|token| match token {
                    TokenTree::Group(inner)
                        if inner.delimiter() == proc_macro2::Delimiter::Brace =>
                    {
                        let mut empty =
                            Group::new(proc_macro2::Delimiter::Brace, TokenStream::new());
                        empty.set_span(inner.span());
                        TokenTree::Group(empty)
                    }
                    other => other,
                })
                .collect();
            let mut replaced = Group::new(group.delimiter(), emptied);
            replaced.set_span(group.span());
            tokens[index] = TokenTree::Group(replaced);
        }
    }
    tokens.into_iter().collect()
}
