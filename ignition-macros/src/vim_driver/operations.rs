//! The four operations of a VIM driver: what the author writes, and what the runtime's
//! `Driver` trait calls it through.

/// One operation of the contract.
pub(crate) struct Operation {
    /// The author's method, e.g. `create_infrastructure`.
    pub(crate) name: &'static str,
    /// The method of `ignition::__private::Driver` that forwards to it, e.g. `create`.
    pub(crate) driver_method: &'static str,
    /// The variant of `ignition::__private::Operation`, e.g. `Create`.
    pub(crate) variant: &'static str,
    /// The request type (in `ignition::__private`) whose fields become the parameters.
    pub(crate) request: &'static str,
    /// The success type (in `ignition::__private`) of the operation's `Result`.
    pub(crate) response: &'static str,
    /// The trait of `ignition::__private` implemented only for the right return type,
    /// `Result<response, E>`: its `on_unimplemented` message is the diagnostic.
    pub(crate) output_check: &'static str,
    /// The parameters after `&self`, in order.
    pub(crate) params: &'static [Param],
}

/// One parameter of an operation: a field of the request.
pub(crate) struct Param {
    /// The request's field, e.g. `template_type`.
    pub(crate) field: &'static str,
    /// Its type, e.g. `String`.
    pub(crate) ty: &'static str,
    /// The trait of `ignition::__private` implemented only for `ty`: its
    /// `on_unimplemented` message is the diagnostic for a parameter of another type.
    pub(crate) check: &'static str,
}

/// A [`Param`].
const fn param(field: &'static str, ty: &'static str, check: &'static str) -> Param {
    Param { field, ty, check }
}

/// Every operation, in the order the expansion emits them.
pub(crate) const OPERATIONS: [Operation; 4] = [
    Operation {
        name: "create_infrastructure",
        driver_method: "create",
        variant: "Create",
        request: "CreateInfrastructureRequest",
        response: "CreateInfrastructureResponse",
        output_check: "CreateInfrastructureOutput",
        params: &[
            param("template", "String", "CreateInfrastructureTemplate"),
            param(
                "template_type",
                "String",
                "CreateInfrastructureTemplateType",
            ),
            param(
                "system_properties",
                "PropValueMap",
                "CreateInfrastructureSystemProperties",
            ),
            param(
                "properties",
                "PropValueMap",
                "CreateInfrastructureProperties",
            ),
            param(
                "deployment_location",
                "DeploymentLocation",
                "CreateInfrastructureDeploymentLocation",
            ),
        ],
    },
    Operation {
        name: "get_infrastructure_task",
        driver_method: "query",
        variant: "Query",
        request: "InfrastructureTaskQuery",
        response: "InfrastructureTask",
        output_check: "GetInfrastructureTaskOutput",
        params: &[
            param(
                "infrastructure_id",
                "String",
                "GetInfrastructureTaskInfrastructureId",
            ),
            param("request_id", "String", "GetInfrastructureTaskRequestId"),
            param(
                "deployment_location",
                "DeploymentLocation",
                "GetInfrastructureTaskDeploymentLocation",
            ),
        ],
    },
    Operation {
        name: "delete_infrastructure",
        driver_method: "delete",
        variant: "Delete",
        request: "DeleteInfrastructureRequest",
        response: "DeleteInfrastructureResponse",
        output_check: "DeleteInfrastructureOutput",
        params: &[
            param(
                "infrastructure_id",
                "String",
                "DeleteInfrastructureInfrastructureId",
            ),
            param(
                "deployment_location",
                "DeploymentLocation",
                "DeleteInfrastructureDeploymentLocation",
            ),
        ],
    },
    Operation {
        name: "find_infrastructure",
        driver_method: "find",
        variant: "Find",
        request: "FindInfrastructureRequest",
        response: "FindInfrastructureResponse",
        output_check: "FindInfrastructureOutput",
        params: &[
            param("template", "String", "FindInfrastructureTemplate"),
            param("template_type", "String", "FindInfrastructureTemplateType"),
            param("instance_name", "String", "FindInfrastructureInstanceName"),
            param(
                "deployment_location",
                "DeploymentLocation",
                "FindInfrastructureDeploymentLocation",
            ),
        ],
    },
];

/// The table as `method driver_method` lines, for the runtime's test that its own table
/// agrees (`ignition::__private::Operation`).
pub(crate) fn table_text() -> String {
    OPERATIONS
        .iter()
        .map(|op| format!("{} {}", op.name, op.driver_method))
        .collect::<Vec<_>>()
        .join("\n")
}

impl Operation {
    /// The signature the author should write, for help messages.
    pub(crate) fn expected_signature(&self) -> String {
        let params: Vec<String> = self
            .params
            .iter()
            .map(|param| format!(", {}: {}", param.field, param.ty))
            .collect();
        format!(
            "async fn {}(&self{}) -> Result<{}, InfrastructureError>",
            self.name,
            params.concat(),
            self.response
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expected_signature_lists_every_parameter() {
        assert_eq!(
            OPERATIONS[2].expected_signature(),
            "async fn delete_infrastructure(&self, infrastructure_id: String, \
             deployment_location: DeploymentLocation) \
             -> Result<DeleteInfrastructureResponse, InfrastructureError>"
        );
    }
}
