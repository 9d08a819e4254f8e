//! `#[vim_driver]` and `#[resource_driver]`: one pipeline (parse → validate → expand)
//! over a table per kind of driver (`kinds.rs`).

mod checks;
mod expand;
mod kinds;
mod parse;
mod tokens;
mod validate;

#[cfg(test)]
mod tests;

use proc_macro2::TokenStream;
use quote::quote;

use crate::errors::Errors;
pub(crate) use kinds::{Kind, RESOURCE, VIM};

/// The whole macro of `kind`: the author's item, unchanged, followed by the kind's impls,
/// or by one `compile_error!` per mistake and placeholder impls (so that the mistakes
/// are the only errors).
pub(crate) fn expand(kind: &'static Kind, args: TokenStream, input: TokenStream) -> TokenStream {
    let cx = Errors::new();
    // Another driver attribute on the block is one mistake, reported here; taken off, it
    // does not run as well.
    let (input, others) = tokens::take_driver_attributes(input);
    validate::validate_other_attributes(&cx, kind, &others);
    validate::validate_args(&cx, kind, &args);
    let mut driver_impl = None;
    // Input that is not an item at all is re-emitted as is: the compiler reports the
    // syntax error on it better than syn would. A syntax error inside a method body is
    // reported the same way, and the signatures alone still give the impls (so the error
    // is not followed by "`Driver` is not implemented" wherever it is used).
    let (parsed, bodies_broken) = match syn::parse2::<syn::Item>(input.clone()) {
        Ok(item) => (Ok(item), false),
        Err(_) => (
            syn::parse2::<syn::Item>(tokens::without_bodies(&input)),
            true,
        ),
    };
    if let Ok(item) = parsed {
        if let Some(driver) = parse::parse(&cx, kind, &item) {
            // With both kinds' attributes, which kind was meant is unknown: its rules
            // would only add noise to the one error.
            if others
                .iter()
                .all(|other| other.kind.attribute == kind.attribute)
            {
                validate::validate(&cx, &driver);
            }
            driver_impl = Some(if cx.is_empty() && !bodies_broken {
                expand::driver_impl(&driver)
            } else {
                expand::fallback_impl(kind, driver.item)
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

/// The tables of operations as text, for `__operation_table!`.
pub(crate) fn operation_table() -> String {
    kinds::table_text()
}
