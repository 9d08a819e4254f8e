//! `#[vim_driver]`: parse → validate → expand.

mod expand;
mod operations;
mod parse;
mod validate;

#[cfg(test)]
mod tests;

use proc_macro2::TokenStream;
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
    // syntax error on it better than syn would.
    if let Ok(item) = syn::parse2::<syn::Item>(input.clone()) {
        if let Some(driver) = parse::parse(&cx, &item) {
            validate::validate(&cx, &driver);
            driver_impl = Some(if cx.is_empty() {
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
