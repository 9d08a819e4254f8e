//! The four operations of the contract, once: their names, the author's method, the
//! `Driver` method, and the path each is served at. Routes, the spec check, timeouts and
//! logs read this table; the macro crate's own table (which it needs at compile time, as
//! a proc-macro crate cannot depend on this one) is tested against it
//! (`tests::the_macro_table_agrees`).

/// One operation of the Infrastructure API.
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
}

impl Operation {
    /// Every operation, in the contract's order.
    pub const ALL: [Operation; 4] = [
        Operation::Create,
        Operation::Query,
        Operation::Delete,
        Operation::Find,
    ];

    /// The short name: the `Driver` method, the path's last segment, the operationId,
    /// the `driver.timeouts.*` key and the metrics label (`create`, `query`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Operation::Create => "create",
            Operation::Query => "query",
            Operation::Delete => "delete",
            Operation::Find => "find",
        }
    }

    /// The driver author's method.
    pub fn method(self) -> &'static str {
        match self {
            Operation::Create => "create_infrastructure",
            Operation::Query => "get_infrastructure_task",
            Operation::Delete => "delete_infrastructure",
            Operation::Find => "find_infrastructure",
        }
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

    /// The macro crate's table, as `method driver_method` lines, must be this one.
    #[test]
    fn the_macro_table_agrees() {
        let ours: Vec<String> = Operation::ALL
            .iter()
            .map(|op| format!("{} {}", op.method(), op.name()))
            .collect();
        let macros: Vec<String> = ignition_macros::__operation_table!()
            .lines()
            .map(str::to_string)
            .collect();
        assert_eq!(ours, macros);
    }
}
