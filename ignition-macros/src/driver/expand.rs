//! The generated impls for a validated impl block, and the placeholders emitted beside
//! the errors of an invalid one: the kind's runtime trait
//! (`ignition::__private::VimDriver` or `ResourceDriver`), which forwards each operation
//! to the author's method, and the public `ignition::Driver`, which tells `App::driver`
//! which API to serve.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{FnArg, GenericArgument, ImplItemFn, ItemImpl, PathArguments, ReturnType, Type};

use super::kinds::{Kind, Operation};
use super::parse::DriverImpl;

/// The runtime trait's impl (one forwarding method per operation, and the statuses of
/// each operation's error type), then `ignition::Driver`'s.
///
/// Every path is absolute (`::ignition::__private::…`, `::core::…`), so the expansion
/// compiles under `#![no_implicit_prelude]` and needs no dependency but `ignition`. The
/// author's error types appear only inside method bodies (converted to `DriverError`
/// there), never in a signature: a `pub` driver may have a private error type.
pub(crate) fn driver_impl(driver: &DriverImpl<'_>) -> TokenStream {
    let (kind, item) = (driver.kind, driver.item);
    let (statuses, methods): (Vec<_>, Vec<_>) = kind
        .operations
        .iter()
        .zip(&driver.methods)
        .map(|(op, method)| {
            let method = method.expect("validate reports a missing operation");
            let error = error_type(method);
            let variant = Ident::new(op.variant, Span::call_site());
            let checked_error = checked_error_type(kind, &error);
            let statuses = quote! {
                ::ignition::__private::Operation::#variant => #checked_error.statuses(),
            };
            (statuses, forward(kind, op, method, &item.self_ty, &error))
        })
        .unzip();
    let operation = Ident::new("__ignition_operation", Span::mixed_site());
    impls(
        kind,
        item,
        quote! {
            #(#methods)*
            fn error_statuses(
                #operation: ::ignition::__private::Operation,
            ) -> ::std::vec::Vec<u16> {
                match #operation {
                    #(#statuses)*
                    _ => ::std::vec::Vec::new(),
                }
            }
        },
    )
}

/// The impls emitted after errors: no operation is called, so that the author's mistakes
/// are the only errors, not also "`Driver` is not implemented" wherever the driver is
/// used (`App::driver` needs `ignition::Driver`; the runtime trait is there too, as
/// `ignition::Driver::__serve` of the kind requires it). They never run: the
/// `compile_error!`s beside them stop the build.
pub(crate) fn fallback_impl(kind: &Kind, item: &ItemImpl) -> TokenStream {
    let members = kind.operations.iter().map(|op| {
        let driver_method = Ident::new(op.driver_method, Span::call_site());
        let request_ty = Ident::new(op.request, Span::call_site());
        let response_ty = Ident::new(op.response, Span::call_site());
        quote! {
            fn #driver_method(
                &self,
                _: ::ignition::__private::#request_ty,
            ) -> impl ::core::future::Future<
                Output = ::core::result::Result<
                    ::ignition::__private::#response_ty,
                    ::ignition::__private::DriverError,
                >,
            > + ::core::marker::Send {
                ::core::future::pending()
            }
        }
    });
    impls(
        kind,
        item,
        quote! {
            #(#members)*
            fn error_statuses(_: ::ignition::__private::Operation) -> ::std::vec::Vec<u16> {
                ::std::vec::Vec::new()
            }
        },
    )
}

/// `impl<generics> RuntimeTrait for SelfTy where ... { members }` and
/// `impl<generics> ::ignition::Driver for SelfTy where ... { __serve }`, with the
/// author's generics.
fn impls(kind: &Kind, item: &ItemImpl, members: TokenStream) -> TokenStream {
    let self_ty = &item.self_ty;
    let (impl_generics, _, where_clause) = item.generics.split_for_impl();
    let runtime_trait = Ident::new(kind.runtime_trait, Span::call_site());
    let serve = Ident::new(kind.serve, Span::call_site());
    quote! {
        impl #impl_generics ::ignition::__private::#runtime_trait for #self_ty #where_clause {
            #members
        }
        impl #impl_generics ::ignition::Driver for #self_ty #where_clause {
            fn __serve() -> ::ignition::__private::Serve<Self> {
                ::ignition::__private::Serve::<Self>::#serve()
            }
        }
    }
}

/// `ErrorType<E>` of the author's `E`, through the kind's error check, located at `E`:
/// an `E` that is not `ApiError` is reported there, in the kind's words (named twice, for
/// the erasure and the statuses: the same obligation at the same place, reported once).
fn checked_error_type(kind: &Kind, error: &TokenStream) -> TokenStream {
    let check = Ident::new(&kind.error_check(), Span::call_site());
    quote_spanned! {error.span()=>
        <#error as ::ignition::__private::#check>::error_type()
    }
}

/// The operation's error type `E`: the author's own tokens when the return type is
/// written `Result<T, E>` (so that "`E` does not implement `ApiError`" points at `E`),
/// otherwise (an alias) named through `OperationError`, which also names a placeholder
/// for the likely mistakes, so that only the output check reports them.
fn error_type(method: &ImplItemFn) -> TokenStream {
    let ret = return_type(method);
    match written_error_type(ret) {
        Some(error) => quote!(#error),
        None => quote_spanned! {ret.span()=>
            <#ret as ::ignition::__private::OperationError>::Err
        },
    }
}

/// The declared return type; validation reported a missing one.
fn return_type(method: &ImplItemFn) -> &Type {
    match &method.sig.output {
        ReturnType::Type(_, ret) => ret,
        ReturnType::Default => unreachable!("validate reports a missing return type"),
    }
}

/// `E` of a return type written `Result<T, E>` (with any path to `Result`).
fn written_error_type(ret: &Type) -> Option<&Type> {
    let Type::Path(path) = ret else { return None };
    let last = path.path.segments.last()?;
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match (last.ident == "Result", args.args.len(), args.args.last()) {
        (true, 2, Some(GenericArgument::Type(error))) => Some(error),
        _ => None,
    }
}

/// The runtime trait's method that unpacks the request and calls the author's method.
///
/// Each argument passes through the parameter's check trait, located at the author's
/// parameter type, and the call's future through the operation's output check, located
/// at the author's return type: a wrong type is reported there, in the macro's words.
/// Locals get mixed-site hygiene (they cannot clash with the author's names, even with a
/// const generic of the same name).
fn forward(
    kind: &Kind,
    op: &Operation,
    method: &ImplItemFn,
    self_ty: &Type,
    error: &TokenStream,
) -> TokenStream {
    let driver_method = Ident::new(op.driver_method, Span::call_site());
    let request_ty = Ident::new(op.request, Span::call_site());
    let response_ty = Ident::new(op.response, Span::call_site());
    let output_check = Ident::new(&op.output_check(), Span::call_site());
    let request = Ident::new("__ignition_request", Span::mixed_site());

    let typed_params = method.sig.inputs.iter().filter_map(|input| match input {
        FnArg::Typed(param) => Some(param),
        FnArg::Receiver(_) => None,
    });
    let (fields, (locals, args)): (Vec<_>, (Vec<_>, Vec<_>)) = op
        .params
        .iter()
        .zip(typed_params)
        .map(|(param, written)| {
            let field = Ident::new(param.field, Span::call_site());
            let local = format_ident!("__ignition_{}", field, span = Span::mixed_site());
            let check = Ident::new(&op.param_check(param), Span::call_site());
            let ty = &written.ty;
            let arg = quote_spanned! {ty.span()=>
                <#ty as ::ignition::__private::#check>::from_request(#local)
            };
            (field, (local, arg))
        })
        .unzip();

    let name = &method.sig.ident;
    let call = quote_spanned! {name.span()=>
        <#self_ty>::#name(self, #(#args),*)
    };
    // `Self` of the check is inferred from the future's output, so every token of the
    // check is located at the return type and a wrong one is reported once, there.
    let ret = return_type(method);
    let checked = quote_spanned! {ret.span()=>
        <_ as ::ignition::__private::#output_check>::check(#call)
    };
    // A future that is not `Send` is reported on the returned `impl Future + Send`: put
    // it on the author's method name.
    let future = quote_spanned! {name.span()=>
        impl ::core::future::Future<
            Output = ::core::result::Result<
                ::ignition::__private::#response_ty,
                ::ignition::__private::DriverError,
            >,
        > + ::core::marker::Send
    };
    // The error is erased at the author's `E`, so that an `E` that is not `ApiError` is
    // reported there.
    let erase = checked_error_type(kind, error);

    quote! {
        fn #driver_method(
            &self,
            #request: ::ignition::__private::#request_ty,
        ) -> #future {
            let ::ignition::__private::#request_ty { #(#fields: #locals,)* .. } = #request;
            #erase.erase(#checked)
        }
    }
}
