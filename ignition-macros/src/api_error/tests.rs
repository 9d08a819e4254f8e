//! Attribute rules of `#[derive(ApiError)]`, checked on syn nodes without a compiler run
//! (the exact compiler output is pinned by the trybuild fixtures of `ui-tests`).

use proc_macro2::TokenStream;
use quote::quote;

use super::derive_api_error;

/// The derive's output, parsed.
fn expand(input: TokenStream) -> syn::File {
    syn::parse2(derive_api_error(input)).expect("output parses as items")
}

/// The first line (the rule) of each compile error in the derive's output, in order.
fn errors(input: TokenStream) -> Vec<String> {
    expand(input)
        .items
        .iter()
        .filter_map(|item| match item {
            syn::Item::Macro(m) if m.mac.path.segments.last().unwrap().ident == "compile_error" => {
                let message = m.mac.parse_body::<syn::LitStr>().unwrap().value();
                Some(message.lines().next().unwrap().to_owned())
            }
            _ => None,
        })
        .collect()
}

/// The `ApiError` impl in the output, and the names of its methods.
fn impl_methods(input: TokenStream) -> (syn::ItemImpl, Vec<String>) {
    let file = expand(input);
    let [syn::Item::Impl(item)] = &file.items[..] else {
        panic!("one impl, no error: {:#?}", file.items)
    };
    let methods = item
        .items
        .iter()
        .filter_map(|member| match member {
            syn::ImplItem::Fn(f) => Some(f.sig.ident.to_string()),
            _ => None,
        })
        .collect();
    (item.clone(), methods)
}

#[test]
fn every_variant_with_a_status_is_valid() {
    let (item, methods) = impl_methods(quote! {
        enum E {
            #[api_error(status = 503)]
            A,
            #[api_error(status = 409)]
            B(String),
            #[api_error(status = 409)]
            C { x: u8 },
        }
    });
    assert_eq!(
        methods,
        ["status", "statuses"],
        "retry and extra_fields: defaults"
    );
    let statuses = quote!(#item).to_string();
    assert!(
        statuses.contains(&quote!(::std::vec![409, 503]).to_string()),
        "each status once, in order: {statuses}"
    );
}

#[test]
fn retry_and_fields_add_their_methods() {
    let (_, methods) = impl_methods(quote! {
        enum E {
            #[api_error(status = 503, retry)]
            A,
            #[api_error(status = 409)]
            B(#[api_error(field = "b")] String),
        }
    });
    assert_eq!(methods, ["status", "retry", "extra_fields", "statuses"]);
}

#[test]
fn a_struct_takes_the_attribute_itself() {
    let (_, methods) = impl_methods(quote! {
        #[api_error(status = 429, retry)]
        struct Busy { #[api_error(field)] seconds: u32 }
    });
    assert_eq!(methods, ["status", "retry", "extra_fields", "statuses"]);
}

#[test]
fn an_empty_enum_never_fails() {
    let (_, methods) = impl_methods(quote!(
        enum Never {}
    ));
    assert_eq!(methods, ["status", "statuses"]);
}

#[test]
fn a_missing_status_is_reported_per_variant() {
    let errors = errors(quote! {
        enum E {
            A,
            #[api_error(status = 409)]
            B,
            C(String),
        }
    });
    assert_eq!(
        errors,
        [
            "#[derive(ApiError)]: variant `A` has no status",
            "#[derive(ApiError)]: variant `C` has no status",
        ]
    );
    assert_eq!(
        self::errors(quote!(
            struct S;
        )),
        ["#[derive(ApiError)]: struct `S` has no status"]
    );
}

#[test]
fn a_status_is_an_integer_from_400_to_599() {
    for (status, found) in [
        (quote!(399), "399"),
        (quote!(600), "600"),
        (quote!(200), "200"),
        (quote!(70000), "70000"),
        (quote!(-1), "`- 1`"),
        (quote!("409"), "`\"409\"`"),
        (quote!(CONFLICT), "`CONFLICT`"),
    ] {
        let errors = errors(quote! {
            enum E {
                #[api_error(status = #status)]
                A,
            }
        });
        assert_eq!(
            errors,
            [format!(
                "#[derive(ApiError)]: the status of `A` must be an HTTP error status, \
                 from 400 to 599, not {found}"
            )],
            "a malformed status is not also reported missing"
        );
    }
    for status in [400, 599] {
        let (_, _) = impl_methods(quote! {
            enum E {
                #[api_error(status = #status)]
                A,
            }
        });
    }
}

#[test]
fn malformed_attributes() {
    let cases = [
        (
            quote!(#[api_error(status = 409, code = 1)]),
            "#[derive(ApiError)]: unknown key `code` on variant `A`",
        ),
        (
            quote!(#[api_error(status = 409)] #[api_error(status = 410)]),
            "#[derive(ApiError)]: `status` of `A` is given twice",
        ),
        (
            quote!(#[api_error(status = 409, retry, retry)]),
            "#[derive(ApiError)]: `retry` of `A` is given twice",
        ),
        (
            quote!(#[api_error(status = 503, retry = true)]),
            "#[derive(ApiError)]: `retry` of `A` takes no value",
        ),
        (
            quote!(#[api_error(status)]),
            "#[derive(ApiError)]: `status` of `A` needs a value",
        ),
        (
            quote!(#[api_error]),
            "#[derive(ApiError)]: `#[api_error]` needs keys",
        ),
        (
            quote!(#[api_error(status = 409, field)]),
            "#[derive(ApiError)]: `field` belongs on a field of `A`, not on the variant",
        ),
    ];
    for (attrs, expected) in cases {
        let errors = errors(quote! {
            enum E {
                #attrs
                A,
            }
        });
        assert_eq!(errors, [expected], "{attrs}");
    }
}

#[test]
fn the_attribute_belongs_on_the_variants_of_an_enum() {
    let errors = errors(quote! {
        #[api_error(status = 409)]
        enum E {
            #[api_error(status = 409)]
            A,
        }
    });
    assert_eq!(
        errors,
        ["#[derive(ApiError)]: `#[api_error(...)]` belongs on each variant of `E`, not on the enum"]
    );
}

#[test]
fn field_rules() {
    let cases = [
        (
            quote!(A(
                #[api_error(field)]
                String
            )),
            "#[derive(ApiError)]: field 0 of `A` has no name for the error body",
        ),
        (
            quote!(A {
                #[api_error(field = "localizedMessage")]
                m: String
            }),
            "#[derive(ApiError)]: a field of `A` cannot be named `localizedMessage` in the \
             error body: the body's own `localizedMessage` is set by Ignition",
        ),
        (
            quote!(A {
                #[api_error(field)]
                x: u8,
                #[api_error(field = "x")]
                y: u8
            }),
            "#[derive(ApiError)]: two fields of `A` are named `x` in the error body",
        ),
        (
            quote!(A {
                #[api_error(retry)]
                x: u8
            }),
            "#[derive(ApiError)]: `retry` belongs on the variant `A`, not on one of its fields",
        ),
        (
            quote!(A {
                #[api_error(field = 1)]
                x: u8
            }),
            "#[derive(ApiError)]: the name of a field in the error body is a string",
        ),
        (
            quote!(A {
                #[api_error(flatten)]
                x: u8
            }),
            "#[derive(ApiError)]: unknown key `flatten` on a field of `A`",
        ),
        (
            quote!(A {
                #[api_error(field, field)]
                x: u8
            }),
            "#[derive(ApiError)]: `field` is given twice on a field of `A`",
        ),
    ];
    for (variant, expected) in cases {
        let errors = errors(quote! {
            enum E {
                #[api_error(status = 409)]
                #variant,
            }
        });
        assert_eq!(errors, [expected], "{variant}");
    }
}

#[test]
fn a_union_is_rejected() {
    let file = expand(quote! {
        union U { a: u32 }
    });
    assert_eq!(file.items.len(), 1, "no placeholder impl for a union");
    assert_eq!(
        errors(quote!(
            union U {
                a: u32,
            }
        )),
        ["#[derive(ApiError)]: `U` is a union; an error type must be an enum or a struct"]
    );
}

#[test]
fn errors_come_with_a_placeholder_impl_and_all_at_once() {
    let file = expand(quote! {
        enum E {
            A,
            #[api_error(status = 1)]
            B,
        }
    });
    let impls = file
        .items
        .iter()
        .filter(|item| matches!(item, syn::Item::Impl(_)))
        .count();
    assert_eq!(
        (file.items.len(), impls),
        (3, 1),
        "two errors, one placeholder"
    );
}

#[test]
fn every_message_has_a_help_line() {
    let output = derive_api_error(quote! {
        #[api_error(status = 409)]
        enum E {
            A,
            #[api_error(status = 1, code)]
            B(#[api_error(field)] u8),
            #[api_error(status = 409)]
            #[api_error(status = 409, retry, retry)]
            C { #[api_error(field, field)] x: u8, #[api_error(field = "status")] y: u8 },
            #[api_error(status = 409, field)]
            D { #[api_error(field = "z")] x: u8, #[api_error(field = "z")] y: u8 },
            #[api_error]
            F,
        }
    });
    let file: syn::File = syn::parse2(output).unwrap();
    for item in &file.items {
        if let syn::Item::Macro(m) = item {
            let message = m.mac.parse_body::<syn::LitStr>().unwrap().value();
            assert!(message.contains("\nhelp: "), "{message}");
        }
    }
}
