//! The request id of an execution, as the Python driver made it:
//! `{Create|Delete|Adopt}::{stack id}::{uuid}`. A poll (`get_lifecycle_execution`) gets
//! nothing but the request id and the deployment location, so the id carries which stack
//! to read and what its status means; the uuid makes each request's id its own. A Delete
//! whose associatedTopology names no stack has `no-stack` in place of the stack id.

use crate::stack::{uuid_v4, StackAction};

const SEPARATOR: &str = "::";
const NO_STACK: &str = "no-stack";

/// What an execution's request id says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ExecutionId {
    /// What was asked of the stack.
    pub(crate) action: StackAction,
    /// The stack's id; `None` for a Delete that had no stack to delete.
    pub(crate) stack_id: Option<String>,
}

impl ExecutionId {
    /// A new request id for `action` on `stack_id` (`None`: no stack).
    pub(crate) fn new_request_id(action: StackAction, stack_id: Option<&str>) -> String {
        let prefix = match action {
            StackAction::Create => "Create",
            StackAction::Delete => "Delete",
            StackAction::Adopt => "Adopt",
        };
        let stack = stack_id.unwrap_or(NO_STACK);
        format!("{prefix}{SEPARATOR}{stack}{SEPARATOR}{}", uuid_v4())
    }

    /// Reads a request id made by [`ExecutionId::new_request_id`]; `None` for any other
    /// text. The stack id is what lies between the first and the last separator, so a
    /// stack id given by LM (a Create's `stack_id` property) may hold one too.
    pub(crate) fn parse(request_id: &str) -> Option<Self> {
        let (prefix, rest) = request_id.split_once(SEPARATOR)?;
        let (stack_id, uuid) = rest.rsplit_once(SEPARATOR)?;
        let action = match prefix {
            "Create" => StackAction::Create,
            "Delete" => StackAction::Delete,
            "Adopt" => StackAction::Adopt,
            _ => return None,
        };
        if stack_id.is_empty() || uuid.is_empty() {
            return None;
        }
        let stack_id = if action == StackAction::Delete && stack_id == NO_STACK {
            None
        } else {
            Some(stack_id.to_string())
        };
        Some(Self { action, stack_id })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_id_reads_back_as_made() {
        let stack = "6f1ac3a0-5b5e-4d1e-9a53-0c8f7d1c2b3a";
        for action in [StackAction::Create, StackAction::Delete, StackAction::Adopt] {
            let id = ExecutionId::new_request_id(action, Some(stack));
            assert_eq!(
                ExecutionId::parse(&id),
                Some(ExecutionId {
                    action,
                    stack_id: Some(stack.into())
                }),
                "{id}"
            );
        }
        let id = ExecutionId::new_request_id(StackAction::Create, Some(stack));
        assert!(id.starts_with(&format!("Create::{stack}::")), "{id}");
        assert_eq!(id.len(), "Create::".len() + stack.len() + 2 + 36, "{id}");
        assert_ne!(
            id,
            ExecutionId::new_request_id(StackAction::Create, Some(stack)),
            "each request its own id"
        );
    }

    #[test]
    fn a_delete_without_a_stack_is_no_stack() {
        let id = ExecutionId::new_request_id(StackAction::Delete, None);
        assert!(id.starts_with("Delete::no-stack::"), "{id}");
        assert_eq!(
            ExecutionId::parse(&id),
            Some(ExecutionId {
                action: StackAction::Delete,
                stack_id: None
            })
        );
    }

    #[test]
    fn the_stack_id_is_between_the_first_and_the_last_separator() {
        assert_eq!(
            ExecutionId::parse("Create::odd::id::0b5f8e2c"),
            Some(ExecutionId {
                action: StackAction::Create,
                stack_id: Some("odd::id".into())
            })
        );
    }

    #[test]
    fn other_text_is_not_a_request_id() {
        for text in [
            "",
            "Create",
            "Create::abc",
            "Create::::uuid",
            "Create::abc::",
            "Install::abc::uuid",
            "create::abc::uuid",
            "Del-abc",
        ] {
            assert_eq!(ExecutionId::parse(text), None, "{text}");
        }
    }
}
