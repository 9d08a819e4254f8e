//! Finds the impl block and the author's method for each operation of the kind.

use quote::{quote, ToTokens};
use syn::{ImplItem, ImplItemFn, Item, ItemImpl};

use super::kinds::Kind;
use crate::errors::Errors;

/// The annotated impl block, with the author's method for each operation.
pub(crate) struct DriverImpl<'a> {
    /// The kind of driver the attribute makes.
    pub(crate) kind: &'static Kind,
    /// The impl block, as written.
    pub(crate) item: &'a ItemImpl,
    /// The author's method for each of the kind's operations (same index), if written.
    pub(crate) methods: Vec<Option<&'a ImplItemFn>>,
    /// Every other method, left alone unless its name is a near miss of an operation.
    pub(crate) others: Vec<&'a ImplItemFn>,
}

/// Accepts an inherent impl block; records an error on anything else.
pub(crate) fn parse<'a>(
    cx: &Errors,
    kind: &'static Kind,
    item: &'a Item,
) -> Option<DriverImpl<'a>> {
    let item = match item {
        Item::Impl(item) if item.trait_.is_none() => item,
        other => {
            let (what, head) = describe(other);
            cx.spanned(
                head,
                format_args!(
                    "{attr}: expected an inherent impl block of the driver type \
                     (`impl MyDriver {{ ... }}`), found {what}\n\
                     help: write {operations} in `impl MyDriver {{ ... }}` and put \
                     `{attr}` on that block",
                    attr = kind.attr(),
                    operations = kind.the_operations(),
                ),
            );
            return None;
        }
    };
    let methods = kind
        .operations
        .iter()
        .map(|op| {
            item.items.iter().find_map(|member| match member {
                ImplItem::Fn(method) if method.sig.ident == op.name => Some(method),
                _ => None,
            })
        })
        .collect();
    let others = item
        .items
        .iter()
        .filter_map(|member| match member {
            ImplItem::Fn(method) if kind.operation(&method.sig.ident.to_string()).is_none() => {
                Some(method)
            }
            _ => None,
        })
        .collect();
    Some(DriverImpl {
        kind,
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
