//! The operations of both API kinds, once: their names, the author's method, the path
//! each is served at, its success status and its index. Routes, the spec, timeouts,
//! metrics, trace context, the test kit and logs read this table; the macro crate's own
//! tables (which it needs at compile time, as a proc-macro crate cannot depend on this
//! one) are tested against it (`tests::the_macro_tables_agree`).

/// The API a driver serves: the Infrastructure API of LM 1.x (`#[vim_driver]`) or the
/// Resource Driver API of LM 2.x/3.x (`#[resource_driver]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ApiKind {
    /// `/api/infrastructure`: create, delete, query, find.
    Infrastructure,
    /// `/api/driver`: lifecycle execute, references find.
    ResourceDriver,
}

impl ApiKind {
    /// Where the API is served (its spec, Swagger UI and operations are below it).
    pub const fn path(self) -> &'static str {
        match self {
            ApiKind::Infrastructure => "/api/infrastructure",
            ApiKind::ResourceDriver => "/api/driver",
        }
    }

    /// The operations of this kind, in the contract's order (the poll of a task
    /// included, served over HTTP or not).
    pub fn operations(self) -> &'static [Operation] {
        match self {
            ApiKind::Infrastructure => &[
                Operation::Create,
                Operation::Query,
                Operation::Delete,
                Operation::Find,
            ],
            ApiKind::ResourceDriver => &[
                Operation::Execute,
                Operation::ExecutionQuery,
                Operation::FindReference,
            ],
        }
    }

    /// The operations of this kind served over HTTP.
    pub fn http_operations(self) -> impl Iterator<Item = Operation> {
        self.operations()
            .iter()
            .copied()
            .filter(|op| op.path().is_some())
    }

    /// The attribute that makes a type a driver of this kind.
    pub const fn attribute(self) -> &'static str {
        match self {
            ApiKind::Infrastructure => "#[vim_driver]",
            ApiKind::ResourceDriver => "#[resource_driver]",
        }
    }

    /// The job type of its monitoring jobs (the Python framework's).
    pub const fn job_type(self) -> &'static str {
        match self {
            ApiKind::Infrastructure => "InfrastructureTaskMonitoring",
            ApiKind::ResourceDriver => "LifecycleExecutionMonitoring",
        }
    }

    /// The API's title in its OpenAPI document and logs.
    pub const fn title(self) -> &'static str {
        match self {
            ApiKind::Infrastructure => "Infrastructure API",
            ApiKind::ResourceDriver => "Resource Driver API",
        }
    }
}

/// One operation of an API kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Operation {
    /// `POST /api/infrastructure/create` → `create_infrastructure`.
    Create,
    /// `POST /api/infrastructure/query` → `get_infrastructure_task` (also each poll).
    Query,
    /// `POST /api/infrastructure/delete` → `delete_infrastructure`.
    Delete,
    /// `POST /api/infrastructure/find` → `find_infrastructure`.
    Find,
    /// `POST /api/driver/lifecycle/execute` → `execute_lifecycle`.
    Execute,
    /// Each poll of an execution → `get_lifecycle_execution` (not served over HTTP).
    ExecutionQuery,
    /// `POST /api/driver/references/find` → `find_reference`.
    FindReference,
}

impl Operation {
    /// Every operation of every kind; `ALL[op.index()] == op`.
    pub const ALL: [Operation; 7] = [
        Operation::Create,
        Operation::Query,
        Operation::Delete,
        Operation::Find,
        Operation::Execute,
        Operation::ExecutionQuery,
        Operation::FindReference,
    ];

    /// A dense index (`0..ALL.len()`), for tables of per-operation data (metrics).
    pub const fn index(self) -> usize {
        match self {
            Operation::Create => 0,
            Operation::Query => 1,
            Operation::Delete => 2,
            Operation::Find => 3,
            Operation::Execute => 4,
            Operation::ExecutionQuery => 5,
            Operation::FindReference => 6,
        }
    }

    /// The API kind it belongs to.
    pub const fn kind(self) -> ApiKind {
        match self {
            Operation::Create | Operation::Query | Operation::Delete | Operation::Find => {
                ApiKind::Infrastructure
            }
            Operation::Execute | Operation::ExecutionQuery | Operation::FindReference => {
                ApiKind::ResourceDriver
            }
        }
    }

    /// The short name: the `driver.timeouts.*` key, the metrics label and the
    /// operationId of the infrastructure operations (`create`, `query`, ...). A poll is
    /// a `query` in both kinds (one timeout, `driver.timeouts.query`).
    pub const fn name(self) -> &'static str {
        match self {
            Operation::Create => "create",
            Operation::Query | Operation::ExecutionQuery => "query",
            Operation::Delete => "delete",
            Operation::Find => "find",
            Operation::Execute => "execute",
            Operation::FindReference => "find_reference",
        }
    }

    /// The driver author's method.
    pub const fn method(self) -> &'static str {
        match self {
            Operation::Create => "create_infrastructure",
            Operation::Query => "get_infrastructure_task",
            Operation::Delete => "delete_infrastructure",
            Operation::Find => "find_infrastructure",
            Operation::Execute => "execute_lifecycle",
            Operation::ExecutionQuery => "get_lifecycle_execution",
            Operation::FindReference => "find_reference",
        }
    }

    /// The full path it is served at (`POST`), or `None` when it is not served over
    /// HTTP (the poll of an execution).
    pub const fn path(self) -> Option<&'static str> {
        match self {
            Operation::Create => Some("/api/infrastructure/create"),
            Operation::Query => Some("/api/infrastructure/query"),
            Operation::Delete => Some("/api/infrastructure/delete"),
            Operation::Find => Some("/api/infrastructure/find"),
            Operation::Execute => Some("/api/driver/lifecycle/execute"),
            Operation::ExecutionQuery => None,
            Operation::FindReference => Some("/api/driver/references/find"),
        }
    }

    /// The status of a successful answer: 202 for the operations that start a task
    /// (its outcome follows as an event), 200 for the others.
    pub const fn success_status(self) -> u16 {
        if self.starts_task() {
            202
        } else {
            200
        }
    }

    /// The error statuses the framework itself may answer for this operation, whatever
    /// the driver's error type: a bad body (400), a body too slow (408) or too large
    /// (413), a wrong content type (415), a panic (500), a call past its time limit or a
    /// task that cannot be monitored (503).
    pub const fn framework_error_statuses(self) -> &'static [u16] {
        &[400, 408, 413, 415, 500, 503]
    }

    /// Whether it starts a task that is monitored until it ends (create, delete,
    /// execute).
    pub const fn starts_task(self) -> bool {
        matches!(
            self,
            Operation::Create | Operation::Delete | Operation::Execute
        )
    }

    /// The operation served at `path`, if any.
    pub fn from_path(path: &str) -> Option<Operation> {
        Operation::ALL
            .into_iter()
            .find(|op| op.path() == Some(path))
    }
}

impl std::fmt::Display for Operation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.method())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The macro crate's tables, as `#[attribute] method driver_method` lines (every
    /// kind in turn), must be this one.
    #[test]
    fn the_macro_tables_agree() {
        let ours: Vec<String> = Operation::ALL
            .iter()
            .map(|op| format!("{} {} {}", op.kind().attribute(), op.method(), op.name()))
            .collect();
        let macros: Vec<String> = ignition_macros::__operation_table!()
            .lines()
            .map(str::to_string)
            .collect();
        assert_eq!(ours, macros);
    }

    #[test]
    fn the_index_is_the_position_in_all_and_each_kind_lists_its_own() {
        for (i, op) in Operation::ALL.into_iter().enumerate() {
            assert_eq!(op.index(), i, "{op:?}");
            assert!(op.kind().operations().contains(&op), "{op:?}");
        }
        let listed: usize = [ApiKind::Infrastructure, ApiKind::ResourceDriver]
            .iter()
            .map(|kind| kind.operations().len())
            .sum();
        assert_eq!(listed, Operation::ALL.len());
    }

    #[test]
    fn every_path_is_below_its_kind_and_found_again() {
        for op in Operation::ALL {
            match op.path() {
                Some(path) => {
                    assert!(path.starts_with(op.kind().path()), "{op:?}");
                    assert_eq!(Operation::from_path(path), Some(op));
                }
                None => assert_eq!(op, Operation::ExecutionQuery),
            }
        }
        assert_eq!(
            Operation::from_path("/api/infrastructure/openapi.json"),
            None
        );
        assert_eq!(Operation::from_path("/api/driver/lifecycle"), None);
    }

    #[test]
    fn operations_that_start_a_task_answer_202() {
        let started: Vec<_> = Operation::ALL
            .into_iter()
            .filter(|op| op.success_status() == 202)
            .collect();
        assert_eq!(
            started,
            [Operation::Create, Operation::Delete, Operation::Execute]
        );
    }
}
