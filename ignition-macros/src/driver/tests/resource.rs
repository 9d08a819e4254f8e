//! `#[resource_driver]`'s rules: the same as `#[vim_driver]`'s, over its own table.

use proc_macro2::TokenStream;
use quote::quote;

use super::{compile_errors, driver_impls, RESOURCE};

/// The messages `#[resource_driver]` reports for `item`, in order, in full.
fn full_errors(item: TokenStream) -> Vec<String> {
    super::full_errors(&RESOURCE, item)
}

/// The first line (the rule) of each message `#[resource_driver]` reports for `item`.
fn errors(item: TokenStream) -> Vec<String> {
    super::errors(&RESOURCE, item)
}

/// The macro's whole output.
fn resource_driver(args: TokenStream, input: TokenStream) -> TokenStream {
    super::expand(&RESOURCE, args, input)
}

/// A valid driver with every operation but `skip`, plus `extra` members.
fn driver_with(extra: TokenStream, skip: &str) -> TokenStream {
    let ops = [
        (
            "execute_lifecycle",
            quote! {
                async fn execute_lifecycle(&self, lifecycle_name: String,
                    driver_files: DriverFiles, system_properties: PropValueMap,
                    resource_properties: PropValueMap, request_properties: PropValueMap,
                    associated_topology: AssociatedTopology,
                    deployment_location: DeploymentLocation,
                ) -> Result<LifecycleExecuteResponse, ResourceDriverError> { todo!() }
            },
        ),
        (
            "get_lifecycle_execution",
            quote! {
                async fn get_lifecycle_execution(&self, request_id: String,
                    deployment_location: DeploymentLocation,
                ) -> Result<LifecycleExecution, ResourceDriverError> { todo!() }
            },
        ),
        (
            "find_reference",
            quote! {
                async fn find_reference(&self, instance_name: String, driver_files: DriverFiles,
                    deployment_location: DeploymentLocation,
                ) -> Result<FindReferenceResponse, ResourceDriverError> { todo!() }
            },
        ),
    ];
    let ops = ops
        .into_iter()
        .filter(|(name, _)| *name != skip)
        .map(|(_, op)| op);
    quote! {
        impl ScriptDriver {
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
fn helpers_pub_operations_underscore_names_and_aliases_are_valid() {
    let item = quote! {
        impl<R: Runner + Send + Sync + 'static> ScriptDriver<R> where R: Clone {
            fn helper(&self) -> u32 { 1 }
            async fn execute(self) {}
            pub async fn execute_lifecycle(&self, _lifecycle_name: String, _: DriverFiles,
                _: PropValueMap, _: PropValueMap, _: PropValueMap, _: AssociatedTopology,
                _: DeploymentLocation,
            ) -> Result<LifecycleExecuteResponse, ScriptError> { todo!() }
            pub(crate) async fn get_lifecycle_execution(self: &Self, _a: String,
                _b: DeploymentLocation) -> ScriptResult<LifecycleExecution> { todo!() }
            async fn find_reference(&'static self, _a: String, _b: DriverFiles,
                _c: DeploymentLocation) -> ::std::result::Result<FindReferenceResponse, E> { todo!() }
        }
    };
    assert_eq!(errors(item), Vec::<String>::new());
}

#[test]
fn each_missing_operation_is_reported_with_its_signature() {
    let errors = full_errors(quote!(impl ScriptDriver {}));
    assert_eq!(errors.len(), 3);
    assert_eq!(
        errors[0],
        "#[resource_driver]: missing operation `execute_lifecycle`\nhelp: add \
         `async fn execute_lifecycle(&self, lifecycle_name: String, driver_files: DriverFiles, \
         system_properties: PropValueMap, resource_properties: PropValueMap, \
         request_properties: PropValueMap, associated_topology: AssociatedTopology, \
         deployment_location: DeploymentLocation) \
         -> Result<LifecycleExecuteResponse, ResourceDriverError>` \
         (any error type that implements `ApiError` will do)"
    );
    assert!(errors[1].starts_with(
        "#[resource_driver]: missing operation `get_lifecycle_execution`\nhelp: add \
         `async fn get_lifecycle_execution(&self, request_id: String, \
         deployment_location: DeploymentLocation) \
         -> Result<LifecycleExecution, ResourceDriverError>`"
    ));
    assert!(errors[2].contains("missing operation `find_reference`"));
}

#[test]
fn one_missing_operation() {
    assert_eq!(
        errors(driver_with(quote!(), "find_reference")),
        ["#[resource_driver]: missing operation `find_reference`"]
    );
}

#[test]
fn operation_must_be_async() {
    let item = driver_with(
        quote! {
            fn get_lifecycle_execution(&self, a: String, b: DeploymentLocation)
                -> Result<LifecycleExecution, E> { todo!() }
        },
        "get_lifecycle_execution",
    );
    assert_eq!(
        full_errors(item),
        [
            "#[resource_driver]: `get_lifecycle_execution` must be `async`\n\
          help: the signature is `async fn get_lifecycle_execution(&self, request_id: String, \
          deployment_location: DeploymentLocation) \
          -> Result<LifecycleExecution, ResourceDriverError>`"
        ]
    );
}

fn find_with_receiver(receiver: TokenStream) -> Vec<String> {
    errors(driver_with(
        quote! {
            async fn find_reference(#receiver a: String, b: DriverFiles, c: DeploymentLocation)
                -> Result<FindReferenceResponse, E> { todo!() }
        },
        "find_reference",
    ))
}

#[test]
fn operation_must_take_shared_self() {
    let must = "#[resource_driver]: `find_reference` must take `&self`";
    let why = " (one driver serves every request)";
    assert_eq!(
        find_with_receiver(quote!(self,)),
        [format!("{must}, not `self`{why}")]
    );
    assert_eq!(
        find_with_receiver(quote!(mut self,)),
        [format!("{must}, not `mut self`{why}")]
    );
    assert_eq!(
        find_with_receiver(quote!(&mut self,)),
        [format!("{must}, not `&mut self`{why}")]
    );
    assert_eq!(
        find_with_receiver(quote!(self: ::std::sync::Arc<Self>,)),
        [format!("{must}{why}")]
    );
    assert_eq!(
        find_with_receiver(quote!()),
        [format!("{must} as its first parameter")]
    );
    assert_eq!(find_with_receiver(quote!(&self,)), Vec::<String>::new());
}

#[test]
fn operation_must_have_one_parameter_per_request_field() {
    // `associated_topology`, new in the Resource Driver API, forgotten.
    let item = driver_with(
        quote! {
            async fn execute_lifecycle(&self, lifecycle_name: String,
                driver_files: DriverFiles, system_properties: PropValueMap,
                resource_properties: PropValueMap, request_properties: PropValueMap,
                deployment_location: DeploymentLocation,
            ) -> Result<LifecycleExecuteResponse, ResourceDriverError> { todo!() }
        },
        "execute_lifecycle",
    );
    assert_eq!(
        errors(item),
        ["#[resource_driver]: `execute_lifecycle` takes 7 parameters after `&self`, not 6"]
    );
    let item = driver_with(
        quote! {
            async fn get_lifecycle_execution(&self, infrastructure_id: String,
                request_id: String, deployment_location: DeploymentLocation,
            ) -> Result<LifecycleExecution, ResourceDriverError> { todo!() }
        },
        "get_lifecycle_execution",
    );
    assert_eq!(
        errors(item),
        ["#[resource_driver]: `get_lifecycle_execution` takes 2 parameters after `&self`, not 3"]
    );
}

#[test]
fn operation_must_return_a_result() {
    let item = driver_with(
        quote! {
            async fn find_reference(&self, a: String, b: DriverFiles, c: DeploymentLocation) {}
        },
        "find_reference",
    );
    assert_eq!(
        errors(item),
        ["#[resource_driver]: `find_reference` must return \
          `Result<FindReferenceResponse, E>` where `E: ApiError`"]
    );
}

#[test]
fn an_operation_must_not_be_unsafe_or_generic() {
    let item = driver_with(
        quote! {
            async unsafe fn find_reference<T>(&self, a: String, b: impl AsRef<Path>,
                c: DeploymentLocation) -> Result<FindReferenceResponse, E> { todo!() }
        },
        "find_reference",
    );
    assert_eq!(
        errors(item),
        [
            "#[resource_driver]: `find_reference` must not be `unsafe`",
            "#[resource_driver]: `find_reference` must not be generic",
            "#[resource_driver]: parameter `driver_files` of `find_reference` must be \
             `DriverFiles`, not `impl Trait` (an operation cannot be generic)",
        ]
    );
}

#[test]
fn every_mistake_is_reported_at_once() {
    let item = quote! {
        impl ScriptDriver {
            fn execute_lifecycle(self) -> Result<LifecycleExecuteResponse, E> { todo!() }
            async fn get_lifecycle_execution(&mut self, a: String, b: DeploymentLocation)
                -> Result<LifecycleExecution, E> { todo!() }
            async fn find_refrence(&self) {}
        }
    };
    assert_eq!(
        errors(item),
        [
            "#[resource_driver]: `execute_lifecycle` must be `async`",
            "#[resource_driver]: `execute_lifecycle` must take `&self`, not `self` \
             (one driver serves every request)",
            "#[resource_driver]: `execute_lifecycle` takes 7 parameters after `&self`, not 0",
            "#[resource_driver]: `get_lifecycle_execution` must take `&self`, not `&mut self` \
             (one driver serves every request)",
            "#[resource_driver]: `find_refrence` is not an operation of a resource driver; \
             did you mean `find_reference`?",
        ]
    );
}

#[test]
fn near_misses_are_reported_on_the_method() {
    use super::super::validate::near_miss;
    for (name, op) in [
        ("execute_lifecycles", "execute_lifecycle"),
        ("executeLifecycle", "execute_lifecycle"),
        ("execute_lifecyle", "execute_lifecycle"),
        ("get_lifecycle_executions", "get_lifecycle_execution"),
        ("getLifecycleExecution", "get_lifecycle_execution"),
        ("find_references", "find_reference"),
        ("find_refrence", "find_reference"),
    ] {
        assert!(near_miss(name, op).is_some(), "{name} ~ {op}");
    }
    for (name, op) in [
        ("execute", "execute_lifecycle"),
        ("get_lifecycle", "get_lifecycle_execution"),
        ("find_infrastructure", "find_reference"),
        ("get_execution", "get_lifecycle_execution"),
    ] {
        assert_eq!(near_miss(name, op), None, "{name} !~ {op}");
    }
    let item = driver_with(
        quote! { async fn executeLifecycle(&self) {} },
        "execute_lifecycle",
    );
    let errors = full_errors(item);
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].starts_with(
            "#[resource_driver]: `executeLifecycle` is not an operation of a resource driver; \
             did you mean `execute_lifecycle`?\nhelp: rename it: `async fn execute_lifecycle(&self, "
        ),
        "{errors:?}"
    );
}

#[test]
fn only_inherent_impls_are_accepted() {
    for (item, what) in [
        (
            quote!(
                pub struct ScriptDriver;
            ),
            "a struct",
        ),
        (quote!(impl Clone for ScriptDriver {}), "a trait impl"),
        (
            quote!(
                fn execute_lifecycle() {}
            ),
            "a function",
        ),
    ] {
        assert_eq!(
            full_errors(item),
            [format!(
                "#[resource_driver]: expected an inherent impl block of the driver type \
                 (`impl MyDriver {{ ... }}`), found {what}\n\
                 help: write the three operations in `impl MyDriver {{ ... }}` and put \
                 `#[resource_driver]` on that block"
            )]
        );
    }
}

#[test]
fn arguments_are_rejected_and_the_item_is_still_checked() {
    let output = resource_driver(quote!(lifecycles = "x"), quote!(impl ScriptDriver {}));
    let errors = compile_errors(&output);
    assert_eq!(errors.len(), 4);
    assert_eq!(
        errors[0],
        "#[resource_driver]: unknown argument `lifecycles`\n\
         help: `#[resource_driver]` takes no arguments; write `#[resource_driver]` alone"
    );
}

#[test]
fn valid_input_is_reemitted_then_implements_the_runtime_trait_and_driver() {
    let input = driver_with(
        quote!(
            fn helper(&self) {}
        ),
        "",
    );
    let output = resource_driver(quote!(), input.clone());
    assert!(compile_errors(&output).is_empty());
    let file: syn::File = syn::parse2(output).unwrap();
    assert_eq!(file.items.len(), 3);
    assert_eq!(
        file.items[0],
        syn::parse2::<syn::Item>(input).unwrap(),
        "the author's impl comes first, unchanged"
    );
    let [runtime, _] = driver_impls(&RESOURCE, &file);
    let members: Vec<String> = runtime
        .items
        .iter()
        .map(|item| match item {
            syn::ImplItem::Fn(method) => method.sig.ident.to_string(),
            _ => panic!("only methods"),
        })
        .collect();
    assert_eq!(
        members,
        ["execute", "query", "find_reference", "error_statuses"]
    );
    let text = quote!(#runtime).to_string();
    for expected in [
        quote!(let ::ignition::__private::LifecycleExecuteCall {
            lifecycle_name: __ignition_lifecycle_name,
            driver_files: __ignition_driver_files,
            system_properties: __ignition_system_properties,
            resource_properties: __ignition_resource_properties,
            request_properties: __ignition_request_properties,
            associated_topology: __ignition_associated_topology,
            deployment_location: __ignition_deployment_location,
            ..
        } = __ignition_request;),
        quote!(
            <DriverFiles as ::ignition::__private::FindReferenceDriverFiles>::from_request(
                __ignition_driver_files
            )
        ),
        quote!(<_ as ::ignition::__private::GetLifecycleExecutionOutput>::check),
        quote!(::ignition::__private::Operation::ExecutionQuery =>
            <ResourceDriverError as ::ignition::__private::ResourceDriverErrorCheck>::error_type()
                .statuses(),),
    ] {
        assert!(text.contains(&expected.to_string()), "{expected} in {text}");
    }
}

#[test]
fn invalid_input_gets_placeholders_of_its_kind() {
    let input = driver_with(quote!(), "find_reference");
    let output = resource_driver(quote!(), input.clone());
    assert!(output.to_string().starts_with(&input.to_string()));
    assert_eq!(compile_errors(&output).len(), 1);
    let file: syn::File = syn::parse2(output).unwrap();
    let [runtime, _] = driver_impls(&RESOURCE, &file);
    let text = quote!(#runtime).to_string();
    assert!(
        !text.contains("execute_lifecycle"),
        "the placeholder calls no operation of the author: {text}"
    );
    assert_eq!(runtime.items.len(), 4);
}

#[test]
fn the_error_type_is_the_authors_when_written_as_result() {
    let output = resource_driver(quote!(), driver_with(quote!(), "")).to_string();
    let error_type = quote! {
        <ResourceDriverError as ::ignition::__private::ResourceDriverErrorCheck>::error_type()
    };
    assert_eq!(
        output.matches(&error_type.to_string()).count(),
        6,
        "erasure and statuses of the three operations: {output}"
    );
    let item = driver_with(
        quote! {
            async fn find_reference(&self, a: String, b: DriverFiles, c: DeploymentLocation)
                -> ScriptResult<FindReferenceResponse> { todo!() }
        },
        "find_reference",
    );
    let output = resource_driver(quote!(), item).to_string();
    let alias = quote! {
        < <ScriptResult<FindReferenceResponse> as ::ignition::__private::OperationError>::Err
            as ::ignition::__private::ResourceDriverErrorCheck>::error_type()
    };
    assert!(output.contains(&alias.to_string()), "{output}");
}

#[test]
fn a_syntax_error_in_a_body_still_gets_the_placeholders() {
    let input = quote! {
        impl ScriptDriver {
            async fn execute_lifecycle(&self, a: String, b: DriverFiles, c: PropValueMap,
                d: PropValueMap, e: PropValueMap, f: AssociatedTopology, g: DeploymentLocation)
                -> Result<LifecycleExecuteResponse, ResourceDriverError> { let x = ; }
            async fn get_lifecycle_execution(&self, a: String, b: DeploymentLocation)
                -> Result<LifecycleExecution, ResourceDriverError> { todo!() }
            async fn find_reference(&self, a: String, b: DriverFiles, c: DeploymentLocation)
                -> Result<FindReferenceResponse, ResourceDriverError> { todo!() }
        }
    };
    assert!(syn::parse2::<syn::Item>(input.clone()).is_err());
    let output = resource_driver(quote!(), input.clone()).to_string();
    assert!(
        output.starts_with(&input.to_string()),
        "re-emitted as written"
    );
    assert!(
        output.contains("impl :: ignition :: __private :: ResourceDriver for ScriptDriver"),
        "{output}"
    );
    assert!(
        output.contains("impl :: ignition :: Driver for ScriptDriver"),
        "{output}"
    );
    assert!(!output.contains("execute_lifecycle (self"), "{output}");
}
