//! What can go wrong in a test: [`TestError`], and the contract's error body
//! ([`ErrorBody`]) an operation answers with a 4xx or 5xx.

use std::fmt;
use std::time::Duration;

use crate::BootError;

/// The contract's error answer (`{"localizedMessage": "...", "status": N}`), as a
/// [`TestApp`](super::TestApp) operation returns it inside [`TestError::Status`].
///
/// ```no_run
/// # async fn example(app: &ignition::testing::TestApp) {
/// use ignition::models::{DeploymentLocation, FindInfrastructureRequest};
/// use ignition::testing::ErrorBody;
///
/// let err = app
///     .find(FindInfrastructureRequest {
///         template: "not a template".into(),
///         template_type: "HEAT".into(),
///         instance_name: "web".into(),
///         deployment_location: DeploymentLocation::new("dl"),
///     })
///     .await
///     .unwrap_err();
/// let body: &ErrorBody = err.error_body().expect("an error status");
/// assert_eq!(body.status, 400);
/// assert!(body.localized_message.contains("template"));
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorBody {
    /// The HTTP status (400–599), the same as the body's `status`.
    pub status: u16,
    /// The body's `localizedMessage`.
    pub localized_message: String,
}

impl fmt::Display for ErrorBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status, self.localized_message)
    }
}

/// Why a [`TestApp`](super::TestApp) call failed: the app did not start, an operation
/// answered an error status, HTTP failed, an answer broke the contract, or an event did
/// not come in time. Its `Display` says which, with the status, the body, the request
/// id and how long it waited, as they apply.
///
/// ```no_run
/// # async fn example(app: &ignition::testing::TestApp) {
/// use std::time::Duration;
/// use ignition::testing::TestError;
///
/// match app.wait_for_event("request-1", Duration::from_secs(5)).await {
///     Ok(task) => println!("{:?}", task.status),
///     Err(TestError::EventTimeout { request_id, .. }) => panic!("no event for {request_id:?}"),
///     Err(other) => panic!("{other}"),
/// }
/// # }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TestError {
    /// The app did not start (its configuration, its driver, its port).
    #[error("the app did not start: {0}")]
    Start(#[source] BootError),

    /// An operation answered a 4xx or 5xx with the contract's error body.
    #[error("{operation} answered {}: {}; body: {body}", error.status, error.localized_message)]
    #[non_exhaustive]
    Status {
        /// `create`, `query`, `delete` or `find`.
        operation: &'static str,
        /// The error body.
        error: ErrorBody,
        /// The body as it came (a custom error adds fields of its own).
        body: String,
    },

    /// The request got no answer (connection refused, timeout, broken body).
    #[error("{operation} got no answer from {url}: {reason}")]
    #[non_exhaustive]
    Http {
        /// `create`, `query`, `delete` or `find`.
        operation: &'static str,
        /// The URL it was sent to.
        url: String,
        /// What went wrong, with its causes.
        reason: String,
    },

    /// An answer (or a task event) does not match the contract: an unexpected status, a
    /// body that is not the operation's response type, an error without the contract's
    /// error body.
    #[error("{operation} answered {status}, which breaks the contract: {reason}; body: {body}")]
    #[non_exhaustive]
    Contract {
        /// `create`, `query`, `delete`, `find` or `task event`.
        operation: &'static str,
        /// The HTTP status (0 for a task event).
        status: u16,
        /// What is wrong with it.
        reason: String,
        /// The body (or the event's payload) as it came.
        body: String,
    },

    /// No task event arrived in time.
    #[error("{}", event_timeout(request_id.as_deref(), *within, received))]
    #[non_exhaustive]
    EventTimeout {
        /// The request whose event was awaited (`None`: the next event of any request).
        request_id: Option<String>,
        /// How long it waited.
        within: Duration,
        /// The request ids of the events that did arrive, in order.
        received: Vec<String>,
    },

    /// Task events cannot be seen: the app does not run on the embedded default, or it
    /// stopped.
    #[error("no task events to wait for: {reason}")]
    #[non_exhaustive]
    NoEvents {
        /// Why.
        reason: String,
    },
}

impl TestError {
    /// The contract's error body, when an operation answered an error status.
    pub fn error_body(&self) -> Option<&ErrorBody> {
        match self {
            Self::Status { error, .. } => Some(error),
            _ => None,
        }
    }

    /// The HTTP status of the answer, when there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Status { error, .. } => Some(error.status),
            Self::Contract { status, .. } if *status != 0 => Some(*status),
            _ => None,
        }
    }
}

fn event_timeout(request_id: Option<&str>, within: Duration, received: &[String]) -> String {
    let what = match request_id {
        Some(id) => format!("no task event for request id `{id}`"),
        None => "no further task event".to_string(),
    };
    let seen = match received.len() {
        0 => "no event arrived at all".to_string(),
        n => {
            const SHOWN: usize = 10;
            let mut ids: Vec<String> = received
                .iter()
                .take(SHOWN)
                .map(|id| format!("`{id}`"))
                .collect();
            if n > SHOWN {
                ids.push(format!("and {} more", n - SHOWN));
            }
            format!("{n} event(s) arrived, for request ids {}", ids.join(", "))
        }
    };
    format!("{what} within {within:?}; {seen}")
}

/// At most `MAX` characters of a body, for messages.
pub(super) fn shorten(body: &str) -> String {
    const MAX: usize = 2000;
    match body.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}… ({} bytes in all)", &body[..cut], body.len()),
        None => body.to_string(),
    }
}
