//! Token-level edits of the annotated item, made before (or instead of) parsing it with
//! syn, so that they work on input syn cannot parse too.

use proc_macro2::{Delimiter, Group, TokenStream, TokenTree};

use super::kinds::{Kind, KINDS};

/// A driver attribute found on the item besides the one being expanded (e.g.
/// `#[resource_driver]` under `#[vim_driver]`).
pub(crate) struct DriverAttribute {
    /// Its kind.
    pub(crate) kind: &'static Kind,
    /// Its tokens (`#` and `[...]`), for the error's span.
    pub(crate) tokens: TokenStream,
}

/// `input` without the driver attributes among its outer attributes, and those
/// attributes. Each attribute macro of a block expands it whole (the others are still
/// there, unexpanded, when the first runs): an attribute left in place would run too,
/// and add its own errors and a second implementation to the one error about both.
pub(crate) fn take_driver_attributes(input: TokenStream) -> (TokenStream, Vec<DriverAttribute>) {
    let mut kept = Vec::new();
    let mut found = Vec::new();
    let mut tokens = input.into_iter().peekable();
    while let Some(token) = tokens.next() {
        let is_pound = matches!(&token, TokenTree::Punct(p) if p.as_char() == '#');
        let bracket = match tokens.peek() {
            Some(TokenTree::Group(group))
                if is_pound && group.delimiter() == Delimiter::Bracket =>
            {
                Some(group.clone())
            }
            _ => None,
        };
        let Some(bracket) = bracket else {
            // The outer attributes come first; the item itself starts here.
            kept.push(token);
            kept.extend(tokens);
            break;
        };
        tokens.next();
        match attribute_kind(&bracket) {
            Some(kind) => found.push(DriverAttribute {
                kind,
                tokens: [token, TokenTree::Group(bracket)].into_iter().collect(),
            }),
            None => kept.extend([token, TokenTree::Group(bracket)]),
        }
    }
    (kept.into_iter().collect(), found)
}

/// The kind whose attribute `[path]` or `[path(...)]` is: the last segment of the path
/// names it (`vim_driver`, `ignition::vim_driver`, `ignition::prelude::vim_driver`).
fn attribute_kind(bracket: &Group) -> Option<&'static Kind> {
    let mut last = None;
    for token in bracket.stream() {
        match token {
            TokenTree::Ident(ident) => last = Some(ident.to_string()),
            TokenTree::Punct(punct) if punct.as_char() == ':' => {}
            TokenTree::Group(_) => break,
            _ => return None,
        }
    }
    let last = last?;
    KINDS.into_iter().find(|kind| kind.attribute == last)
}

/// `input` with every brace group inside the impl body (the method bodies) emptied:
/// what the expansion needs are the signatures, which then parse even when a body has a
/// syntax error.
pub(crate) fn without_bodies(input: &TokenStream) -> TokenStream {
    let mut tokens: Vec<TokenTree> = input.clone().into_iter().collect();
    let body = tokens.iter().rposition(
        |token| matches!(token, TokenTree::Group(group) if group.delimiter() == Delimiter::Brace),
    );
    if let Some(index) = body {
        if let TokenTree::Group(group) = &tokens[index] {
            let emptied: TokenStream = group
                .stream()
                .into_iter()
                .map(|token| match token {
                    TokenTree::Group(inner) if inner.delimiter() == Delimiter::Brace => {
                        let mut empty = Group::new(Delimiter::Brace, TokenStream::new());
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

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::*;

    #[test]
    fn driver_attributes_are_taken_whatever_their_path() {
        let input = quote! {
            #[doc = "Docs."]
            #[resource_driver]
            #[allow(dead_code)]
            #[ignition::vim_driver]
            #[::ignition::prelude::resource_driver(x)]
            impl EchoDriver { #[vim_driver] fn f() {} }
        };
        let (kept, found) = take_driver_attributes(input);
        let kinds: Vec<&str> = found.iter().map(|a| a.kind.attribute).collect();
        assert_eq!(kinds, ["resource_driver", "vim_driver", "resource_driver"]);
        assert_eq!(
            found[1].tokens.to_string(),
            quote!(#[ignition::vim_driver]).to_string()
        );
        assert_eq!(
            kept.to_string(),
            quote! {
                #[doc = "Docs."]
                #[allow(dead_code)]
                impl EchoDriver { #[vim_driver] fn f() {} }
            }
            .to_string(),
            "the others, and everything inside the block, are left alone"
        );
    }

    #[test]
    fn an_item_without_driver_attributes_is_unchanged() {
        let input = quote!(#[derive(Debug)] pub struct A; #[vim_driver]);
        let (kept, found) = take_driver_attributes(input.clone());
        assert!(found.is_empty());
        assert_eq!(kept.to_string(), input.to_string());
    }

    #[test]
    fn bodies_are_emptied() {
        let input = quote!(impl A { fn f() { let x = ; } fn g(&self) -> u8 { 1 } });
        assert_eq!(
            without_bodies(&input).to_string(),
            quote!(impl A { fn f() {} fn g(&self) -> u8 {} }).to_string()
        );
    }
}
