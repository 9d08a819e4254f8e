//! Validation rules and the shape of the output, checked on syn nodes without a compiler
//! run (the exact compiler output is pinned by the trybuild fixtures of `ui-tests`): the
//! rules of each kind (`vim.rs`, `resource.rs`), and what concerns both (here).

mod resource;
mod vim;

use proc_macro2::TokenStream;
use quote::quote;

use super::kinds::{Kind, RESOURCE, VIM};
use super::{expand, parse, validate};
use crate::errors::Errors;

/// The messages the attribute of `kind` reports for `item`, in order, in full.
fn full_errors(kind: &'static Kind, item: TokenStream) -> Vec<String> {
    let item: syn::Item = syn::parse2(item).expect("test input is an item");
    let cx = Errors::new();
    if let Some(driver) = parse::parse(&cx, kind, &item) {
        validate::validate(&cx, &driver);
    }
    match cx.finish() {
        Ok(()) => Vec::new(),
        Err(errors) => errors.into_iter().map(|e| e.to_string()).collect(),
    }
}

/// The first line (the rule) of each message the attribute of `kind` reports for `item`;
/// every message must have a second line, a `help:`.
fn errors(kind: &'static Kind, item: TokenStream) -> Vec<String> {
    full_errors(kind, item)
        .into_iter()
        .map(|message| rule(&message).to_owned())
        .collect()
}

/// The first line of `message`, which must be followed by a `help:` line.
fn rule(message: &str) -> &str {
    let (rule, help) = message
        .split_once('\n')
        .unwrap_or_else(|| panic!("no help line in {message:?}"));
    assert!(help.starts_with("help: "), "{message:?}");
    rule
}

/// The compile errors in the macro's full output, in order.
fn compile_errors(output: &TokenStream) -> Vec<String> {
    let file: syn::File = syn::parse2(output.clone()).expect("output parses as items");
    file.items
        .iter()
        .filter_map(|item| match item {
            syn::Item::Macro(m) if m.mac.path.segments.last().unwrap().ident == "compile_error" => {
                Some(m.mac.parse_body::<syn::LitStr>().unwrap().value())
            }
            _ => None,
        })
        .collect()
}

/// The trait impls among the output's items, which must be `kind`'s runtime trait, then
/// `ignition::Driver` serving that kind.
fn driver_impls<'f>(kind: &Kind, file: &'f syn::File) -> [&'f syn::ItemImpl; 2] {
    let impls: Vec<_> = file
        .items
        .iter()
        .filter_map(|item| match item {
            syn::Item::Impl(item) if item.trait_.is_some() => Some(item),
            _ => None,
        })
        .collect();
    let paths: Vec<String> = impls
        .iter()
        .map(|imp| {
            let (_, path, _) = imp.trait_.as_ref().unwrap();
            quote!(#path).to_string()
        })
        .collect();
    let runtime_trait = syn::Ident::new(kind.runtime_trait, proc_macro2::Span::call_site());
    assert_eq!(
        paths,
        [
            quote!(::ignition::__private::#runtime_trait).to_string(),
            quote!(::ignition::Driver).to_string()
        ]
    );
    let serve = syn::Ident::new(kind.serve, proc_macro2::Span::call_site());
    let serve = quote!(::ignition::__private::Serve::<Self>::#serve()).to_string();
    let driver = &impls[1];
    assert!(
        quote!(#driver).to_string().contains(&serve),
        "`ignition::Driver` serves the kind: {}",
        quote!(#driver)
    );
    [impls[0], impls[1]]
}

/// A driver of `kind` with every operation, each with its expected signature and the
/// kind's default error.
fn complete_driver(kind: &Kind) -> TokenStream {
    let ops = kind.operations.iter().map(|op| {
        let signature: TokenStream = op.signature(kind.default_error).parse().unwrap();
        quote!(#signature { todo!() })
    });
    quote!(impl EchoDriver { #(#ops)* })
}

#[test]
fn the_expected_signatures_are_valid() {
    for kind in [&VIM, &RESOURCE] {
        assert_eq!(errors(kind, complete_driver(kind)), Vec::<String>::new());
        let output = expand(kind, quote!(), complete_driver(kind));
        assert!(compile_errors(&output).is_empty());
        let file: syn::File = syn::parse2(output).unwrap();
        let [runtime, _] = driver_impls(kind, &file);
        assert_eq!(runtime.items.len(), kind.operations.len() + 1);
    }
}

#[test]
fn a_block_of_the_other_kind_is_one_error() {
    let vim_block = complete_driver(&VIM);
    assert_eq!(
        full_errors(&RESOURCE, vim_block),
        [
            "#[resource_driver]: `create_infrastructure` is an operation of a VIM driver, \
          not of a resource driver\n\
          help: for a VIM driver, put `#[vim_driver]` on this block instead; a resource \
          driver has `execute_lifecycle`, `get_lifecycle_execution` and `find_reference`"
        ]
    );
    let resource_block = complete_driver(&RESOURCE);
    assert_eq!(
        errors(&VIM, resource_block),
        [
            "#[vim_driver]: `execute_lifecycle` is an operation of a resource driver, \
          not of a VIM driver"
        ]
    );
}

#[test]
fn another_kinds_operation_beside_this_kinds_is_a_helper() {
    let item = quote! {
        impl EchoDriver {
            async fn execute_lifecycle(&self) {}
            fn find_infrastructure(&self) {}
        }
    };
    assert_eq!(
        errors(&RESOURCE, item),
        [
            "#[resource_driver]: `execute_lifecycle` takes 7 parameters after `&self`, not 0",
            "#[resource_driver]: `execute_lifecycle` must return \
             `Result<LifecycleExecuteResponse, E>` where `E: ApiError`",
            "#[resource_driver]: missing operation `get_lifecycle_execution`",
            "#[resource_driver]: missing operation `find_reference`",
        ]
    );
}

#[test]
fn both_attributes_are_one_error_on_the_inner_one_which_does_not_run() {
    let input = quote! {
        #[resource_driver]
        impl EchoDriver {
            async fn execute_lifecycle(&self) {}
        }
    };
    let output = expand(&VIM, quote!(), input);
    assert_eq!(
        compile_errors(&output),
        [
            "#[vim_driver]: `#[resource_driver]` cannot be on the same impl block: a driver \
          serves one API\n\
          help: keep `#[vim_driver]` for a VIM driver (the Infrastructure API) or \
          `#[resource_driver]` for a resource driver (the Resource Driver API), not both"
        ]
    );
    let file: syn::File = syn::parse2(output).unwrap();
    let syn::Item::Impl(block) = &file.items[0] else {
        panic!("the block first")
    };
    assert!(block.attrs.is_empty(), "`#[resource_driver]` taken off");
    let [runtime, _] = driver_impls(&VIM, &file);
    assert!(
        !quote!(#runtime).to_string().contains("execute_lifecycle"),
        "a placeholder"
    );
}

#[test]
fn the_same_attribute_twice_is_reported_and_the_block_still_checked() {
    let input = quote! {
        #[ignition::resource_driver]
        impl EchoDriver {}
    };
    let output = expand(&RESOURCE, quote!(), input);
    let errors: Vec<String> = compile_errors(&output)
        .iter()
        .map(|message| rule(message).to_owned())
        .collect();
    assert_eq!(
        errors,
        [
            "#[resource_driver]: the attribute is given twice",
            "#[resource_driver]: missing operation `execute_lifecycle`",
            "#[resource_driver]: missing operation `get_lifecycle_execution`",
            "#[resource_driver]: missing operation `find_reference`",
        ]
    );
}

#[test]
fn unparsable_input_is_reemitted_as_is() {
    let input = quote!(impl EchoDriver { fn });
    for kind in [&VIM, &RESOURCE] {
        assert_eq!(
            expand(kind, quote!(), input.clone()).to_string(),
            input.to_string()
        );
    }
}
