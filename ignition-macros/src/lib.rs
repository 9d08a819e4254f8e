//! Procedural macros of Ignition for Rust.
//!
//! Use them through the `ignition` crate (`ignition::vim_driver`), which documents them
//! in full; the expansions name items of `::ignition` only.
//!
//! Each macro runs in three steps: parse (the syn nodes the macro cares about, kept for
//! their spans) → validate (every rule, each broken one recorded in an error
//! accumulator so that all mistakes are reported at once) → expand (the generated code,
//! only when nothing was recorded).

mod errors;
mod vim_driver;

use proc_macro::TokenStream;

/// Implements `ignition::__private::Driver` for the type of an inherent impl block that
/// defines the four operations of a VIM driver.
///
/// The impl block is emitted unchanged; see the `ignition` crate for the expected
/// signatures and an example.
#[proc_macro_attribute]
pub fn vim_driver(args: TokenStream, item: TokenStream) -> TokenStream {
    vim_driver::vim_driver(args.into(), item.into()).into()
}
