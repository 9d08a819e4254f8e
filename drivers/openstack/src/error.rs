//! What can go wrong talking to Keystone and Heat, and the answer LM gets for each.

use ignition::prelude::*;

/// An error of a call to Keystone or Heat. Messages name the location and the endpoint,
/// never a credential (the token and the password are [`Secret`](crate::location::Secret)s
/// and request bodies are never quoted).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum HeatError {
    /// The location's properties do not fit, or it refused the request as given: 400.
    #[error("{0}")]
    BadRequest(String),
    /// Heat or Keystone cannot be reached (connection refused, DNS): 400, and a poll
    /// tries again later.
    #[error("{0}")]
    Unreachable(String),
    /// The stack does not exist (Heat's 404).
    #[error("{0}")]
    NotFound(String),
    /// A 5xx, or no answer in time: 503, tried again later.
    #[error("{0}")]
    Temporary(String),
    /// An answer the driver cannot read: 500.
    #[error("{0}")]
    Internal(String),
}

/// A deployment location whose properties do not fit: a bad request naming the location
/// and the property (never its value).
impl From<PropertiesError> for HeatError {
    fn from(err: PropertiesError) -> Self {
        HeatError::BadRequest(err.to_string())
    }
}

impl From<HeatError> for InfrastructureError {
    fn from(err: HeatError) -> Self {
        match err {
            // The 400 of a request that cannot be carried out as given (a bad template, a
            // taken name, refused credentials): not retried.
            HeatError::BadRequest(m) => InfrastructureError::InvalidTemplate(m),
            HeatError::Unreachable(m) => InfrastructureError::UnreachableDeploymentLocation(m),
            HeatError::NotFound(m) => InfrastructureError::NotFound(m),
            HeatError::Temporary(m) => InfrastructureError::Temporary(m),
            HeatError::Internal(m) => InfrastructureError::Internal(m),
        }
    }
}

impl From<HeatError> for ResourceDriverError {
    fn from(err: HeatError) -> Self {
        match err {
            // A request that cannot be carried out as given (a bad template, a taken name,
            // refused credentials, a location's missing property): 400, not retried.
            HeatError::BadRequest(m) => ResourceDriverError::InvalidRequest(m),
            HeatError::Unreachable(m) => ResourceDriverError::UnreachableDeploymentLocation(m),
            HeatError::NotFound(m) => ResourceDriverError::InfrastructureNotFound(m),
            HeatError::Temporary(m) => ResourceDriverError::Temporary(m),
            HeatError::Internal(m) => ResourceDriverError::Internal(m),
        }
    }
}

/// The reasons in a reqwest error's chain, without its URL (the caller names the endpoint).
pub(crate) fn causes(err: &reqwest::Error) -> String {
    let mut reasons = Vec::new();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        let text = cause.to_string();
        if !reasons.iter().any(|r: &String| r.contains(&text)) {
            reasons.push(text);
        }
        source = cause.source();
    }
    if reasons.is_empty() {
        let kind = if err.is_timeout() {
            "no answer in time"
        } else if err.is_decode() {
            "an answer that is not the expected JSON"
        } else {
            "the request failed"
        };
        reasons.push(kind.to_string());
    }
    reasons.join(": ")
}

/// A failed request to `what` (e.g. `Heat at http://...`) of location `location`.
pub(crate) fn request_failed(location: &str, what: &str, err: &reqwest::Error) -> HeatError {
    let message = format!(
        "deployment location '{location}': {what} cannot be reached: {}",
        causes(err)
    );
    if err.is_connect() {
        HeatError::Unreachable(message)
    } else if err.is_timeout() {
        HeatError::Temporary(format!(
            "deployment location '{location}': {what} did not answer in time"
        ))
    } else {
        HeatError::Temporary(message)
    }
}
