//! Procedural macros of Ignition for Rust.
//!
//! Use them through the `ignition` crate (`ignition::vim_driver`,
//! `ignition::resource_driver`, `ignition::ApiError`), which documents them in full; the
//! expansions name items of `::ignition` only.
//!
//! `#[vim_driver]` and `#[resource_driver]` are one macro over two tables
//! (`driver/kinds.rs`): a kind of driver is data, not a second pipeline.
//!
//! Each macro runs in three steps: parse (the syn nodes the macro cares about, kept for
//! their spans) → validate (every rule, each broken one recorded in an error
//! accumulator so that all mistakes are reported at once) → expand. With errors, the
//! output is the author's item, one `compile_error!` per mistake, and a placeholder
//! implementation, so that the mistakes are the only errors.
//!
//! What needs types (a parameter's type, the operation's `Result`, serialisable error
//! fields) is checked by the compiler on the expansion, through traits of
//! `ignition::__private` whose `#[diagnostic::on_unimplemented]` messages are the
//! macros' own, located on the author's tokens.
//!
//! The expansions are pinned by snapshots (`snapshots/*.expanded.rs`, see
//! `src/snapshots.rs`), the diagnostics by the trybuild fixtures of `ui-tests`.

mod api_error;
mod driver;
mod errors;
#[cfg(test)]
mod snapshots;

use proc_macro::TokenStream;

/// The attribute is defined in `ignition-macros`: depend on `ignition` and use it as
/// `ignition::vim_driver` (or through `ignition::prelude`), where it is documented.
#[proc_macro_attribute]
pub fn vim_driver(args: TokenStream, item: TokenStream) -> TokenStream {
    driver::expand(&driver::VIM, args.into(), item.into()).into()
}

/// The attribute is defined in `ignition-macros`: depend on `ignition` and use it as
/// `ignition::resource_driver` (or through `ignition::prelude`), where it is documented.
#[proc_macro_attribute]
pub fn resource_driver(args: TokenStream, item: TokenStream) -> TokenStream {
    driver::expand(&driver::RESOURCE, args.into(), item.into()).into()
}

/// The check traits of `ignition::__private` (one per operation's return type and per
/// parameter, one per kind for the error type), generated from the tables the driver
/// attributes validate with. Not an API.
#[doc(hidden)]
#[proc_macro]
pub fn __check_traits(_input: TokenStream) -> TokenStream {
    driver::check_traits().into()
}

/// The operations of both kinds' tables as a string literal of
/// `#[attribute] method driver_method` lines, every kind in turn (e.g.
/// `#[vim_driver] create_infrastructure create`, `#[resource_driver] execute_lifecycle
/// execute`): the runtime tests its own table against it. Not an API.
#[doc(hidden)]
#[proc_macro]
pub fn __operation_table(_input: TokenStream) -> TokenStream {
    let text = driver::operation_table();
    quote::quote!(#text).into()
}

/// The derive is defined in `ignition-macros`: depend on `ignition` and use it as
/// `ignition::ApiError` (or through `ignition::prelude`), where it is documented.
#[proc_macro_derive(ApiError, attributes(api_error))]
pub fn derive_api_error(input: TokenStream) -> TokenStream {
    api_error::derive_api_error(input.into()).into()
}
