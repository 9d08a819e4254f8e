//! The rules an impl block must follow for `#[vim_driver]` to expand it. Each broken rule
//! is recorded, spanned on the offending tokens; expansion happens only if none is.
//!
//! What needs types (a parameter's type, the `T` and `E` of the returned `Result`, the
//! future being `Send`) is checked by the compiler on the expansion instead, with the
//! macro's messages: see `expand.rs` and the check traits of `ignition::__private`.

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{FnArg, ImplItemFn, Meta, ReturnType, Token, Type};

use super::operations::{Operation, OPERATIONS};
use super::parse::DriverImpl;
use crate::errors::Errors;

/// Checks the attribute's arguments: there are none.
pub(crate) fn validate_args(cx: &Errors, args: &TokenStream) {
    if args.is_empty() {
        return;
    }
    let help = "help: `#[vim_driver]` takes no arguments; write `#[vim_driver]` alone";
    match Punctuated::<Meta, Token![,]>::parse_terminated.parse2(args.clone()) {
        Ok(metas) => {
            for meta in metas {
                let name = meta.path().to_token_stream().to_string().replace(' ', "");
                cx.spanned(
                    &meta,
                    format_args!("#[vim_driver]: unknown argument `{name}`\n{help}"),
                );
            }
        }
        Err(_) => cx.spanned(
            args,
            format_args!("#[vim_driver]: unexpected arguments\n{help}"),
        ),
    }
}

/// Checks every rule, recording each broken one in `cx`.
pub(crate) fn validate(cx: &Errors, driver: &DriverImpl<'_>) {
    for (op, method) in OPERATIONS.iter().zip(&driver.methods) {
        match method {
            None => missing(cx, driver, op),
            Some(method) => {
                check_async(cx, op, method);
                check_unsafe(cx, op, method);
                check_generics(cx, op, method);
                check_receiver(cx, op, method);
                check_arity(cx, op, method);
                check_impl_trait_params(cx, op, method);
                check_return(cx, op, method);
            }
        }
    }
}

/// An operation must be defined. A method whose name is a near miss of it (a typo, a
/// plural, camelCase) gets the error, with the name it should have; otherwise the error
/// sits on the impl's self type.
fn missing(cx: &Errors, driver: &DriverImpl<'_>, op: &Operation) {
    let near_miss = driver
        .others
        .iter()
        .filter_map(|method| Some((near_miss(&method.sig.ident.to_string(), op.name)?, method)))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, method)| method);
    match near_miss {
        Some(method) => cx.spanned(
            &method.sig.ident,
            format_args!(
                "#[vim_driver]: `{}` is not an operation of a VIM driver; \
                 did you mean `{}`?\nhelp: rename it: `{}`",
                method.sig.ident,
                op.name,
                op.expected_signature()
            ),
        ),
        None => cx.spanned(
            &driver.item.self_ty,
            format_args!(
                "#[vim_driver]: missing operation `{}`\nhelp: add `{}` \
                 (any error type that implements `ApiError` will do)",
                op.name,
                op.expected_signature()
            ),
        ),
    }
}

/// How far `name` is from the operation `op`, if it looks like a misspelling of it: the
/// same letters up to case and underscores (`createInfrastructure`), or at most three
/// edits away (`create_infrastucture`, `delete_infrastructures`).
pub(crate) fn near_miss(name: &str, op: &str) -> Option<usize> {
    let normalize = |s: &str| -> String {
        s.chars()
            .filter(|c| *c != '_')
            .flat_map(char::to_lowercase)
            .collect()
    };
    let distance = strsim::levenshtein(&normalize(name), &normalize(op));
    (distance <= 3).then_some(distance)
}

/// The help line every rule about one operation ends with.
fn signature_help(op: &Operation) -> String {
    format!("help: the signature is `{}`", op.expected_signature())
}

/// An operation must be an `async fn`; the error sits on the `fn` token.
fn check_async(cx: &Errors, op: &Operation, method: &ImplItemFn) {
    if method.sig.asyncness.is_none() {
        cx.at(
            method.sig.fn_token.span,
            format_args!(
                "#[vim_driver]: `{}` must be `async`\n{}",
                op.name,
                signature_help(op)
            ),
        );
    }
}

/// An operation is called by the framework, outside any `unsafe` block; the error sits on
/// the `unsafe` token.
fn check_unsafe(cx: &Errors, op: &Operation, method: &ImplItemFn) {
    if let Some(unsafety) = &method.sig.unsafety {
        cx.spanned(
            unsafety,
            format_args!(
                "#[vim_driver]: `{}` must not be `unsafe`\n{}",
                op.name,
                signature_help(op)
            ),
        );
    }
}

/// An operation cannot have generic parameters (the framework has nothing to choose them
/// with); the error sits on the `<...>`. A `where` clause alone is allowed.
fn check_generics(cx: &Errors, op: &Operation, method: &ImplItemFn) {
    let generics = &method.sig.generics;
    if !generics.params.is_empty() {
        cx.spanned(
            quote::quote!(#generics),
            format_args!(
                "#[vim_driver]: `{}` must not be generic\n{}",
                op.name,
                signature_help(op)
            ),
        );
    }
}

/// An operation must take `&self` (the runtime shares one driver between requests); the
/// error sits on the receiver, or on the parameter list when there is none.
fn check_receiver(cx: &Errors, op: &Operation, method: &ImplItemFn) {
    let name = op.name;
    let help = signature_help(op);
    match method.sig.inputs.first() {
        Some(FnArg::Receiver(receiver)) => {
            let shared_ref = matches!(&*receiver.ty, Type::Reference(r) if r.mutability.is_none());
            if shared_ref {
                return;
            }
            let written = match (
                &receiver.reference,
                &receiver.mutability,
                &receiver.colon_token,
            ) {
                (None, None, None) => ", not `self`",
                (None, Some(_), None) => ", not `mut self`",
                (Some(_), Some(_), None) => ", not `&mut self`",
                _ => "",
            };
            cx.spanned(
                receiver,
                format_args!(
                    "#[vim_driver]: `{name}` must take `&self`{written} \
                     (one driver serves every request)\n{help}"
                ),
            );
        }
        first => {
            let message =
                format!("#[vim_driver]: `{name}` must take `&self` as its first parameter\n{help}");
            match first {
                Some(first) => cx.spanned(first, message),
                None => cx.at(method.sig.paren_token.span.join(), message),
            }
        }
    }
}

/// An operation takes one parameter per field of its request. The error sits on the
/// parameters too many, or on the parameter list when some are missing.
fn check_arity(cx: &Errors, op: &Operation, method: &ImplItemFn) {
    let typed: Vec<_> = method
        .sig
        .inputs
        .iter()
        .filter(|input| matches!(input, FnArg::Typed(_)))
        .collect();
    let (got, expected) = (typed.len(), op.params.len());
    if got == expected {
        return;
    }
    let message = format!(
        "#[vim_driver]: `{}` takes {expected} parameters after `&self`, not {got}\n{}",
        op.name,
        signature_help(op),
    );
    if got > expected {
        let extra = &typed[expected..];
        cx.spanned(quote::quote!(#(#extra),*), message);
    } else {
        cx.at(method.sig.paren_token.span.join(), message);
    }
}

/// A parameter of type `impl Trait` makes the method generic; the error sits on the type.
fn check_impl_trait_params(cx: &Errors, op: &Operation, method: &ImplItemFn) {
    let typed = method.sig.inputs.iter().filter_map(|input| match input {
        FnArg::Typed(param) => Some(param),
        FnArg::Receiver(_) => None,
    });
    for (param, expected) in typed.zip(op.params) {
        if let Type::ImplTrait(_) = &*param.ty {
            cx.spanned(
                &param.ty,
                format_args!(
                    "#[vim_driver]: parameter `{}` of `{}` must be `{}`, not `impl Trait` \
                     (an operation cannot be generic)\n{}",
                    expected.field,
                    op.name,
                    expected.ty,
                    signature_help(op)
                ),
            );
        }
    }
}

/// An operation returns a `Result`; only a missing return type is caught here (the
/// compiler checks the types themselves). The error sits on the method's name.
fn check_return(cx: &Errors, op: &Operation, method: &ImplItemFn) {
    if let ReturnType::Default = method.sig.output {
        cx.at(
            method.sig.ident.span(),
            format_args!(
                "#[vim_driver]: `{}` must return `Result<{}, E>` where `E: ApiError`\n{}",
                op.name,
                op.response,
                signature_help(op)
            ),
        );
    }
}
