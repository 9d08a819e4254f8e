pub struct CloudDriver<C> {
    cloud: C,
}
impl<C: Cloud + Send + Sync + 'static> CloudDriver<C>
where
    C::Handle: Send,
{
    fn region(&self) -> &str {
        self.cloud.region()
    }
    pub async fn create_infrastructure(
        &self,
        template: String,
        _template_type: String,
        system_properties: PropValueMap,
        _: PropValueMap,
        deployment_location: DeploymentLocation,
    ) -> Result<CreateInfrastructureResponse, QuotaError> {
        todo!()
    }
    async fn get_infrastructure_task(
        &self,
        infrastructure_id: String,
        request_id: String,
        _deployment_location: DeploymentLocation,
    ) -> CloudResult<InfrastructureTask> {
        todo!()
    }
    async fn delete_infrastructure(
        &self,
        infrastructure_id: String,
        _deployment_location: DeploymentLocation,
    ) -> Result<DeleteInfrastructureResponse, InfrastructureError> {
        todo!()
    }
    async fn find_infrastructure(
        &self,
        _template: String,
        _template_type: String,
        instance_name: String,
        _deployment_location: DeploymentLocation,
    ) -> ::std::result::Result<FindInfrastructureResponse, InfrastructureError> {
        todo!()
    }
}
impl<C: Cloud + Send + Sync + 'static> ::ignition::__private::VimDriver
for CloudDriver<C>
where
    C::Handle: Send,
{
    fn create(
        &self,
        __ignition_request: ::ignition::__private::CreateInfrastructureRequest,
    ) -> impl ::core::future::Future<
        Output = ::core::result::Result<
            ::ignition::__private::CreateInfrastructureResponse,
            ::ignition::__private::DriverError,
        >,
    > + ::core::marker::Send {
        let ::ignition::__private::CreateInfrastructureRequest {
            template: __ignition_template,
            template_type: __ignition_template_type,
            system_properties: __ignition_system_properties,
            properties: __ignition_properties,
            deployment_location: __ignition_deployment_location,
            ..
        } = __ignition_request;
        <QuotaError as ::ignition::__private::VimDriverErrorCheck>::error_type()
            .erase(
                <_ as ::ignition::__private::CreateInfrastructureOutput>::check(
                    <CloudDriver<
                        C,
                    >>::create_infrastructure(
                        self,
                        <String as ::ignition::__private::CreateInfrastructureTemplate>::from_request(
                            __ignition_template,
                        ),
                        <String as ::ignition::__private::CreateInfrastructureTemplateType>::from_request(
                            __ignition_template_type,
                        ),
                        <PropValueMap as ::ignition::__private::CreateInfrastructureSystemProperties>::from_request(
                            __ignition_system_properties,
                        ),
                        <PropValueMap as ::ignition::__private::CreateInfrastructureProperties>::from_request(
                            __ignition_properties,
                        ),
                        <DeploymentLocation as ::ignition::__private::CreateInfrastructureDeploymentLocation>::from_request(
                            __ignition_deployment_location,
                        ),
                    ),
                ),
            )
    }
    fn query(
        &self,
        __ignition_request: ::ignition::__private::InfrastructureTaskQuery,
    ) -> impl ::core::future::Future<
        Output = ::core::result::Result<
            ::ignition::__private::InfrastructureTask,
            ::ignition::__private::DriverError,
        >,
    > + ::core::marker::Send {
        let ::ignition::__private::InfrastructureTaskQuery {
            infrastructure_id: __ignition_infrastructure_id,
            request_id: __ignition_request_id,
            deployment_location: __ignition_deployment_location,
            ..
        } = __ignition_request;
        <<CloudResult<
            InfrastructureTask,
        > as ::ignition::__private::OperationError>::Err as ::ignition::__private::VimDriverErrorCheck>::error_type()
            .erase(
                <_ as ::ignition::__private::GetInfrastructureTaskOutput>::check(
                    <CloudDriver<
                        C,
                    >>::get_infrastructure_task(
                        self,
                        <String as ::ignition::__private::GetInfrastructureTaskInfrastructureId>::from_request(
                            __ignition_infrastructure_id,
                        ),
                        <String as ::ignition::__private::GetInfrastructureTaskRequestId>::from_request(
                            __ignition_request_id,
                        ),
                        <DeploymentLocation as ::ignition::__private::GetInfrastructureTaskDeploymentLocation>::from_request(
                            __ignition_deployment_location,
                        ),
                    ),
                ),
            )
    }
    fn delete(
        &self,
        __ignition_request: ::ignition::__private::DeleteInfrastructureRequest,
    ) -> impl ::core::future::Future<
        Output = ::core::result::Result<
            ::ignition::__private::DeleteInfrastructureResponse,
            ::ignition::__private::DriverError,
        >,
    > + ::core::marker::Send {
        let ::ignition::__private::DeleteInfrastructureRequest {
            infrastructure_id: __ignition_infrastructure_id,
            deployment_location: __ignition_deployment_location,
            ..
        } = __ignition_request;
        <InfrastructureError as ::ignition::__private::VimDriverErrorCheck>::error_type()
            .erase(
                <_ as ::ignition::__private::DeleteInfrastructureOutput>::check(
                    <CloudDriver<
                        C,
                    >>::delete_infrastructure(
                        self,
                        <String as ::ignition::__private::DeleteInfrastructureInfrastructureId>::from_request(
                            __ignition_infrastructure_id,
                        ),
                        <DeploymentLocation as ::ignition::__private::DeleteInfrastructureDeploymentLocation>::from_request(
                            __ignition_deployment_location,
                        ),
                    ),
                ),
            )
    }
    fn find(
        &self,
        __ignition_request: ::ignition::__private::FindInfrastructureRequest,
    ) -> impl ::core::future::Future<
        Output = ::core::result::Result<
            ::ignition::__private::FindInfrastructureResponse,
            ::ignition::__private::DriverError,
        >,
    > + ::core::marker::Send {
        let ::ignition::__private::FindInfrastructureRequest {
            template: __ignition_template,
            template_type: __ignition_template_type,
            instance_name: __ignition_instance_name,
            deployment_location: __ignition_deployment_location,
            ..
        } = __ignition_request;
        <InfrastructureError as ::ignition::__private::VimDriverErrorCheck>::error_type()
            .erase(
                <_ as ::ignition::__private::FindInfrastructureOutput>::check(
                    <CloudDriver<
                        C,
                    >>::find_infrastructure(
                        self,
                        <String as ::ignition::__private::FindInfrastructureTemplate>::from_request(
                            __ignition_template,
                        ),
                        <String as ::ignition::__private::FindInfrastructureTemplateType>::from_request(
                            __ignition_template_type,
                        ),
                        <String as ::ignition::__private::FindInfrastructureInstanceName>::from_request(
                            __ignition_instance_name,
                        ),
                        <DeploymentLocation as ::ignition::__private::FindInfrastructureDeploymentLocation>::from_request(
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
            ::ignition::__private::Operation::Create => {
                <QuotaError as ::ignition::__private::VimDriverErrorCheck>::error_type()
                    .statuses()
            }
            ::ignition::__private::Operation::Query => {
                <<CloudResult<
                    InfrastructureTask,
                > as ::ignition::__private::OperationError>::Err as ::ignition::__private::VimDriverErrorCheck>::error_type()
                    .statuses()
            }
            ::ignition::__private::Operation::Delete => {
                <InfrastructureError as ::ignition::__private::VimDriverErrorCheck>::error_type()
                    .statuses()
            }
            ::ignition::__private::Operation::Find => {
                <InfrastructureError as ::ignition::__private::VimDriverErrorCheck>::error_type()
                    .statuses()
            }
            _ => ::std::vec::Vec::new(),
        }
    }
}
impl<C: Cloud + Send + Sync + 'static> ::ignition::Driver for CloudDriver<C>
where
    C::Handle: Send,
{
    fn __serve() -> ::ignition::__private::Serve<Self> {
        ::ignition::__private::Serve::<Self>::vim()
    }
}
