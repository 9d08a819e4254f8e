//! The rules an impl block must follow for `#[vim_driver]` or `#[resource_driver]` to
//! expand it, the same for both kinds (the kind's table gives the operations and the
//! words). Each broken rule is recorded, spanned on the offending tokens; expansion
//! happens only if none is.
//!
//! What needs types (a parameter's type, the `T` and `E` of the returned `Result`, the
//! future being `Send`) is checked by the compiler on the expansion instead, with the
//! macro's messages: see `expand.rs` and the check traits of `ignition::__private`.

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{FnArg, ImplItemFn, Meta, ReturnType, Token, Type};

use super::kinds::{Kind, Operation, KINDS};
use super::parse::DriverImpl;
use super::tokens::DriverAttribute;
use crate::errors::Errors;

/// Checks the attribute's arguments: there are none.
pub(crate) fn validate_args(cx: &Errors, kind: &Kind, args: &TokenStream) {
    if args.is_empty() {
        return;
    }
    let attr = kind.attr();
    let help = format!("help: `{attr}` takes no arguments; write `{attr}` alone");
    match Punctuated::<Meta, Token![,]>::parse_terminated.parse2(args.clone()) {
        Ok(metas) => {
            for meta in metas {
                let name = meta.path().to_token_stream().to_string().replace(' ', "");
                cx.spanned(
                    &meta,
                    format_args!("{attr}: unknown argument `{name}`\n{help}"),
                );
            }
        }
        Err(_) => cx.spanned(args, format_args!("{attr}: unexpected arguments\n{help}")),
    }
}

/// A block is one kind of driver: another driver attribute on it (found and taken off
/// by `tokens::take_driver_attributes`) is reported on that attribute.
pub(crate) fn validate_other_attributes(cx: &Errors, kind: &Kind, others: &[DriverAttribute]) {
    let attr = kind.attr();
    for other in others {
        let other_attr = other.kind.attr();
        if other.kind.attribute == kind.attribute {
            cx.spanned(
                &other.tokens,
                format_args!(
                    "{attr}: the attribute is given twice\nhelp: remove this `{other_attr}`"
                ),
            );
        } else {
            cx.spanned(
                &other.tokens,
                format_args!(
                    "{attr}: `{other_attr}` cannot be on the same impl block: a driver serves \
                     one API\nhelp: keep `{attr}` for {} ({}) or `{other_attr}` for {} ({}), \
                     not both",
                    kind.noun, kind.api, other.kind.noun, other.kind.api
                ),
            );
        }
    }
}

/// Checks every rule, recording each broken one in `cx`.
pub(crate) fn validate(cx: &Errors, driver: &DriverImpl<'_>) {
    if wrong_kind(cx, driver) {
        return;
    }
    for (op, method) in driver.kind.operations.iter().zip(&driver.methods) {
        match method {
            None => missing(cx, driver, op),
            Some(method) => {
                let rule = Rule {
                    kind: driver.kind,
                    op,
                    method,
                };
                rule.check_async(cx);
                rule.check_unsafe(cx);
                rule.check_generics(cx);
                rule.check_receiver(cx);
                rule.check_arity(cx);
                rule.check_impl_trait_params(cx);
                rule.check_return(cx);
            }
        }
    }
}

/// A block with none of the kind's operations but some of another kind's has the wrong
/// attribute (a VIM driver under `#[resource_driver]`, or the reverse): one error, on the
/// first such method, instead of one per missing operation. Whether it was reported.
fn wrong_kind(cx: &Errors, driver: &DriverImpl<'_>) -> bool {
    if driver.methods.iter().any(Option::is_some) {
        return false;
    }
    let kind = driver.kind;
    let foreign = driver.others.iter().find_map(|method| {
        let name = method.sig.ident.to_string();
        KINDS
            .into_iter()
            .find(|other| other.operation(&name).is_some())
            .map(|other| (other, method))
    });
    let Some((other, method)) = foreign else {
        return false;
    };
    cx.spanned(
        &method.sig.ident,
        format_args!(
            "{attr}: `{name}` is an operation of {other_noun}, not of {noun}\n\
             help: for {other_noun}, put `{other_attr}` on this block instead; \
             {noun} has {operations}",
            attr = kind.attr(),
            name = method.sig.ident,
            other_noun = other.noun,
            other_attr = other.attr(),
            noun = kind.noun,
            operations = kind.operation_list(),
        ),
    );
    true
}

/// An operation must be defined. A method whose name is a near miss of it (a typo, a
/// plural, camelCase) gets the error, with the name it should have; otherwise the error
/// sits on the impl's self type.
fn missing(cx: &Errors, driver: &DriverImpl<'_>, op: &Operation) {
    let kind = driver.kind;
    let signature = op.signature(kind.default_error);
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
                "{}: `{}` is not an operation of {}; did you mean `{}`?\n\
                 help: rename it: `{signature}`",
                kind.attr(),
                method.sig.ident,
                kind.noun,
                op.name,
            ),
        ),
        None => cx.spanned(
            &driver.item.self_ty,
            format_args!(
                "{}: missing operation `{}`\nhelp: add `{signature}` \
                 (any error type that implements `ApiError` will do)",
                kind.attr(),
                op.name,
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

/// The rules about one operation the author wrote.
struct Rule<'a> {
    kind: &'static Kind,
    op: &'static Operation,
    method: &'a ImplItemFn,
}

impl Rule<'_> {
    /// `#[vim_driver]: `name``: how every message about the operation starts.
    fn prefix(&self) -> String {
        format!("{}: `{}`", self.kind.attr(), self.op.name)
    }

    /// The help line every rule about one operation ends with.
    fn signature_help(&self) -> String {
        format!(
            "help: the signature is `{}`",
            self.op.signature(self.kind.default_error)
        )
    }

    /// An operation must be an `async fn`; the error sits on the `fn` token.
    fn check_async(&self, cx: &Errors) {
        if self.method.sig.asyncness.is_none() {
            cx.at(
                self.method.sig.fn_token.span,
                format_args!(
                    "{} must be `async`\n{}",
                    self.prefix(),
                    self.signature_help()
                ),
            );
        }
    }

    /// An operation is called by the framework, outside any `unsafe` block; the error
    /// sits on the `unsafe` token.
    fn check_unsafe(&self, cx: &Errors) {
        if let Some(unsafety) = &self.method.sig.unsafety {
            cx.spanned(
                unsafety,
                format_args!(
                    "{} must not be `unsafe`\n{}",
                    self.prefix(),
                    self.signature_help()
                ),
            );
        }
    }

    /// An operation cannot have generic parameters (the framework has nothing to choose
    /// them with); the error sits on the `<...>`. A `where` clause alone is allowed.
    fn check_generics(&self, cx: &Errors) {
        let generics = &self.method.sig.generics;
        if !generics.params.is_empty() {
            cx.spanned(
                quote::quote!(#generics),
                format_args!(
                    "{} must not be generic\n{}",
                    self.prefix(),
                    self.signature_help()
                ),
            );
        }
    }

    /// An operation must take `&self` (the runtime shares one driver between requests);
    /// the error sits on the receiver, or on the parameter list when there is none.
    fn check_receiver(&self, cx: &Errors) {
        let (prefix, help) = (self.prefix(), self.signature_help());
        match self.method.sig.inputs.first() {
            Some(FnArg::Receiver(receiver)) => {
                let shared_ref =
                    matches!(&*receiver.ty, Type::Reference(r) if r.mutability.is_none());
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
                        "{prefix} must take `&self`{written} \
                         (one driver serves every request)\n{help}"
                    ),
                );
            }
            first => {
                let message = format!("{prefix} must take `&self` as its first parameter\n{help}");
                match first {
                    Some(first) => cx.spanned(first, message),
                    None => cx.at(self.method.sig.paren_token.span.join(), message),
                }
            }
        }
    }

    /// An operation takes one parameter per field of its request. The error sits on the
    /// parameters too many, or on the parameter list when some are missing.
    fn check_arity(&self, cx: &Errors) {
        let typed: Vec<_> = self
            .method
            .sig
            .inputs
            .iter()
            .filter(|input| matches!(input, FnArg::Typed(_)))
            .collect();
        let (got, expected) = (typed.len(), self.op.params.len());
        if got == expected {
            return;
        }
        let message = format!(
            "{} takes {expected} parameters after `&self`, not {got}\n{}",
            self.prefix(),
            self.signature_help(),
        );
        if got > expected {
            let extra = &typed[expected..];
            cx.spanned(quote::quote!(#(#extra),*), message);
        } else {
            cx.at(self.method.sig.paren_token.span.join(), message);
        }
    }

    /// A parameter of type `impl Trait` makes the method generic; the error sits on the
    /// type.
    fn check_impl_trait_params(&self, cx: &Errors) {
        let typed = self
            .method
            .sig
            .inputs
            .iter()
            .filter_map(|input| match input {
                FnArg::Typed(param) => Some(param),
                FnArg::Receiver(_) => None,
            });
        for (param, expected) in typed.zip(self.op.params) {
            if let Type::ImplTrait(_) = &*param.ty {
                cx.spanned(
                    &param.ty,
                    format_args!(
                        "{}: parameter `{}` of `{}` must be `{}`, not `impl Trait` \
                         (an operation cannot be generic)\n{}",
                        self.kind.attr(),
                        expected.field,
                        self.op.name,
                        expected.ty,
                        self.signature_help()
                    ),
                );
            }
        }
    }

    /// An operation returns a `Result`; only a missing return type is caught here (the
    /// compiler checks the types themselves). The error sits on the method's name.
    fn check_return(&self, cx: &Errors) {
        if let ReturnType::Default = self.method.sig.output {
            cx.at(
                self.method.sig.ident.span(),
                format_args!(
                    "{} must return `Result<{}, E>` where `E: ApiError`\n{}",
                    self.prefix(),
                    self.op.response,
                    self.signature_help()
                ),
            );
        }
    }
}
