//! Finds the impl block and the author's four methods in the annotated item.

use quote::{quote, ToTokens};
use syn::{ImplItem, ImplItemFn, Item, ItemImpl};

use super::operations::OPERATIONS;
use crate::errors::Errors;

/// The annotated impl block, with the author's method for each operation.
pub(crate) struct DriverImpl<'a> {
    /// The impl block, as written.
    pub(crate) item: &'a ItemImpl,
    /// The author's method for each of [`OPERATIONS`] (same index), if written.
    pub(crate) methods: [Option<&'a ImplItemFn>; OPERATIONS.len()],
    /// Every other method, left alone unless its name is a near miss of an operation.
    pub(crate) others: Vec<&'a ImplItemFn>,
}

/// Accepts an inherent impl block; records an error on anything else.
pub(crate) fn parse<'a>(cx: &Errors, item: &'a Item) -> Option<DriverImpl<'a>> {
    let item = match item {
        Item::Impl(item) if item.trait_.is_none() => item,
        other => {
            let (what, head) = describe(other);
            cx.spanned(
                head,
                format_args!(
                    "#[vim_driver]: expected an inherent impl block of the driver type \
                     (`impl MyDriver {{ ... }}`), found {what}\n\
                     help: write the four operations in `impl MyDriver {{ ... }}` and put \
                     `#[vim_driver]` on that block"
                ),
            );
            return None;
        }
    };
    let methods = OPERATIONS.each_ref().map(|op| {
        item.items.iter().find_map(|member| match member {
            ImplItem::Fn(method) if method.sig.ident == op.name => Some(method),
            _ => None,
        })
    });
    let others = item
        .items
        .iter()
        .filter_map(|member| match member {
            ImplItem::Fn(method) if !OPERATIONS.iter().any(|op| method.sig.ident == op.name) => {
                Some(method)
            }
            _ => None,
        })
        .collect();
    Some(DriverImpl {
        item,
        methods,
        others,
    })
}

/// What the item is, and the tokens to put the error on: its head (`struct Name`,
/// `impl Trait for Type`), not its whole body.
fn describe(item: &Item) -> (&'static str, proc_macro2::TokenStream) {
    match item {
        Item::Impl(item) => {
            let (impl_token, self_ty) = (&item.impl_token, &item.self_ty);
            match &item.trait_ {
                Some((bang, path, for_token)) => (
                    "a trait impl",
                    quote!(#impl_token #bang #path #for_token #self_ty),
                ),
                None => ("an impl block", quote!(#impl_token #self_ty)),
            }
        }
        Item::Struct(item) => {
            let (token, ident) = (&item.struct_token, &item.ident);
            ("a struct", quote!(#token #ident))
        }
        Item::Enum(item) => {
            let (token, ident) = (&item.enum_token, &item.ident);
            ("an enum", quote!(#token #ident))
        }
        Item::Fn(item) => {
            let (token, ident) = (&item.sig.fn_token, &item.sig.ident);
            ("a function", quote!(#token #ident))
        }
        Item::Trait(item) => {
            let (token, ident) = (&item.trait_token, &item.ident);
            ("a trait", quote!(#token #ident))
        }
        Item::Mod(item) => {
            let (token, ident) = (&item.mod_token, &item.ident);
            ("a module", quote!(#token #ident))
        }
        other => ("another kind of item", other.to_token_stream()),
    }
}
