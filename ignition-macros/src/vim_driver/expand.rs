//! The generated `impl ::ignition::__private::Driver` for a validated impl block.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{FnArg, ImplItemFn, ReturnType};

use super::operations::{Operation, OPERATIONS};
use super::parse::DriverImpl;

/// The `Driver` impl: one associated error type and one forwarding method per operation.
///
/// Every path is absolute (`::ignition::__private::…`, `::core::…`), so the expansion
/// compiles under `#![no_implicit_prelude]` and needs no dependency but `ignition`.
pub(crate) fn driver_impl(driver: &DriverImpl<'_>) -> TokenStream {
    let item = driver.item;
    let self_ty = &item.self_ty;
    let (impl_generics, _, where_clause) = item.generics.split_for_impl();

    let (error_types, methods): (Vec<_>, Vec<_>) = OPERATIONS
        .iter()
        .zip(&driver.methods)
        .map(|(op, method)| {
            let method = method.expect("validate reports a missing operation");
            (error_type(op, method), forward(op, method, self_ty))
        })
        .unzip();

    quote! {
        impl #impl_generics ::ignition::__private::Driver for #self_ty #where_clause {
            #(#error_types)*
            #(#methods)*
        }
    }
}

/// `type CreateError = <declared return type as OperationResult>::Err;`, spanned on the
/// author's return type so that "`E` does not implement `ApiError`" points there.
fn error_type(op: &Operation, method: &ImplItemFn) -> TokenStream {
    let name = Ident::new(op.error_type, Span::call_site());
    let ReturnType::Type(_, ret) = &method.sig.output else {
        unreachable!("validate reports a missing return type")
    };
    quote_spanned! {ret.span()=>
        type #name = <#ret as ::ignition::__private::OperationResult>::Err;
    }
}

/// The `Driver` method that unpacks the request and calls the author's method.
///
/// Locals get mixed-site hygiene (they cannot clash with the author's names, even with a
/// const generic of the same name); each argument is located at the author's parameter
/// and the call at the author's method name, so type errors and a non-`Send` future are
/// reported on the author's code.
fn forward(op: &Operation, method: &ImplItemFn, self_ty: &syn::Type) -> TokenStream {
    let driver_method = Ident::new(op.driver_method, Span::call_site());
    let request_ty = Ident::new(op.request, Span::call_site());
    let response_ty = Ident::new(op.response, Span::call_site());
    let error_ty = Ident::new(op.error_type, Span::call_site());
    let request = Ident::new("__ignition_request", Span::mixed_site());

    let typed_params = method.sig.inputs.iter().filter_map(|input| match input {
        FnArg::Typed(param) => Some(param),
        FnArg::Receiver(_) => None,
    });
    let (fields, locals): (Vec<_>, Vec<_>) = op
        .params
        .iter()
        .zip(typed_params)
        .map(|((field, _), param)| {
            let field = Ident::new(field, Span::call_site());
            let local = format_ident!(
                "__ignition_{}",
                field,
                span = Span::mixed_site().located_at(param.ty.span())
            );
            (field, local)
        })
        .unzip();

    let name = &method.sig.ident;
    let call = quote_spanned! {name.span()=>
        <#self_ty>::#name(self, #(#locals),*)
    };
    // A wrong success type and a non-`Send` future are reported on the returned
    // `impl Future + Send`: put it on the author's method name.
    let future = quote_spanned! {name.span()=>
        impl ::core::future::Future<
            Output = ::core::result::Result<::ignition::__private::#response_ty, Self::#error_ty>,
        > + ::core::marker::Send
    };

    quote! {
        fn #driver_method(
            &self,
            #request: ::ignition::__private::#request_ty,
        ) -> #future {
            let ::ignition::__private::#request_ty { #(#fields: #locals,)* .. } = #request;
            #call
        }
    }
}
