// A driver with its own error type: each operation may return a different one, and
// `get_infrastructure_task` returns it through an alias.
use ignition::prelude::*;

#[derive(Debug, thiserror::Error, ApiError)]
pub enum QuotaError {
    #[error("quota exceeded for project {project}")]
    #[api_error(status = 409)]
    Exceeded {
        #[api_error(field)]
        project: String,
        #[api_error(field = "retryAfterSeconds")]
        retry_after: u32,
    },
    #[error("quota service unavailable")]
    #[api_error(status = 503, retry)]
    Unavailable,
    #[error(transparent)]
    #[api_error(status = 500)]
    Infrastructure(#[from] InfrastructureError),
}

type QuotaResult<T> = Result<T, QuotaError>;

pub struct QuotaDriver {
    project: String,
}

#[vim_driver]
impl QuotaDriver {
    async fn create_infrastructure(
        &self,
        _template: String,
        _template_type: String,
        _system_properties: PropValueMap,
        _properties: PropValueMap,
        _deployment_location: DeploymentLocation,
    ) -> Result<CreateInfrastructureResponse, QuotaError> {
        Err(QuotaError::Exceeded { project: self.project.clone(), retry_after: 30 })
    }

    async fn get_infrastructure_task(
        &self,
        _infrastructure_id: String,
        _request_id: String,
        _deployment_location: DeploymentLocation,
    ) -> QuotaResult<InfrastructureTask> {
        Err(QuotaError::Unavailable)
    }

    async fn delete_infrastructure(
        &self,
        _infrastructure_id: String,
        _deployment_location: DeploymentLocation,
    ) -> Result<DeleteInfrastructureResponse, QuotaError> {
        Err(InfrastructureError::NotFound("gone".into()).into())
    }

    async fn find_infrastructure(
        &self,
        _template: String,
        _template_type: String,
        _instance_name: String,
        _deployment_location: DeploymentLocation,
    ) -> Result<FindInfrastructureResponse, InfrastructureError> {
        Ok(FindInfrastructureResponse::not_found())
    }
}

fn main() {
    // The spec lists the statuses of each operation's own error type.
    use ignition::__private::{Operation, VimDriver};
    assert_eq!(
        <QuotaDriver as VimDriver>::error_statuses(Operation::Query),
        <QuotaError as ApiError>::statuses()
    );
    assert_eq!(
        <QuotaDriver as VimDriver>::error_statuses(Operation::Find),
        <InfrastructureError as ApiError>::statuses()
    );
    // An operation of the other kind has none.
    assert!(<QuotaDriver as VimDriver>::error_statuses(Operation::Execute).is_empty());

    let exceeded = QuotaError::Exceeded { project: "p1".into(), retry_after: 30 };
    assert_eq!(exceeded.status(), 409);
    assert!(!exceeded.retry());
    let fields = ignition::serde_json::json!({"project": "p1", "retryAfterSeconds": 30});
    assert_eq!(ignition::serde_json::Value::Object(exceeded.extra_fields()), fields);

    assert_eq!(QuotaError::Unavailable.status(), 503);
    assert!(QuotaError::Unavailable.retry());
    assert!(QuotaError::Unavailable.extra_fields().is_empty());

    assert_eq!(QuotaError::statuses(), [409, 500, 503]);
}
