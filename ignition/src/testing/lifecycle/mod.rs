//! [`Lifecycle`]: the conformance run (create → COMPLETE → query → find → delete →
//! COMPLETE → find answers not found), and what it reports.

use std::time::{Duration, Instant};

mod report;

use report::Failure;
pub use report::{LifecycleError, LifecycleReport, Step, StepReport};

use super::app::TestApp;
use crate::models::{
    CreateInfrastructureRequest, DeleteInfrastructureRequest, DeploymentLocation,
    FindInfrastructureRequest, InfrastructureTask, InfrastructureTaskQuery, PropValueMap,
    TaskStatus,
};

/// The environment variable that enables acceptance runs against a real VIM.
const ACCEPTANCE_VAR: &str = "IGNITION_ACCEPTANCE";

/// How long each wait for a task event lasts unless [`Lifecycle::timeout`] says otherwise.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The conformance run of a driver, like Terraform's `resource.Test`: one infrastructure
/// through its whole life, each answer checked against the contract and the seed's rules.
///
/// [`Lifecycle::run`] goes through the [`Step`]s in order and stops at the first that
/// breaks a rule:
///
/// 1. `create`: 202 with a non-empty infrastructure id and request id;
/// 2. `create: wait for COMPLETE`: the task's event arrives within the timeout, for the
///    same ids, with status COMPLETE (FAILED: the error carries the failure details);
/// 3. `query`: the task answers COMPLETE, with the same ids;
/// 4. `find`: the instance name finds the same infrastructure id, with outputs (an
///    object);
/// 5. `delete`: 202 for the same infrastructure id, with a non-empty request id;
/// 6. `delete: wait for COMPLETE`: as for the create;
/// 7. `find after delete`: the instance name finds nothing.
///
/// The create carries the instance name as the system property `resourceName` (as LM
/// sends it, and as drivers name what they create) and a fresh `resourceId`, unless the
/// given system properties have them. The instance name is [`Lifecycle::instance_name`],
/// else the given `resourceName`, else a fresh `ignition-lifecycle-<random>`. When a step
/// after the create fails, the run asks for a delete of what it created (not waiting for
/// it) so that a real VIM is not left with it; the error says how that went.
///
/// ```no_run
/// # async fn example(app: &ignition::testing::TestApp) -> Result<(), ignition::testing::LifecycleError> {
/// use std::time::Duration;
/// use ignition::models::{DeploymentLocation, PropValueMap};
/// use ignition::testing::Lifecycle;
///
/// let mut properties = PropValueMap::new();
/// properties.insert("flavor", "m1.small");
/// let report = Lifecycle::new("heat_template_version: 2021-04-16", "HEAT", DeploymentLocation::new("dl"))
///     .instance_name("web")
///     .properties(properties)
///     .timeout(Duration::from_secs(60))
///     .run(app)
///     .await?;
/// println!("{report}");
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[must_use = "a Lifecycle does nothing until it is run"]
pub struct Lifecycle {
    template: String,
    template_type: String,
    deployment_location: DeploymentLocation,
    instance_name: Option<String>,
    properties: PropValueMap,
    system_properties: PropValueMap,
    timeout: Duration,
}

impl Lifecycle {
    /// A run creating infrastructure from `template` (of type `template_type`) in
    /// `deployment_location`, with no properties, waiting up to 30 s for each event.
    ///
    /// ```no_run
    /// use ignition::models::DeploymentLocation;
    /// use ignition::testing::Lifecycle;
    ///
    /// let lifecycle = Lifecycle::new("resources: {}", "TOSCA", DeploymentLocation::new("dl"));
    /// ```
    pub fn new(
        template: impl Into<String>,
        template_type: impl Into<String>,
        deployment_location: DeploymentLocation,
    ) -> Self {
        Self {
            template: template.into(),
            template_type: template_type.into(),
            deployment_location,
            instance_name: None,
            properties: PropValueMap::new(),
            system_properties: PropValueMap::new(),
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// The instance name the create gives (as `resourceName`) and the finds look for.
    ///
    /// ```no_run
    /// # use ignition::models::DeploymentLocation;
    /// # use ignition::testing::Lifecycle;
    /// let lifecycle = Lifecycle::new("t", "TOSCA", DeploymentLocation::new("dl")).instance_name("web");
    /// ```
    pub fn instance_name(mut self, instance_name: impl Into<String>) -> Self {
        self.instance_name = Some(instance_name.into());
        self
    }

    /// The create's `properties`.
    ///
    /// ```no_run
    /// # use ignition::models::{DeploymentLocation, PropValue, PropValueMap};
    /// # use ignition::testing::Lifecycle;
    /// let mut properties = PropValueMap::new();
    /// properties.insert("image", "ubuntu-22.04");
    /// properties.insert("key", PropValue::key("PRIVATE", Some("PUBLIC".into()), None));
    /// let lifecycle = Lifecycle::new("t", "TOSCA", DeploymentLocation::new("dl")).properties(properties);
    /// ```
    pub fn properties(mut self, properties: PropValueMap) -> Self {
        self.properties = properties;
        self
    }

    /// The create's `systemProperties` (`resourceName` and `resourceId` are added when
    /// missing).
    ///
    /// ```no_run
    /// # use ignition::models::{DeploymentLocation, PropValueMap};
    /// # use ignition::testing::Lifecycle;
    /// let mut system_properties = PropValueMap::new();
    /// system_properties.insert("resourceManagerId", "brent");
    /// let lifecycle = Lifecycle::new("t", "TOSCA", DeploymentLocation::new("dl"))
    ///     .system_properties(system_properties);
    /// ```
    pub fn system_properties(mut self, system_properties: PropValueMap) -> Self {
        self.system_properties = system_properties;
        self
    }

    /// How long each wait for a task event may last (default 30 s); raise it for a real
    /// VIM.
    ///
    /// ```no_run
    /// # use std::time::Duration;
    /// # use ignition::models::DeploymentLocation;
    /// # use ignition::testing::Lifecycle;
    /// let lifecycle = Lifecycle::new("t", "TOSCA", DeploymentLocation::new("dl"))
    ///     .timeout(Duration::from_secs(600));
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Whether acceptance runs (against a real VIM) are enabled: `IGNITION_ACCEPTANCE=1`
    /// in the environment, as Terraform's `TF_ACC`. Such a test returns early
    /// otherwise, so that a plain `cargo test` needs no VIM.
    ///
    /// ```no_run
    /// use ignition::testing::Lifecycle;
    ///
    /// #[tokio::test]
    /// async fn a_stack_on_the_real_openstack() {
    ///     if !Lifecycle::acceptance_enabled() {
    ///         eprintln!("skipped: set IGNITION_ACCEPTANCE=1 to run it against the VIM");
    ///         return;
    ///     }
    ///     // TestApp::start(driver for the real VIM), Lifecycle::new(...).run(&app) ...
    /// }
    /// # fn main() {}
    /// ```
    pub fn acceptance_enabled() -> bool {
        std::env::var(ACCEPTANCE_VAR).is_ok_and(|value| value == "1")
    }

    /// Runs the steps against `app`; the report of every step, or the error of the first
    /// one that broke a rule.
    ///
    /// ```no_run
    /// # async fn example(app: &ignition::testing::TestApp) {
    /// use ignition::models::DeploymentLocation;
    /// use ignition::testing::{Lifecycle, Step};
    ///
    /// match Lifecycle::new("t", "TOSCA", DeploymentLocation::new("dl")).run(app).await {
    ///     Ok(report) => println!("{report}"),
    ///     Err(err) if err.step() == Step::Find => panic!("find is broken: {err}"),
    ///     Err(err) => panic!("{err}"),
    /// }
    /// # }
    /// ```
    pub async fn run(&self, app: &TestApp) -> Result<LifecycleReport, LifecycleError> {
        let instance_name = self
            .instance_name
            .clone()
            .or_else(|| {
                self.system_properties
                    .get("resourceName")
                    .map(|name| name.into_owned())
            })
            .unwrap_or_else(|| format!("ignition-lifecycle-{}", &crate::util::random_uuid()[..8]));
        let mut system_properties = self.system_properties.clone();
        if system_properties.get_value("resourceName").is_none() {
            system_properties.insert("resourceName", instance_name.clone());
        }
        if system_properties.get_value("resourceId").is_none() {
            system_properties.insert("resourceId", crate::util::random_uuid());
        }
        let mut run = Run {
            app,
            lifecycle: self,
            instance_name,
            passed: Vec::new(),
            created: None,
            delete_accepted: false,
        };
        match run.steps(system_properties).await {
            Ok(report) => Ok(report),
            Err(failure) => Err(run.fail(failure).await),
        }
    }
}

/// One run in progress.
struct Run<'a> {
    app: &'a TestApp,
    lifecycle: &'a Lifecycle,
    instance_name: String,
    passed: Vec<StepReport>,
    /// The infrastructure id the create answered.
    created: Option<String>,
    /// Whether a delete of it was accepted (no clean-up needed).
    delete_accepted: bool,
}

impl Run<'_> {
    fn pass(&mut self, step: Step, started: Instant) {
        self.passed.push(StepReport {
            step,
            took: started.elapsed(),
        });
    }

    async fn steps(&mut self, system_properties: PropValueMap) -> Result<LifecycleReport, Failure> {
        let l = self.lifecycle;
        let location = || l.deployment_location.clone();

        let started = Instant::now();
        let created = self
            .app
            .create(CreateInfrastructureRequest {
                template: l.template.clone(),
                template_type: l.template_type.clone(),
                system_properties,
                properties: l.properties.clone(),
                deployment_location: location(),
            })
            .await
            .map_err(Failure::client(Step::Create))?;
        if !created.infrastructure_id.is_empty() {
            self.created = Some(created.infrastructure_id.clone());
        }
        non_empty(
            Step::Create,
            &created.infrastructure_id,
            &created.request_id,
        )?;
        let iid = created.infrastructure_id;
        self.pass(Step::Create, started);

        let started = Instant::now();
        self.completes(Step::CreateCompletes, &iid, &created.request_id)
            .await?;
        self.pass(Step::CreateCompletes, started);

        let started = Instant::now();
        let task = self
            .app
            .query(InfrastructureTaskQuery {
                infrastructure_id: iid.clone(),
                request_id: created.request_id.clone(),
                deployment_location: location(),
            })
            .await
            .map_err(Failure::client(Step::Query))?;
        same_task(Step::Query, &task, &iid, &created.request_id)?;
        if task.status != TaskStatus::Complete {
            return Err(Failure::new(
                Step::Query,
                format!(
                    "the query answered {} after the task's COMPLETE event",
                    status_name(task.status)
                ),
            ));
        }
        self.pass(Step::Query, started);

        let started = Instant::now();
        let found = self
            .find(Step::Find)
            .await?
            .ok_or_else(|| {
                Failure::new(
                    Step::Find,
                    format!(
                        "instance name `{}` found nothing; the create answered infrastructure id `{iid}`",
                        self.instance_name
                    ),
                )
            })?;
        if found.infrastructure_id != iid {
            return Err(Failure::new(
                Step::Find,
                format!(
                    "instance name `{}` found infrastructure id `{}`, but the create answered `{iid}`",
                    self.instance_name, found.infrastructure_id
                ),
            ));
        }
        let outputs = found.outputs;
        self.pass(Step::Find, started);

        let started = Instant::now();
        let deleting = self
            .app
            .delete(DeleteInfrastructureRequest {
                infrastructure_id: iid.clone(),
                deployment_location: location(),
            })
            .await
            .map_err(Failure::client(Step::Delete))?;
        non_empty(
            Step::Delete,
            &deleting.infrastructure_id,
            &deleting.request_id,
        )?;
        self.delete_accepted = true;
        if deleting.infrastructure_id != iid {
            return Err(Failure::new(
                Step::Delete,
                format!(
                    "the delete of `{iid}` answered infrastructure id `{}`",
                    deleting.infrastructure_id
                ),
            ));
        }
        self.pass(Step::Delete, started);

        let started = Instant::now();
        self.completes(Step::DeleteCompletes, &iid, &deleting.request_id)
            .await?;
        self.pass(Step::DeleteCompletes, started);

        let started = Instant::now();
        if let Some(still) = self.find(Step::FindDeleted).await? {
            return Err(Failure::new(
                Step::FindDeleted,
                format!(
                    "instance name `{}` still finds infrastructure id `{}` after its delete completed",
                    self.instance_name, still.infrastructure_id
                ),
            ));
        }
        self.pass(Step::FindDeleted, started);

        Ok(LifecycleReport {
            instance_name: self.instance_name.clone(),
            infrastructure_id: iid,
            create_request_id: created.request_id,
            delete_request_id: deleting.request_id,
            outputs,
            steps: std::mem::take(&mut self.passed),
        })
    }

    /// Waits for the task's event and checks it is COMPLETE.
    async fn completes(&self, step: Step, iid: &str, rid: &str) -> Result<(), Failure> {
        let task = self
            .app
            .wait_for_event(rid, self.lifecycle.timeout)
            .await
            .map_err(Failure::client(step))?;
        same_task(step, &task, iid, rid)?;
        match task.status {
            TaskStatus::Complete => Ok(()),
            TaskStatus::Failed => {
                let details = match &task.failure_details {
                    Some(details) => format!(
                        "{}: {}",
                        serde_name(&details.failure_code),
                        details.description.as_deref().unwrap_or("(no description)")
                    ),
                    None => "no failure details (a FAILED task must carry them)".into(),
                };
                Err(Failure::new(
                    step,
                    format!("the task of request id `{rid}` FAILED: {details}"),
                ))
            }
            other => Err(Failure::new(
                step,
                format!(
                    "the event of request id `{rid}` says {}; a task event is COMPLETE or FAILED",
                    status_name(other)
                ),
            )),
        }
    }

    async fn find(
        &self,
        step: Step,
    ) -> Result<Option<crate::models::FindInfrastructureResult>, Failure> {
        let l = self.lifecycle;
        let answer = self
            .app
            .find(FindInfrastructureRequest {
                template: l.template.clone(),
                template_type: l.template_type.clone(),
                instance_name: self.instance_name.clone(),
                deployment_location: l.deployment_location.clone(),
            })
            .await
            .map_err(Failure::client(step))?;
        Ok(answer.result)
    }

    /// The error of `failure`, after asking for a delete of what was created.
    async fn fail(&mut self, failure: Failure) -> LifecycleError {
        let infrastructure_id = self.created.clone();
        let cleanup = match self.created.clone().filter(|_| !self.delete_accepted) {
            None => None,
            Some(iid) => Some(
                match self
                    .app
                    .delete(DeleteInfrastructureRequest {
                        infrastructure_id: iid.clone(),
                        deployment_location: self.lifecycle.deployment_location.clone(),
                    })
                    .await
                {
                    Ok(deleting) => format!(
                        "delete of `{iid}` accepted (request id `{}`; not waited for)",
                        deleting.request_id
                    ),
                    Err(err) => format!("delete of `{iid}` failed: {err}"),
                },
            ),
        };
        LifecycleError {
            step: failure.step,
            reason: failure.reason,
            cause: failure.cause,
            infrastructure_id,
            cleanup,
            passed: std::mem::take(&mut self.passed),
        }
    }
}

#[allow(clippy::result_large_err)] // a failure is built once per failed run
fn non_empty(step: Step, iid: &str, rid: &str) -> Result<(), Failure> {
    let empty = match (iid.is_empty(), rid.is_empty()) {
        (false, false) => return Ok(()),
        (true, true) => "infrastructureId and requestId",
        (true, false) => "infrastructureId",
        (false, true) => "requestId",
    };
    Err(Failure::new(
        step,
        format!(
            "the answer's {empty} must not be empty (infrastructureId `{iid}`, requestId `{rid}`)"
        ),
    ))
}

#[allow(clippy::result_large_err)] // a failure is built once per failed run
fn same_task(step: Step, task: &InfrastructureTask, iid: &str, rid: &str) -> Result<(), Failure> {
    if task.infrastructure_id == iid && task.request_id == rid {
        return Ok(());
    }
    Err(Failure::new(
        step,
        format!(
            "the task has infrastructure id `{}` and request id `{}`, expected `{iid}` and `{rid}`",
            task.infrastructure_id, task.request_id
        ),
    ))
}

/// `COMPLETE`, `IN_PROGRESS`, `FAILED`: the contract's name.
fn status_name(status: TaskStatus) -> String {
    serde_name(&status)
}

/// The JSON name of a unit variant (`INSUFFICIENT_CAPACITY`).
fn serde_name<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => name,
        Ok(other) => other.to_string(),
        Err(_) => "?".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_names_the_step_the_reason_the_cleanup_and_what_passed() {
        let err = LifecycleError {
            step: Step::Find,
            reason: "instance name `web` found infrastructure id `b`, but the create answered `a`"
                .into(),
            cause: None,
            infrastructure_id: Some("a".into()),
            cleanup: Some("delete of `a` accepted (request id `r2`; not waited for)".into()),
            passed: vec![StepReport {
                step: Step::Create,
                took: Duration::from_millis(3),
            }],
        };
        assert_eq!(
            err.to_string(),
            "lifecycle step `find` failed: instance name `web` found infrastructure id `b`, \
             but the create answered `a`; clean-up: delete of `a` accepted (request id `r2`; \
             not waited for) (passed before it: create (3ms))"
        );
        assert_eq!(format!("{err:?}"), err.to_string());
    }

    #[test]
    fn empty_ids_are_named() {
        let failure = non_empty(Step::Create, "", "r").unwrap_err();
        assert!(failure
            .reason
            .contains("infrastructureId must not be empty"));
        assert!(non_empty(Step::Create, "i", "r").is_ok());
    }

    #[test]
    fn resource_ids_look_like_uuids() {
        let id = crate::util::random_uuid();
        assert_eq!(id.len(), 36);
        assert_ne!(id, crate::util::random_uuid());
    }
}
