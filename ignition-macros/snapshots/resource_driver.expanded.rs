pub struct ScriptDriver<R> {
    runner: R,
}
#[derive(Debug, thiserror::Error, ApiError)]
enum ScriptError {
    #[error("the script failed: {0}")]
    #[api_error(status = 400)]
    Failed(String),
}
#[automatically_derived]
impl ::ignition::__private::ApiError for ScriptError {
    fn status(&self) -> ::core::primitive::u16 {
        match *self {
            Self::Failed { .. } => 400,
        }
    }
    fn statuses() -> ::std::vec::Vec<::core::primitive::u16> {
        ::std::vec![400]
    }
}
type ScriptResult<T> = Result<T, ScriptError>;
impl<R: Runner + Send + Sync + 'static> ScriptDriver<R>
where
    R::Output: Send,
{
    fn script(
        &self,
        driver_files: &DriverFiles,
        lifecycle_name: &str,
    ) -> Result<String, ResourceDriverError> {
        driver_files.read_to_string(&format!("scripts/{lifecycle_name}.sh"))
    }
    pub async fn execute_lifecycle(
        &self,
        lifecycle_name: String,
        driver_files: DriverFiles,
        _system_properties: PropValueMap,
        resource_properties: PropValueMap,
        _: PropValueMap,
        associated_topology: AssociatedTopology,
        deployment_location: DeploymentLocation,
    ) -> Result<LifecycleExecuteResponse, ScriptError> {
        todo!()
    }
    async fn get_lifecycle_execution(
        &self,
        request_id: String,
        _deployment_location: DeploymentLocation,
    ) -> ScriptResult<LifecycleExecution> {
        todo!()
    }
    async fn find_reference(
        &self,
        instance_name: String,
        _driver_files: DriverFiles,
        _deployment_location: DeploymentLocation,
    ) -> ::std::result::Result<FindReferenceResponse, ResourceDriverError> {
        todo!()
    }
}
impl<R: Runner + Send + Sync + 'static> ::ignition::__private::ResourceDriver
for ScriptDriver<R>
where
    R::Output: Send,
{
    fn execute(
        &self,
        __ignition_request: ::ignition::__private::LifecycleExecuteCall,
    ) -> impl ::core::future::Future<
        Output = ::core::result::Result<
            ::ignition::__private::LifecycleExecuteResponse,
            ::ignition::__private::DriverError,
        >,
    > + ::core::marker::Send {
        let ::ignition::__private::LifecycleExecuteCall {
            lifecycle_name: __ignition_lifecycle_name,
            driver_files: __ignition_driver_files,
            system_properties: __ignition_system_properties,
            resource_properties: __ignition_resource_properties,
            request_properties: __ignition_request_properties,
            associated_topology: __ignition_associated_topology,
            deployment_location: __ignition_deployment_location,
            ..
        } = __ignition_request;
        <ScriptError as ::ignition::__private::ResourceDriverErrorCheck>::error_type()
            .erase(
                <_ as ::ignition::__private::ExecuteLifecycleOutput>::check(
                    <ScriptDriver<
                        R,
                    >>::execute_lifecycle(
                        self,
                        <String as ::ignition::__private::ExecuteLifecycleLifecycleName>::from_request(
                            __ignition_lifecycle_name,
                        ),
                        <DriverFiles as ::ignition::__private::ExecuteLifecycleDriverFiles>::from_request(
                            __ignition_driver_files,
                        ),
                        <PropValueMap as ::ignition::__private::ExecuteLifecycleSystemProperties>::from_request(
                            __ignition_system_properties,
                        ),
                        <PropValueMap as ::ignition::__private::ExecuteLifecycleResourceProperties>::from_request(
                            __ignition_resource_properties,
                        ),
                        <PropValueMap as ::ignition::__private::ExecuteLifecycleRequestProperties>::from_request(
                            __ignition_request_properties,
                        ),
                        <AssociatedTopology as ::ignition::__private::ExecuteLifecycleAssociatedTopology>::from_request(
                            __ignition_associated_topology,
                        ),
                        <DeploymentLocation as ::ignition::__private::ExecuteLifecycleDeploymentLocation>::from_request(
                            __ignition_deployment_location,
                        ),
                    ),
                ),
            )
    }
    fn query(
        &self,
        __ignition_request: ::ignition::__private::LifecycleExecutionQuery,
    ) -> impl ::core::future::Future<
        Output = ::core::result::Result<
            ::ignition::__private::LifecycleExecution,
            ::ignition::__private::DriverError,
        >,
    > + ::core::marker::Send {
        let ::ignition::__private::LifecycleExecutionQuery {
            request_id: __ignition_request_id,
            deployment_location: __ignition_deployment_location,
            ..
        } = __ignition_request;
        <<ScriptResult<
            LifecycleExecution,
        > as ::ignition::__private::OperationError>::Err as ::ignition::__private::ResourceDriverErrorCheck>::error_type()
            .erase(
                <_ as ::ignition::__private::GetLifecycleExecutionOutput>::check(
                    <ScriptDriver<
                        R,
                    >>::get_lifecycle_execution(
                        self,
                        <String as ::ignition::__private::GetLifecycleExecutionRequestId>::from_request(
                            __ignition_request_id,
                        ),
                        <DeploymentLocation as ::ignition::__private::GetLifecycleExecutionDeploymentLocation>::from_request(
                            __ignition_deployment_location,
                        ),
                    ),
                ),
            )
    }
    fn find_reference(
        &self,
        __ignition_request: ::ignition::__private::FindReferenceCall,
    ) -> impl ::core::future::Future<
        Output = ::core::result::Result<
            ::ignition::__private::FindReferenceResponse,
            ::ignition::__private::DriverError,
        >,
    > + ::core::marker::Send {
        let ::ignition::__private::FindReferenceCall {
            instance_name: __ignition_instance_name,
            driver_files: __ignition_driver_files,
            deployment_location: __ignition_deployment_location,
            ..
        } = __ignition_request;
        <ResourceDriverError as ::ignition::__private::ResourceDriverErrorCheck>::error_type()
            .erase(
                <_ as ::ignition::__private::FindReferenceOutput>::check(
                    <ScriptDriver<
                        R,
                    >>::find_reference(
                        self,
                        <String as ::ignition::__private::FindReferenceInstanceName>::from_request(
                            __ignition_instance_name,
                        ),
                        <DriverFiles as ::ignition::__private::FindReferenceDriverFiles>::from_request(
                            __ignition_driver_files,
                        ),
                        <DeploymentLocation as ::ignition::__private::FindReferenceDeploymentLocation>::from_request(
                            __ignition_deployment_location,
                        ),
                    ),
                ),
            )
    }
    fn error_statuses(
        __ignition_operation: ::ignition::__private::Operation,
    ) -> ::std::vec::Vec<u16> {
        match __ignition_operation {
            ::ignition::__private::Operation::Execute => {
                <ScriptError as ::ignition::__private::ResourceDriverErrorCheck>::error_type()
                    .statuses()
            }
            ::ignition::__private::Operation::ExecutionQuery => {
                <<ScriptResult<
                    LifecycleExecution,
                > as ::ignition::__private::OperationError>::Err as ::ignition::__private::ResourceDriverErrorCheck>::error_type()
                    .statuses()
            }
            ::ignition::__private::Operation::FindReference => {
                <ResourceDriverError as ::ignition::__private::ResourceDriverErrorCheck>::error_type()
                    .statuses()
            }
            _ => ::std::vec::Vec::new(),
        }
    }
}
impl<R: Runner + Send + Sync + 'static> ::ignition::Driver for ScriptDriver<R>
where
    R::Output: Send,
{
    fn __serve() -> ::ignition::__private::Serve<Self> {
        ::ignition::__private::Serve::<Self>::resource_driver()
    }
}
