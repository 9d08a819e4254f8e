//! `#[derive(ApiError)]`: parse (with the rules of each attribute) → validate → expand.

mod expand;
mod parse;
mod validate;

#[cfg(test)]
mod tests;

use proc_macro2::TokenStream;

use crate::errors::Errors;

/// The whole derive: the `ApiError` impl, or one `compile_error!` per mistake and a
/// placeholder impl (so that the type's uses as an `ApiError`, e.g. as an operation's
/// error type, do not fail too: the mistakes are the only errors).
pub(crate) fn derive_api_error(input: TokenStream) -> TokenStream {
    let input = match syn::parse2::<syn::DeriveInput>(input) {
        Ok(input) => input,
        Err(err) => return err.to_compile_error(),
    };
    let cx = Errors::new();
    let error_type = parse::parse(&cx, &input);
    if let Some(error_type) = &error_type {
        validate::validate(&cx, error_type);
    }
    match (cx.finish(), error_type) {
        (Ok(()), Some(error_type)) => expand::api_error_impl(&error_type),
        (Err(errors), Some(_)) => {
            let errors = errors.to_compile_error();
            let fallback = expand::fallback_impl(&input);
            quote::quote!(#errors #fallback)
        }
        (Err(errors), None) => errors.to_compile_error(),
        (Ok(()), None) => unreachable!("parse records an error when it returns None"),
    }
}
