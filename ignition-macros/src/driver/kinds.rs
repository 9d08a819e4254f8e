//! The two kinds of driver, as data: what the author writes for each operation, and what
//! the runtime calls it through. Parsing, validation, expansion and the check traits are
//! written once, over a [`Kind`]; `#[vim_driver]` and `#[resource_driver]` are the two
//! tables below, [`VIM`] and [`RESOURCE`]. A third API would be a third table.
//!
//! The names of the check traits are derived from the table (see
//! [`Operation::output_check`], [`Operation::param_check`], [`Kind::error_check`]), so
//! the traits the runtime defines (`__check_traits!`) and the ones an expansion asserts
//! cannot disagree.

/// One kind of driver: one attribute, one API, one trait of the runtime.
pub(crate) struct Kind {
    /// The attribute, e.g. `vim_driver`: messages start with `#[vim_driver]: `.
    pub(crate) attribute: &'static str,
    /// What a driver of this kind is called in messages, e.g. `a VIM driver`.
    pub(crate) noun: &'static str,
    /// The API it serves, for the message about both attributes on one block.
    pub(crate) api: &'static str,
    /// The trait of `ignition::__private` the expansion implements, e.g. `VimDriver`.
    pub(crate) runtime_trait: &'static str,
    /// The constructor of `ignition::__private::Serve` the expansion's
    /// `ignition::Driver::__serve` calls, e.g. `vim`.
    pub(crate) serve: &'static str,
    /// The framework's error type for this kind, shown in the signatures of help lines.
    pub(crate) default_error: &'static str,
    /// The operations, in the order the expansion emits them.
    pub(crate) operations: &'static [Operation],
}

/// One operation: the author's method and the runtime trait's method that calls it.
pub(crate) struct Operation {
    /// The author's method, e.g. `create_infrastructure`.
    pub(crate) name: &'static str,
    /// The method of the kind's runtime trait that forwards to it, e.g. `create`.
    pub(crate) driver_method: &'static str,
    /// The variant of `ignition::__private::Operation`, e.g. `Create`.
    pub(crate) variant: &'static str,
    /// The request type (in `ignition::__private`) whose fields become the parameters.
    pub(crate) request: &'static str,
    /// The success type (in `ignition::__private`) of the operation's `Result`.
    pub(crate) response: &'static str,
    /// The parameters after `&self`, in order.
    pub(crate) params: &'static [Param],
}

/// One parameter of an operation: a field of the request.
pub(crate) struct Param {
    /// The request's field, e.g. `template_type`.
    pub(crate) field: &'static str,
    /// Its type (in `ignition::__private`), e.g. `String`.
    pub(crate) ty: &'static str,
}

/// A [`Param`].
const fn param(field: &'static str, ty: &'static str) -> Param {
    Param { field, ty }
}

/// `#[vim_driver]`: the Infrastructure API (the Python framework's 1.x).
pub(crate) const VIM: Kind = Kind {
    attribute: "vim_driver",
    noun: "a VIM driver",
    api: "the Infrastructure API",
    runtime_trait: "VimDriver",
    serve: "vim",
    default_error: "InfrastructureError",
    operations: &[
        Operation {
            name: "create_infrastructure",
            driver_method: "create",
            variant: "Create",
            request: "CreateInfrastructureRequest",
            response: "CreateInfrastructureResponse",
            params: &[
                param("template", "String"),
                param("template_type", "String"),
                param("system_properties", "PropValueMap"),
                param("properties", "PropValueMap"),
                param("deployment_location", "DeploymentLocation"),
            ],
        },
        Operation {
            name: "get_infrastructure_task",
            driver_method: "query",
            variant: "Query",
            request: "InfrastructureTaskQuery",
            response: "InfrastructureTask",
            params: &[
                param("infrastructure_id", "String"),
                param("request_id", "String"),
                param("deployment_location", "DeploymentLocation"),
            ],
        },
        Operation {
            name: "delete_infrastructure",
            driver_method: "delete",
            variant: "Delete",
            request: "DeleteInfrastructureRequest",
            response: "DeleteInfrastructureResponse",
            params: &[
                param("infrastructure_id", "String"),
                param("deployment_location", "DeploymentLocation"),
            ],
        },
        Operation {
            name: "find_infrastructure",
            driver_method: "find",
            variant: "Find",
            request: "FindInfrastructureRequest",
            response: "FindInfrastructureResponse",
            params: &[
                param("template", "String"),
                param("template_type", "String"),
                param("instance_name", "String"),
                param("deployment_location", "DeploymentLocation"),
            ],
        },
    ],
};

/// `#[resource_driver]`: the Resource Driver API (the Python framework's 2.x/3.x).
pub(crate) const RESOURCE: Kind = Kind {
    attribute: "resource_driver",
    noun: "a resource driver",
    api: "the Resource Driver API",
    runtime_trait: "ResourceDriver",
    serve: "resource_driver",
    default_error: "ResourceDriverError",
    operations: &[
        Operation {
            name: "execute_lifecycle",
            driver_method: "execute",
            variant: "Execute",
            request: "LifecycleExecuteCall",
            response: "LifecycleExecuteResponse",
            params: &[
                param("lifecycle_name", "String"),
                param("driver_files", "DriverFiles"),
                param("system_properties", "PropValueMap"),
                param("resource_properties", "PropValueMap"),
                param("request_properties", "PropValueMap"),
                param("associated_topology", "AssociatedTopology"),
                param("deployment_location", "DeploymentLocation"),
            ],
        },
        Operation {
            name: "get_lifecycle_execution",
            driver_method: "query",
            variant: "ExecutionQuery",
            request: "LifecycleExecutionQuery",
            response: "LifecycleExecution",
            params: &[
                param("request_id", "String"),
                param("deployment_location", "DeploymentLocation"),
            ],
        },
        Operation {
            name: "find_reference",
            driver_method: "find_reference",
            variant: "FindReference",
            request: "FindReferenceCall",
            response: "FindReferenceResponse",
            params: &[
                param("instance_name", "String"),
                param("driver_files", "DriverFiles"),
                param("deployment_location", "DeploymentLocation"),
            ],
        },
    ],
};

/// Every kind: the attributes a block may carry, and the check traits the runtime needs.
pub(crate) const KINDS: [&Kind; 2] = [&VIM, &RESOURCE];

impl Kind {
    /// `#[vim_driver]`, as messages name the attribute.
    pub(crate) fn attr(&self) -> String {
        format!("#[{}]", self.attribute)
    }

    /// The trait of `ignition::__private` implemented for every `E: ApiError`, whose
    /// `on_unimplemented` message (naming this kind's attribute and default error) is
    /// the diagnostic for an error type that is not one, e.g. `VimDriverErrorCheck`.
    pub(crate) fn error_check(&self) -> String {
        format!("{}ErrorCheck", camel_case(self.attribute))
    }

    /// The operation named `name`, if it is one of this kind.
    pub(crate) fn operation(&self, name: &str) -> Option<&'static Operation> {
        self.operations.iter().find(|op| op.name == name)
    }

    /// `` `a`, `b` and `c` ``: the operations' names, for help lines.
    pub(crate) fn operation_list(&self) -> String {
        let names: Vec<String> = self
            .operations
            .iter()
            .map(|op| format!("`{}`", op.name))
            .collect();
        match names.split_last() {
            Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
            _ => names.concat(),
        }
    }

    /// "the four operations", "the three operations".
    pub(crate) fn the_operations(&self) -> String {
        let count = match self.operations.len() {
            1 => "one".to_owned(),
            2 => "two".to_owned(),
            3 => "three".to_owned(),
            4 => "four".to_owned(),
            5 => "five".to_owned(),
            n => n.to_string(),
        };
        format!("the {count} operations")
    }
}

impl Operation {
    /// The trait of `ignition::__private` implemented only for `Result<response, E>`:
    /// its `on_unimplemented` message is the diagnostic for another return type, e.g.
    /// `CreateInfrastructureOutput`.
    pub(crate) fn output_check(&self) -> String {
        format!("{}Output", camel_case(self.name))
    }

    /// The trait of `ignition::__private` implemented only for the type of `param`: its
    /// `on_unimplemented` message is the diagnostic for a parameter of another type, e.g.
    /// `CreateInfrastructureTemplateType`.
    pub(crate) fn param_check(&self, param: &Param) -> String {
        format!("{}{}", camel_case(self.name), camel_case(param.field))
    }

    /// The signature the author should write, with `error` as the error type, e.g.
    /// `async fn find_reference(&self, instance_name: String, ...) -> Result<FindReferenceResponse, E>`.
    pub(crate) fn signature(&self, error: &str) -> String {
        let params: Vec<String> = self
            .params
            .iter()
            .map(|param| format!(", {}: {}", param.field, param.ty))
            .collect();
        format!(
            "async fn {}(&self{}) -> Result<{}, {error}>",
            self.name,
            params.concat(),
            self.response
        )
    }
}

/// `create_infrastructure` → `CreateInfrastructure`.
fn camel_case(snake: &str) -> String {
    snake
        .split('_')
        .flat_map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|first| first.to_uppercase().chain(chars))
                .into_iter()
                .flatten()
        })
        .collect()
}

/// Every operation of every kind as `#[attribute] method driver_method` lines (e.g.
/// `#[vim_driver] create_infrastructure create`), for the runtime's test that its own
/// table (`ignition::__private::Operation`) agrees.
pub(crate) fn table_text() -> String {
    KINDS
        .iter()
        .flat_map(|kind| {
            kind.operations
                .iter()
                .map(|op| format!("{} {} {}", kind.attr(), op.name, op.driver_method))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_lists_every_parameter() {
        assert_eq!(
            VIM.operations[2].signature(VIM.default_error),
            "async fn delete_infrastructure(&self, infrastructure_id: String, \
             deployment_location: DeploymentLocation) \
             -> Result<DeleteInfrastructureResponse, InfrastructureError>"
        );
        assert_eq!(
            RESOURCE.operations[2].signature("E"),
            "async fn find_reference(&self, instance_name: String, driver_files: DriverFiles, \
             deployment_location: DeploymentLocation) -> Result<FindReferenceResponse, E>"
        );
    }

    #[test]
    fn check_trait_names_are_derived_from_the_table() {
        let vim = &VIM.operations[1];
        assert_eq!(vim.output_check(), "GetInfrastructureTaskOutput");
        assert_eq!(
            vim.param_check(&vim.params[0]),
            "GetInfrastructureTaskInfrastructureId"
        );
        let execute = &RESOURCE.operations[0];
        assert_eq!(execute.output_check(), "ExecuteLifecycleOutput");
        assert_eq!(
            execute.param_check(&execute.params[1]),
            "ExecuteLifecycleDriverFiles"
        );
        assert_eq!(VIM.error_check(), "VimDriverErrorCheck");
        assert_eq!(RESOURCE.error_check(), "ResourceDriverErrorCheck");
    }

    #[test]
    fn names_are_unique_across_kinds() {
        // One check trait per name: two operations of the same name (in two kinds) would
        // define the same traits twice.
        let mut names: Vec<&str> = KINDS
            .iter()
            .flat_map(|kind| kind.operations.iter().map(|op| op.name))
            .collect();
        let count = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), count);
    }

    #[test]
    fn operation_lists() {
        assert_eq!(
            RESOURCE.operation_list(),
            "`execute_lifecycle`, `get_lifecycle_execution` and `find_reference`"
        );
        assert_eq!(VIM.the_operations(), "the four operations");
        assert_eq!(RESOURCE.the_operations(), "the three operations");
    }

    #[test]
    fn the_table_text_has_one_line_per_operation() {
        let text = table_text();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 7);
        assert_eq!(lines[0], "#[vim_driver] create_infrastructure create");
        assert_eq!(lines[4], "#[resource_driver] execute_lifecycle execute");
        assert_eq!(lines[5], "#[resource_driver] get_lifecycle_execution query");
        assert_eq!(lines[6], "#[resource_driver] find_reference find_reference");
    }
}
