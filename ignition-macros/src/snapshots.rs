//! Expansion snapshots: each `snapshots/<name>.rs` is expanded (every `#[vim_driver]` or
//! `#[resource_driver]` impl replaced by the macro's output, every `#[derive(ApiError)]`
//! item followed by the derived impl), pretty-printed, and compared with the checked-in
//! `snapshots/<name>.expanded.rs`. A change to the generated code fails here until the
//! snapshot is regenerated and reviewed:
//!
//! ```sh
//! UPDATE_SNAPSHOTS=1 cargo test -p ignition-macros snapshots
//! git diff ignition-macros/snapshots
//! ```

use std::path::{Path, PathBuf};

use quote::ToTokens;

/// `snapshots/` of this crate.
fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots")
}

/// The input file, expanded and pretty-printed.
fn expand(name: &str) -> String {
    let path = dir().join(format!("{name}.rs"));
    let source = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let input = syn::parse_file(&source).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let mut items = Vec::new();
    for mut item in input.items {
        let expansion = match &mut item {
            syn::Item::Impl(imp) => [&crate::driver::VIM, &crate::driver::RESOURCE]
                .into_iter()
                .find_map(|kind| Some((kind, take_attr(&mut imp.attrs, kind.attribute)?)))
                .map(|(kind, args)| crate::driver::expand(kind, args, imp.to_token_stream())),
            _ => derives_api_error(&item)
                .then(|| item.to_token_stream())
                .map(|tokens| {
                    let derived = crate::api_error::derive_api_error(tokens.clone());
                    quote::quote!(#tokens #derived)
                }),
        };
        match expansion {
            Some(tokens) => {
                let file: syn::File = syn::parse2(tokens).expect("the expansion parses");
                items.extend(file.items);
            }
            None => items.push(item),
        }
    }
    let file = syn::File {
        shebang: None,
        attrs: Vec::new(),
        items,
    };
    prettyplease::unparse(&file)
}

/// Removes `#[name(args)]` (or `#[name]`) from `attrs`; its arguments.
fn take_attr(attrs: &mut Vec<syn::Attribute>, name: &str) -> Option<proc_macro2::TokenStream> {
    let index = attrs.iter().position(|a| a.path().is_ident(name))?;
    Some(match attrs.remove(index).meta {
        syn::Meta::List(list) => list.tokens,
        _ => proc_macro2::TokenStream::new(),
    })
}

/// Whether the item has `ApiError` in a `#[derive(...)]`.
fn derives_api_error(item: &syn::Item) -> bool {
    let attrs = match item {
        syn::Item::Enum(item) => &item.attrs,
        syn::Item::Struct(item) => &item.attrs,
        syn::Item::Union(item) => &item.attrs,
        _ => return false,
    };
    attrs.iter().any(|attr| {
        attr.path().is_ident("derive")
            && attr.to_token_stream().into_iter().any(|t| {
                let text = t.to_string();
                text.contains("ApiError")
            })
    })
}

/// Compares the expansion of `name` with its snapshot, or writes the snapshot when
/// `UPDATE_SNAPSHOTS` is set.
fn check(name: &str) {
    let expanded = expand(name);
    let path = dir().join(format!("{name}.expanded.rs"));
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, &expanded).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    if expected != expanded {
        let diff: Vec<String> = expected
            .lines()
            .zip(expanded.lines())
            .enumerate()
            .filter(|(_, (a, b))| a != b)
            .take(5)
            .map(|(n, (a, b))| format!("line {}:\n  - {a}\n  + {b}", n + 1))
            .collect();
        panic!(
            "the expansion of snapshots/{name}.rs drifted from snapshots/{name}.expanded.rs \
             ({} lines, expected {}); first differences:\n{}\nregenerate with \
             UPDATE_SNAPSHOTS=1 cargo test -p ignition-macros snapshots, and review the diff",
            expanded.lines().count(),
            expected.lines().count(),
            diff.join("\n")
        );
    }
}

#[test]
fn vim_driver() {
    check("vim_driver");
}

#[test]
fn resource_driver() {
    check("resource_driver");
}

#[test]
fn api_error() {
    check("api_error");
}
