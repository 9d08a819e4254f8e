//! The generated `impl ::ignition::__private::ApiError`.

use std::collections::BTreeSet;

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::{DeriveInput, Ident};

use super::parse::{ErrorType, Variant};

/// The `ApiError` impl of a validated error type: `status`, `retry` and `extra_fields`
/// match on the variant; `statuses` lists each status once, in order, for the OpenAPI
/// document. `retry` and `extra_fields` are left to the trait's defaults when no variant
/// uses them.
///
/// Every path is absolute, so the expansion compiles under `#![no_implicit_prelude]`.
pub(crate) fn api_error_impl(error_type: &ErrorType<'_>) -> TokenStream {
    let variants = &error_type.variants;
    let pattern = |variant: &Variant<'_>| {
        let ident = variant.ident;
        if error_type.is_enum {
            quote!(Self::#ident)
        } else {
            quote!(Self)
        }
    };

    // A struct's value; an enum's, per variant.
    let per_variant = |value: &dyn Fn(&Variant<'_>) -> TokenStream| {
        if error_type.is_enum {
            let arms = variants.iter().map(|variant| {
                let pattern = pattern(variant);
                let value = value(variant);
                quote!(#pattern { .. } => #value,)
            });
            quote!(match *self { #(#arms)* })
        } else {
            value(&variants[0])
        }
    };

    let status = per_variant(&|variant| {
        let (status, span) = variant.status.expect("validate reports a missing status");
        let mut status = proc_macro2::Literal::u16_unsuffixed(status);
        status.set_span(span);
        quote!(#status)
    });
    let status = quote! {
        fn status(&self) -> ::core::primitive::u16 {
            #status
        }
    };

    let retry = variants.iter().any(|v| v.retry).then(|| {
        let retry = per_variant(&|variant| {
            let retry = variant.retry;
            quote!(#retry)
        });
        quote! {
            fn retry(&self) -> ::core::primitive::bool {
                #retry
            }
        }
    });

    let extra_fields = variants
        .iter()
        .any(|v| !v.fields.is_empty())
        .then(|| extra_fields(variants, pattern));

    let statuses: BTreeSet<u16> = variants
        .iter()
        .filter_map(|v| v.status)
        .map(|(s, _)| s)
        .collect();
    let statuses = statuses
        .into_iter()
        .map(proc_macro2::Literal::u16_unsuffixed);

    // A field whose type names a type parameter must serialise for every argument: bound
    // it. Other field types are checked where they are inserted, on the author's type.
    let type_params: Vec<&Ident> = error_type
        .input
        .generics
        .type_params()
        .map(|param| &param.ident)
        .collect();
    let bounds = variants
        .iter()
        .flat_map(|v| &v.fields)
        .filter(|field| mentions(field.ty.to_token_stream(), &type_params))
        .map(|field| {
            let ty = field.ty;
            quote_spanned!(ty.span()=> #ty: ::ignition::__private::ErrorField)
        });
    impl_api_error(
        error_type.input,
        quote!(#(#bounds,)*),
        quote! {
            #status
            #retry
            #extra_fields
            fn statuses() -> ::std::vec::Vec<::core::primitive::u16> {
                ::std::vec![#(#statuses),*]
            }
        },
    )
}

/// Whether `tokens` name one of `idents`.
fn mentions(tokens: TokenStream, idents: &[&Ident]) -> bool {
    tokens.into_iter().any(|token| match token {
        TokenTree::Ident(ident) => idents.contains(&&ident),
        TokenTree::Group(group) => mentions(group.stream(), idents),
        _ => false,
    })
}

/// `extra_fields`: the marked fields of the variant at hand, by their keys.
fn extra_fields(
    variants: &[Variant<'_>],
    pattern: impl Fn(&Variant<'_>) -> TokenStream,
) -> TokenStream {
    let fields = Ident::new("__ignition_fields", Span::mixed_site());
    let arms =
        variants
            .iter()
            .filter(|v| !v.fields.is_empty())
            .map(|variant| {
                let pattern = pattern(variant);
                let (members, bindings): (Vec<_>, Vec<_>) = variant
                    .fields
                    .iter()
                    .enumerate()
                    .map(|(i, field)| {
                        let binding =
                            format_ident!("__ignition_field{}", i, span = Span::mixed_site());
                        (&field.member, binding)
                    })
                    .unzip();
                // Each insert names the field's type, located there: a type that does not
                // serialise is reported on it.
                let inserts = variant.fields.iter().zip(&bindings).map(|(field, binding)| {
                let (key, _) = field.key.as_ref().expect("validate reports a field without a key");
                let ty = field.ty;
                quote_spanned! {ty.span()=>
                    ::ignition::__private::insert_field::<#ty>(&mut #fields, #key, #binding);
                }
            });
                quote! {
                    #pattern { #(#members: #bindings,)* .. } => {
                        #(#inserts)*
                    }
                }
            });
    let all_have_fields = variants.iter().all(|v| !v.fields.is_empty());
    let rest = (!all_have_fields).then(|| quote!(_ => {}));
    quote! {
        fn extra_fields(
            &self,
        ) -> ::ignition::__private::JsonMap<::std::string::String, ::ignition::__private::JsonValue> {
            let mut #fields = ::ignition::__private::JsonMap::new();
            match self {
                #(#arms)*
                #rest
            }
            #fields
        }
    }
}

/// The impl emitted beside errors: it compiles whatever the attributes say, so that the
/// type's uses as an `ApiError` raise no error of their own. It never runs: the
/// `compile_error!`s beside it stop the build.
pub(crate) fn fallback_impl(input: &DeriveInput) -> TokenStream {
    impl_api_error(
        input,
        TokenStream::new(),
        quote! {
            fn status(&self) -> ::core::primitive::u16 {
                ::core::unreachable!()
            }
            fn statuses() -> ::std::vec::Vec<::core::primitive::u16> {
                ::core::unreachable!()
            }
        },
    )
}

/// `impl<generics> ApiError for Type<generics> where ..., bounds { members }`.
fn impl_api_error(input: &DeriveInput, bounds: TokenStream, members: TokenStream) -> TokenStream {
    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let predicates = where_clause.map(|w| &w.predicates);
    let where_clause =
        (predicates.is_some() || !bounds.is_empty()).then(|| quote!(where #predicates #bounds));
    quote! {
        #[automatically_derived]
        impl #impl_generics ::ignition::__private::ApiError for #ident #ty_generics #where_clause {
            #members
        }
    }
}
