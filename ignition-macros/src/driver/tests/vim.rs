//! `#[vim_driver]`'s rules.

use proc_macro2::TokenStream;
use quote::quote;

use super::{compile_errors, driver_impls, VIM};

/// The messages `#[vim_driver]` reports for `item`, in order, in full.
fn full_errors(item: TokenStream) -> Vec<String> {
    super::full_errors(&VIM, item)
}

/// The first line (the rule) of each message `#[vim_driver]` reports for `item`.
fn errors(item: TokenStream) -> Vec<String> {
    super::errors(&VIM, item)
}

/// The macro's whole output.
fn vim_driver(args: TokenStream, input: TokenStream) -> TokenStream {
    super::expand(&VIM, args, input)
}

/// A valid driver whose operations are all the given ones, plus `extra` members.
fn driver_with(extra: TokenStream, skip: &str) -> TokenStream {
    let ops = [
        (
            "create_infrastructure",
            quote! {
                async fn create_infrastructure(&self, template: String, template_type: String,
                    system_properties: PropValueMap, properties: PropValueMap,
                    deployment_location: DeploymentLocation,
                ) -> Result<CreateInfrastructureResponse, InfrastructureError> { todo!() }
            },
        ),
        (
            "get_infrastructure_task",
            quote! {
                async fn get_infrastructure_task(&self, infrastructure_id: String,
                    request_id: String, deployment_location: DeploymentLocation,
                ) -> Result<InfrastructureTask, InfrastructureError> { todo!() }
            },
        ),
        (
            "delete_infrastructure",
            quote! {
                async fn delete_infrastructure(&self, infrastructure_id: String,
                    deployment_location: DeploymentLocation,
                ) -> Result<DeleteInfrastructureResponse, InfrastructureError> { todo!() }
            },
        ),
        (
            "find_infrastructure",
            quote! {
                async fn find_infrastructure(&self, template: String, template_type: String,
                    instance_name: String, deployment_location: DeploymentLocation,
                ) -> Result<FindInfrastructureResponse, InfrastructureError> { todo!() }
            },
        ),
    ];
    let ops = ops
        .into_iter()
        .filter(|(name, _)| *name != skip)
        .map(|(_, op)| op);
    quote! {
        impl EchoDriver {
            #(#ops)*
            #extra
        }
    }
}

#[test]
fn complete_driver_is_valid() {
    assert_eq!(errors(driver_with(quote!(), "")), Vec::<String>::new());
}

#[test]
fn helpers_pub_operations_and_underscore_names_are_valid() {
    let item = quote! {
        impl<C: Cloud + Send + Sync + 'static> EchoDriver<C> where C: Clone {
            fn helper(&self) -> u32 { 1 }
            async fn other(self) {}
            pub async fn create_infrastructure(&self, _template: String, _: String,
                _system_properties: PropValueMap, _properties: PropValueMap,
                _deployment_location: DeploymentLocation,
            ) -> Result<CreateInfrastructureResponse, InfrastructureError> { todo!() }
            pub async fn get_infrastructure_task(&self, _a: String, _b: String,
                _c: DeploymentLocation) -> MyResult<InfrastructureTask> { todo!() }
            pub(crate) async fn delete_infrastructure(self: &Self, _a: String,
                _b: DeploymentLocation) -> Result<DeleteInfrastructureResponse, MyError> { todo!() }
            async fn find_infrastructure(&'static self, _a: String, _b: String, _c: String,
                _d: DeploymentLocation) -> Result<FindInfrastructureResponse, MyError> { todo!() }
        }
    };
    assert_eq!(errors(item), Vec::<String>::new());
}

#[test]
fn each_missing_operation_is_reported_with_its_signature() {
    let errors = full_errors(quote!(impl EchoDriver {}));
    assert_eq!(errors.len(), 4);
    assert_eq!(
        errors[3],
        "#[vim_driver]: missing operation `find_infrastructure`\nhelp: add \
         `async fn find_infrastructure(&self, template: String, template_type: String, \
         instance_name: String, deployment_location: DeploymentLocation) \
         -> Result<FindInfrastructureResponse, InfrastructureError>` \
         (any error type that implements `ApiError` will do)"
    );
    assert!(errors[0].contains("missing operation `create_infrastructure`"));
    assert!(errors[1].contains("missing operation `get_infrastructure_task`"));
    assert!(errors[2].contains("missing operation `delete_infrastructure`"));
}

#[test]
fn one_missing_operation() {
    let errors = errors(driver_with(quote!(), "delete_infrastructure"));
    assert_eq!(
        errors,
        ["#[vim_driver]: missing operation `delete_infrastructure`"]
    );
}

#[test]
fn operation_must_be_async() {
    let item = driver_with(
        quote! {
            fn find_infrastructure(&self, a: String, b: String, c: String,
                d: DeploymentLocation) -> Result<FindInfrastructureResponse, E> { todo!() }
        },
        "find_infrastructure",
    );
    assert_eq!(
        errors(item),
        ["#[vim_driver]: `find_infrastructure` must be `async`"]
    );
}

fn delete_with_receiver(receiver: TokenStream) -> Vec<String> {
    errors(driver_with(
        quote! {
            async fn delete_infrastructure(#receiver a: String, b: DeploymentLocation)
                -> Result<DeleteInfrastructureResponse, E> { todo!() }
        },
        "delete_infrastructure",
    ))
}

#[test]
fn operation_must_take_shared_self() {
    let must = "#[vim_driver]: `delete_infrastructure` must take `&self`";
    let why = " (one driver serves every request)";
    assert_eq!(
        delete_with_receiver(quote!(self,)),
        [format!("{must}, not `self`{why}")]
    );
    assert_eq!(
        delete_with_receiver(quote!(mut self,)),
        [format!("{must}, not `mut self`{why}")]
    );
    assert_eq!(
        delete_with_receiver(quote!(&mut self,)),
        [format!("{must}, not `&mut self`{why}")]
    );
    assert_eq!(
        delete_with_receiver(quote!(self: Box<Self>,)),
        [format!("{must}{why}")]
    );
    assert_eq!(
        delete_with_receiver(quote!()),
        [format!("{must} as its first parameter")]
    );
    assert_eq!(delete_with_receiver(quote!(&self,)), Vec::<String>::new());
    assert_eq!(
        delete_with_receiver(quote!(self: &Self,)),
        Vec::<String>::new()
    );
}

#[test]
fn operation_must_have_one_parameter_per_request_field() {
    let item = driver_with(
        quote! {
            async fn get_infrastructure_task(&self, infrastructure_id: String,
                deployment_location: DeploymentLocation,
            ) -> Result<InfrastructureTask, InfrastructureError> { todo!() }
        },
        "get_infrastructure_task",
    );
    assert_eq!(
        errors(item),
        ["#[vim_driver]: `get_infrastructure_task` takes 3 parameters after `&self`, not 2"]
    );
}

#[test]
fn operation_must_return_a_result() {
    let item = driver_with(
        quote! {
            async fn delete_infrastructure(&self, a: String, b: DeploymentLocation) {}
        },
        "delete_infrastructure",
    );
    assert_eq!(
        errors(item),
        ["#[vim_driver]: `delete_infrastructure` must return \
          `Result<DeleteInfrastructureResponse, E>` where `E: ApiError`"]
    );
}

#[test]
fn every_mistake_is_reported_at_once() {
    let item = quote! {
        impl EchoDriver {
            fn create_infrastructure(self) -> Result<CreateInfrastructureResponse, E> { todo!() }
            async fn get_infrastructure_task(&mut self, a: String, b: String,
                c: DeploymentLocation) -> Result<InfrastructureTask, E> { todo!() }
        }
    };
    let errors = errors(item);
    let expected = [
        "`create_infrastructure` must be `async`",
        "`create_infrastructure` must take `&self`, not `self`",
        "`create_infrastructure` takes 5 parameters after `&self`, not 0",
        "`get_infrastructure_task` must take `&self`, not `&mut self`",
        "missing operation `delete_infrastructure`",
        "missing operation `find_infrastructure`",
    ];
    assert_eq!(errors.len(), expected.len(), "{errors:#?}");
    for (error, expected) in errors.iter().zip(expected) {
        assert!(error.contains(expected), "{error:?} lacks {expected:?}");
    }
}

#[test]
fn only_inherent_impls_are_accepted() {
    let cases = [
        (
            quote!(
                struct EchoDriver;
            ),
            "a struct",
        ),
        (
            quote!(
                fn echo() {}
            ),
            "a function",
        ),
        (quote!(impl Clone for EchoDriver {}), "a trait impl"),
        (quote!(impl !Send for EchoDriver {}), "a trait impl"),
        (
            quote!(
                trait Echo {}
            ),
            "a trait",
        ),
    ];
    for (item, what) in cases {
        assert_eq!(
            errors(item),
            [format!(
                "#[vim_driver]: expected an inherent impl block of the driver type \
                 (`impl MyDriver {{ ... }}`), found {what}"
            )]
        );
    }
}

#[test]
fn arguments_are_rejected_and_the_item_is_still_checked() {
    let output = vim_driver(quote!(port = 8080), quote!(impl EchoDriver {}));
    let errors = compile_errors(&output);
    assert_eq!(errors.len(), 5);
    assert_eq!(
        errors[0],
        "#[vim_driver]: unknown argument `port`\n\
         help: `#[vim_driver]` takes no arguments; write `#[vim_driver]` alone"
    );
}

#[test]
fn invalid_input_is_reemitted_with_a_placeholder_driver_impl() {
    let input = driver_with(quote!(), "find_infrastructure");
    let output = vim_driver(quote!(), input.clone());
    assert!(output.to_string().starts_with(&input.to_string()));
    assert_eq!(compile_errors(&output).len(), 1);
    let file: syn::File = syn::parse2(output).unwrap();
    let [driver, _] = driver_impls(&VIM, &file);
    assert!(
        !quote!(#driver)
            .to_string()
            .contains("create_infrastructure"),
        "the placeholder calls no operation of the author"
    );
}

#[test]
fn a_struct_gets_no_placeholder_driver_impl() {
    let output = vim_driver(
        quote!(),
        quote!(
            struct EchoDriver;
        ),
    );
    let file: syn::File = syn::parse2(output).unwrap();
    assert_eq!(file.items.len(), 2, "the struct and the error");
}

#[test]
fn valid_input_is_reemitted_then_implements_driver() {
    let input = driver_with(quote!(), "");
    let output = vim_driver(quote!(), input.clone());
    assert!(compile_errors(&output).is_empty());
    let file: syn::File = syn::parse2(output).unwrap();
    assert_eq!(
        file.items.len(),
        3,
        "the block, the runtime trait, `ignition::Driver`"
    );
    assert_eq!(
        file.items[0],
        syn::parse2::<syn::Item>(input).unwrap(),
        "the author's impl comes first, unchanged"
    );
    assert_eq!(
        driver_impls(&VIM, &file)[0].items.len(),
        5,
        "four operations and error_statuses"
    );
}

#[test]
fn a_near_miss_is_reported_on_the_method_instead_of_the_missing_operation() {
    let item = driver_with(
        quote! {
            fn helper(&self) {}
            async fn create_infrastucture(&self) {}
        },
        "create_infrastructure",
    );
    assert_eq!(
        errors(item),
        [
            "#[vim_driver]: `create_infrastucture` is not an operation of a VIM driver; \
          did you mean `create_infrastructure`?"
        ]
    );
}

#[test]
fn a_near_miss_of_a_present_operation_is_a_helper() {
    let item = driver_with(quote! { async fn create_infrastructures(&self) {} }, "");
    assert_eq!(errors(item), Vec::<String>::new());
}

#[test]
fn near_misses() {
    use super::super::validate::near_miss;
    for (name, op) in [
        ("create_infrastucture", "create_infrastructure"),
        ("createInfrastructure", "create_infrastructure"),
        ("CreateInfrastructure", "create_infrastructure"),
        ("delete_infrastructures", "delete_infrastructure"),
        ("get_infrastructure_tasks", "get_infrastructure_task"),
        ("find_infrastruture", "find_infrastructure"),
    ] {
        assert!(near_miss(name, op).is_some(), "{name} ~ {op}");
    }
    for (name, op) in [
        ("find_infrastructure", "delete_infrastructure"),
        ("get_infrastructure", "get_infrastructure_task"),
        ("helper", "find_infrastructure"),
        ("get_infra_task", "get_infrastructure_task"),
        ("infrastructure", "find_infrastructure"),
    ] {
        assert_eq!(near_miss(name, op), None, "{name} !~ {op}");
    }
}

#[test]
fn an_operation_must_not_be_unsafe_or_generic() {
    let item = driver_with(
        quote! {
            async unsafe fn delete_infrastructure<T>(&self, a: String, b: DeploymentLocation)
                -> Result<DeleteInfrastructureResponse, E> { todo!() }
        },
        "delete_infrastructure",
    );
    assert_eq!(
        errors(item),
        [
            "#[vim_driver]: `delete_infrastructure` must not be `unsafe`",
            "#[vim_driver]: `delete_infrastructure` must not be generic",
        ]
    );
    let item = driver_with(
        quote! {
            async fn find_infrastructure(&self, a: String, b: impl Into<String>, c: String,
                d: DeploymentLocation) -> Result<FindInfrastructureResponse, E> { todo!() }
        },
        "find_infrastructure",
    );
    assert_eq!(
        errors(item),
        [
            "#[vim_driver]: parameter `template_type` of `find_infrastructure` must be `String`, \
          not `impl Trait` (an operation cannot be generic)"
        ]
    );
}

#[test]
fn too_many_parameters_and_no_receiver() {
    let item = driver_with(
        quote! {
            async fn delete_infrastructure(a: String, b: DeploymentLocation, c: bool)
                -> Result<DeleteInfrastructureResponse, E> { todo!() }
        },
        "delete_infrastructure",
    );
    assert_eq!(
        errors(item),
        [
            "#[vim_driver]: `delete_infrastructure` must take `&self` as its first parameter",
            "#[vim_driver]: `delete_infrastructure` takes 2 parameters after `&self`, not 3",
        ]
    );
}

#[test]
fn unparsable_arguments_are_one_error() {
    let output = vim_driver(quote!(= 1), driver_with(quote!(), ""));
    assert_eq!(
        compile_errors(&output),
        ["#[vim_driver]: unexpected arguments\n\
          help: `#[vim_driver]` takes no arguments; write `#[vim_driver]` alone"]
    );
}

#[test]
fn the_error_type_is_the_authors_when_written_as_result() {
    let output = vim_driver(quote!(), driver_with(quote!(), "")).to_string();
    let error_type =
        quote!(<InfrastructureError as ::ignition::__private::VimDriverErrorCheck>::error_type());
    assert_eq!(
        output.matches(&error_type.to_string()).count(),
        8,
        "erasure and statuses of the four operations: {output}"
    );
    let item = driver_with(
        quote! {
            async fn find_infrastructure(&self, a: String, b: String, c: String,
                d: DeploymentLocation) -> MyResult<FindInfrastructureResponse> { todo!() }
        },
        "find_infrastructure",
    );
    let output = vim_driver(quote!(), item).to_string();
    let alias = quote! {
        <MyResult<FindInfrastructureResponse> as ::ignition::__private::OperationError>::Err
    };
    assert!(output.contains(&alias.to_string()), "{output}");
}

#[test]
fn a_syntax_error_in_a_body_still_gets_the_placeholder_impl() {
    let input = quote! {
        impl EchoDriver {
            async fn create_infrastructure(&self, a: String, b: String, c: PropValueMap,
                d: PropValueMap, e: DeploymentLocation)
                -> Result<CreateInfrastructureResponse, InfrastructureError> { let x = ; }
            async fn get_infrastructure_task(&self, a: String, b: String, c: DeploymentLocation)
                -> Result<InfrastructureTask, InfrastructureError> { todo!() }
            async fn delete_infrastructure(&self, a: String, b: DeploymentLocation)
                -> Result<DeleteInfrastructureResponse, InfrastructureError> { todo!() }
            async fn find_infrastructure(&self, a: String, b: String, c: String,
                d: DeploymentLocation) -> Result<FindInfrastructureResponse, InfrastructureError> { todo!() }
        }
    };
    assert!(
        syn::parse2::<syn::Item>(input.clone()).is_err(),
        "the body does not parse"
    );
    let output = vim_driver(quote!(), input.clone()).to_string();
    assert!(
        output.starts_with(&input.to_string()),
        "re-emitted as written"
    );
    assert!(
        output.contains("impl :: ignition :: __private :: VimDriver for EchoDriver"),
        "with the placeholder impl: {output}"
    );
    assert!(
        !output.contains("create_infrastructure (self"),
        "which calls no method of the author: {output}"
    );
}
