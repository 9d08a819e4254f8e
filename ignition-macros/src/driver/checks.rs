//! The check traits of `ignition::__private`, generated from the kinds' tables: the same
//! tables the macros validate against name the traits they assert, so the two agree by
//! construction. `ignition` invokes `__check_traits!()` once, inside `__private`.
//!
//! For each operation of each kind, an `output_check!(...)` line and one
//! `param_check!(...)` line per parameter, each expanded by a `macro_rules` of
//! `ignition/src/__private.rs` (which holds the traits' shape; this file gives the data).
//! For each kind, the error check trait, emitted whole: it needs nothing of the runtime
//! but `ApiError` and `__private::error_type`.

use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

use super::kinds::{Kind, Operation, KINDS};

/// Every check trait of every kind.
pub(crate) fn check_traits() -> TokenStream {
    KINDS
        .into_iter()
        .flat_map(|kind| {
            let operations = kind.operations.iter().map(|op| operation_checks(kind, op));
            operations.chain([error_check(kind)])
        })
        .collect()
}

/// `output_check!(...)` and one `param_check!(...)` per parameter of `op`.
fn operation_checks(kind: &Kind, op: &Operation) -> TokenStream {
    let attr = kind.attr();
    let signature = op.signature("E");
    let output = Ident::new(&op.output_check(), Span::call_site());
    let response = Ident::new(op.response, Span::call_site());
    let message = format!(
        "{attr}: `{}` must return `Result<{}, E>`, not `{{Self}}`",
        op.name, op.response
    );
    let label = format!("expected `Result<{}, E>` where `E: ApiError`", op.response);
    let note = format!("the signature is `{signature}` with `E: ApiError`");
    let params = op.params.iter().map(|param| {
        let check = Ident::new(&op.param_check(param), Span::call_site());
        let ty = Ident::new(param.ty, Span::call_site());
        let message = format!(
            "{attr}: parameter `{}` of `{}` must be `{}`, not `{{Self}}`",
            param.field, op.name, param.ty
        );
        let label = format!("expected `{}`", param.ty);
        let note = format!("the signature is `{signature}`");
        quote!(param_check!(#check: #ty, #message, #label, #note);)
    });
    quote! {
        output_check!(#output: #response, #message, #label, #note);
        #(#params)*
    }
}

/// The kind's error check: implemented for every `E: ApiError` (a blanket impl the
/// compiler does not recommend, so that its own message is the one shown), it names
/// `ErrorType<E>` for the expansion. Through it, "not `ApiError`" is said with the
/// kind's attribute and default error, rather than with `ApiError`'s own message.
fn error_check(kind: &Kind) -> TokenStream {
    let name = Ident::new(&kind.error_check(), Span::call_site());
    let attr = kind.attr();
    let doc = format!(
        "Implemented for every `E: ApiError`: checks the error type of an operation of \
         `{attr}`."
    );
    let message = format!("{attr}: the error type `{{Self}}` does not implement `ApiError`");
    let label = "an operation's error type must implement `ApiError`";
    let note = format!(
        "derive it: `#[derive(ApiError)]` with `#[api_error(status = N)]` on each variant, \
         or return `{}`",
        kind.default_error
    );
    quote! {
        #[doc = #doc]
        #[diagnostic::on_unimplemented(message = #message, label = #label, note = #note)]
        pub trait #name: ::core::marker::Sized {
            /// The error type, asserted `ApiError`.
            fn error_type() -> crate::__private::ErrorType<Self>;
        }

        #[diagnostic::do_not_recommend]
        impl<E: crate::ApiError> #name for E {
            #[inline(always)]
            fn error_type() -> crate::__private::ErrorType<E> {
                crate::__private::error_type::<E>()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_output_check_and_one_check_per_parameter_of_each_kind() {
        let text = check_traits().to_string();
        if let Some(path) = std::env::var_os("DUMP_CHECK_TRAITS") {
            std::fs::write(path, &text).unwrap();
        }
        assert_eq!(text.matches("output_check !").count(), 4 + 3);
        assert_eq!(text.matches("param_check !").count(), 14 + 12);
        assert!(text.contains(
            "\"#[vim_driver]: parameter `template_type` of `find_infrastructure` must be `String`, not `{Self}`\""
        ));
        assert!(text.contains("\"the signature is `async fn delete_infrastructure(&self, infrastructure_id: String, deployment_location: DeploymentLocation) -> Result<DeleteInfrastructureResponse, E>` with `E: ApiError`\""));
        assert!(text.contains(
            "param_check ! (ExecuteLifecycleDriverFiles : DriverFiles , \
             \"#[resource_driver]: parameter `driver_files` of `execute_lifecycle` must be `DriverFiles`, not `{Self}`\""
        ));
        assert!(text.contains(
            "output_check ! (GetLifecycleExecutionOutput : LifecycleExecution , \
             \"#[resource_driver]: `get_lifecycle_execution` must return `Result<LifecycleExecution, E>`, not `{Self}`\""
        ));
    }

    #[test]
    fn one_error_check_per_kind_in_its_words() {
        let text = check_traits().to_string();
        assert!(text.contains("pub trait VimDriverErrorCheck"));
        assert!(text.contains("pub trait ResourceDriverErrorCheck"));
        assert!(text.contains(
            "\"#[resource_driver]: the error type `{Self}` does not implement `ApiError`\""
        ));
        assert!(text.contains("or return `ResourceDriverError`\""));
        assert!(text.contains("or return `InfrastructureError`\""));
    }
}
