//! The check traits of `ignition::__private`, generated from [`OPERATIONS`]: the same
//! table the macro validates against names the traits it asserts, so the two agree by
//! construction. `ignition` invokes `__check_traits!()` once; each line expands its own
//! `output_check!` / `param_check!` (macro_rules in `ignition/src/__private.rs`).

use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

use super::operations::{Operation, OPERATIONS};

/// `output_check!(...)` and one `param_check!(...)` per parameter, for every operation.
pub(crate) fn check_traits() -> TokenStream {
    OPERATIONS.iter().map(operation_checks).collect()
}

fn operation_checks(op: &Operation) -> TokenStream {
    let signature = signature(op);
    let output = Ident::new(op.output_check, Span::call_site());
    let response = Ident::new(op.response, Span::call_site());
    let message = format!(
        "#[vim_driver]: `{}` must return `Result<{}, E>`, not `{{Self}}`",
        op.name, op.response
    );
    let label = format!("expected `Result<{}, E>` where `E: ApiError`", op.response);
    let note = format!("the signature is `{signature}` with `E: ApiError`");
    let params = op.params.iter().map(|param| {
        let check = Ident::new(param.check, Span::call_site());
        let ty = Ident::new(param.ty, Span::call_site());
        let message = format!(
            "#[vim_driver]: parameter `{}` of `{}` must be `{}`, not `{{Self}}`",
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

/// `async fn name(&self, field: Type, ...) -> Result<Response, E>`.
fn signature(op: &Operation) -> String {
    let params: Vec<String> = op
        .params
        .iter()
        .map(|param| format!("{}: {}", param.field, param.ty))
        .collect();
    format!(
        "async fn {}(&self, {}) -> Result<{}, E>",
        op.name,
        params.join(", "),
        op.response
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_output_check_and_one_check_per_parameter() {
        let text = check_traits().to_string();
        if let Some(path) = std::env::var_os("DUMP_CHECK_TRAITS") {
            std::fs::write(path, &text).unwrap();
        }
        assert_eq!(text.matches("output_check !").count(), 4);
        assert_eq!(text.matches("param_check !").count(), 14);
        assert!(text.contains(
            "\"#[vim_driver]: parameter `template_type` of `find_infrastructure` must be `String`, not `{Self}`\""
        ));
        assert!(text.contains("\"the signature is `async fn delete_infrastructure(&self, infrastructure_id: String, deployment_location: DeploymentLocation) -> Result<DeleteInfrastructureResponse, E>` with `E: ApiError`\""));
    }
}
