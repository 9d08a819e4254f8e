//! The four operations of a VIM driver: what the author writes, and what the runtime's
//! `Driver` trait calls it through.

/// One operation of the contract.
pub(crate) struct Operation {
    /// The author's method, e.g. `create_infrastructure`.
    pub(crate) name: &'static str,
    /// The method of `ignition::__private::Driver` that forwards to it, e.g. `create`.
    pub(crate) driver_method: &'static str,
    /// The associated error type of `Driver` for this operation, e.g. `CreateError`.
    pub(crate) error_type: &'static str,
    /// The request type (in `ignition::__private`) whose fields become the parameters.
    pub(crate) request: &'static str,
    /// The success type (in `ignition::__private`) of the operation's `Result`.
    pub(crate) response: &'static str,
    /// The parameters after `&self`, in order: the request's field and its type.
    pub(crate) params: &'static [(&'static str, &'static str)],
}

/// Every operation, in the order the expansion emits them.
pub(crate) const OPERATIONS: [Operation; 4] = [
    Operation {
        name: "create_infrastructure",
        driver_method: "create",
        error_type: "CreateError",
        request: "CreateInfrastructureRequest",
        response: "CreateInfrastructureResponse",
        params: &[
            ("template", "String"),
            ("template_type", "String"),
            ("system_properties", "PropValueMap"),
            ("properties", "PropValueMap"),
            ("deployment_location", "DeploymentLocation"),
        ],
    },
    Operation {
        name: "get_infrastructure_task",
        driver_method: "query",
        error_type: "QueryError",
        request: "InfrastructureTaskQuery",
        response: "InfrastructureTask",
        params: &[
            ("infrastructure_id", "String"),
            ("request_id", "String"),
            ("deployment_location", "DeploymentLocation"),
        ],
    },
    Operation {
        name: "delete_infrastructure",
        driver_method: "delete",
        error_type: "DeleteError",
        request: "DeleteInfrastructureRequest",
        response: "DeleteInfrastructureResponse",
        params: &[
            ("infrastructure_id", "String"),
            ("deployment_location", "DeploymentLocation"),
        ],
    },
    Operation {
        name: "find_infrastructure",
        driver_method: "find",
        error_type: "FindError",
        request: "FindInfrastructureRequest",
        response: "FindInfrastructureResponse",
        params: &[
            ("template", "String"),
            ("template_type", "String"),
            ("instance_name", "String"),
            ("deployment_location", "DeploymentLocation"),
        ],
    },
];

impl Operation {
    /// The signature the author should write, for help messages.
    pub(crate) fn expected_signature(&self) -> String {
        let params: Vec<String> = self
            .params
            .iter()
            .map(|(name, ty)| format!(", {name}: {ty}"))
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
