//! The rules an impl block must follow for `#[vim_driver]` to expand it. Each broken rule
//! is recorded, spanned on the offending tokens; expansion happens only if none is.

use syn::{FnArg, ImplItemFn, ReturnType, Type};

use super::operations::{Operation, OPERATIONS};
use super::parse::DriverImpl;
use crate::errors::Errors;

/// Checks every rule, recording each broken one in `cx`.
pub(crate) fn validate(cx: &Errors, driver: &DriverImpl<'_>) {
    for (op, method) in OPERATIONS.iter().zip(&driver.methods) {
        match method {
            None => missing(cx, driver, op),
            Some(method) => {
                check_async(cx, op, method);
                check_receiver(cx, op, method);
                check_arity(cx, op, method);
                check_return(cx, op, method);
            }
        }
    }
}

/// An operation must be defined; the error sits on the impl's self type.
fn missing(cx: &Errors, driver: &DriverImpl<'_>, op: &Operation) {
    cx.spanned(
        &driver.item.self_ty,
        format_args!(
            "#[vim_driver]: missing operation `{}`\nhelp: add `{}` \
             (any error type that implements `ApiError` will do)",
            op.name,
            op.expected_signature()
        ),
    );
}

/// An operation must be an `async fn`; the error sits on the `fn` token.
fn check_async(cx: &Errors, op: &Operation, method: &ImplItemFn) {
    if method.sig.asyncness.is_none() {
        cx.at(
            method.sig.fn_token.span,
            format_args!("#[vim_driver]: `{}` must be `async`", op.name),
        );
    }
}

/// An operation must take `&self` (the runtime shares one driver between requests); the
/// error sits on the receiver, or on the parameter list when there is none.
fn check_receiver(cx: &Errors, op: &Operation, method: &ImplItemFn) {
    let name = op.name;
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
                     (one driver serves every request)"
                ),
            );
        }
        _ => cx.at(
            method.sig.paren_token.span.join(),
            format_args!("#[vim_driver]: `{name}` must take `&self` as its first parameter"),
        ),
    }
}

/// An operation takes one parameter per field of its request; the error sits on the
/// parameter list.
fn check_arity(cx: &Errors, op: &Operation, method: &ImplItemFn) {
    let got = method
        .sig
        .inputs
        .iter()
        .filter(|input| matches!(input, FnArg::Typed(_)))
        .count();
    let expected = op.params.len();
    if got != expected {
        cx.at(
            method.sig.paren_token.span.join(),
            format_args!(
                "#[vim_driver]: `{}` expected {expected} parameters after `&self`, got {got}\n\
                 help: the signature is `{}`",
                op.name,
                op.expected_signature(),
            ),
        );
    }
}

/// An operation returns a `Result`; only a missing return type is caught here (the
/// compiler checks the types themselves), the error sits on the method's name.
fn check_return(cx: &Errors, op: &Operation, method: &ImplItemFn) {
    if let ReturnType::Default = method.sig.output {
        cx.at(
            method.sig.ident.span(),
            format_args!(
                "#[vim_driver]: `{}` must return `Result<{}, E>` where `E: ApiError`",
                op.name, op.response
            ),
        );
    }
}
