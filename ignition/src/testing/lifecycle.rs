//! [`Lifecycle`]: the conformance run (create → COMPLETE → query → find → delete →
//! COMPLETE → find answers not found), and what it reports.

use std::fmt;
use std::time::{Duration, Instant};

use super::app::TestApp;
use super::error::TestError;
use crate::models::{
    CreateInfrastructureRequest, DeleteInfrastructureRequest, DeploymentLocation,
    FindInfrastructureRequest, InfrastructureTask, InfrastructureTaskQuery, Outputs, PropValueMap,
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

/// A step of the [`Lifecycle`], named in its error and its report.
///
/// ```
/// use ignition::testing::Step;
///
/// assert_eq!(Step::CreateCompletes.to_string(), "create: wait for COMPLETE");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Step {
    /// `create`: 202 with non-empty ids.
    Create,
    /// `create: wait for COMPLETE`: the create's task event, COMPLETE.
    CreateCompletes,
    /// `query`: the created task answers COMPLETE.
    Query,
    /// `find`: the instance name finds the created infrastructure.
    Find,
    /// `delete`: 202 for the created infrastructure.
    Delete,
    /// `delete: wait for COMPLETE`: the delete's task event, COMPLETE.
    DeleteCompletes,
    /// `find after delete`: the instance name finds nothing.
    FindDeleted,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Step::Create => "create",
            Step::CreateCompletes => "create: wait for COMPLETE",
            Step::Query => "query",
            Step::Find => "find",
            Step::Delete => "delete",
            Step::DeleteCompletes => "delete: wait for COMPLETE",
            Step::FindDeleted => "find after delete",
        })
    }
}

/// One step that passed, and how long it took.
///
/// ```no_run
/// # fn example(report: &ignition::testing::LifecycleReport) {
/// for step in &report.steps {
///     println!("{}: {:?}", step.step, step.took);
/// }
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct StepReport {
    /// The step.
    pub step: Step,
    /// How long it took (a wait: until the event arrived).
    pub took: Duration,
}

impl fmt::Display for StepReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({:?})", self.step, self.took)
    }
}

/// What a [`Lifecycle`] run that passed did: the ids, the outputs, and every step with
/// its time. `Display` prints it on one line.
///
/// ```no_run
/// # fn example(report: ignition::testing::LifecycleReport) {
/// assert_eq!(report.steps.len(), 7);
/// assert!(report.outputs.contains_key("ip"));
/// println!("{report}");
/// # }
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct LifecycleReport {
    /// The instance name it created and found.
    pub instance_name: String,
    /// The infrastructure id the create answered.
    pub infrastructure_id: String,
    /// The create's request id.
    pub create_request_id: String,
    /// The delete's request id.
    pub delete_request_id: String,
    /// The outputs the find answered.
    pub outputs: Outputs,
    /// Every step, in order.
    pub steps: Vec<StepReport>,
}

impl LifecycleReport {
    /// The time of all steps together.
    ///
    /// ```no_run
    /// # fn example(report: ignition::testing::LifecycleReport) {
    /// println!("the lifecycle took {:?}", report.total());
    /// # }
    /// ```
    pub fn total(&self) -> Duration {
        self.steps.iter().map(|s| s.took).sum()
    }
}

impl fmt::Display for LifecycleReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "lifecycle of `{}` (infrastructure `{}`) passed in {:?}: {}",
            self.instance_name,
            self.infrastructure_id,
            self.total(),
            list(&self.steps)
        )
    }
}

/// Why a [`Lifecycle`] run failed: the [`Step`] that broke a rule, and why. `Display`
/// (and `Debug`, which a test returning `Result` prints) names the step, says what was
/// wrong (with the status and body, the failure details, or the timeout and request id),
/// how the clean-up went, and which steps had passed.
///
/// ```no_run
/// # async fn example(app: &ignition::testing::TestApp) {
/// use ignition::models::DeploymentLocation;
/// use ignition::testing::{Lifecycle, Step};
///
/// let err = Lifecycle::new("t", "TOSCA", DeploymentLocation::new("dl"))
///     .run(app)
///     .await
///     .unwrap_err();
/// assert_eq!(err.step(), Step::CreateCompletes);
/// assert!(err.to_string().contains("within"), "{err}");
/// # }
/// ```
pub struct LifecycleError {
    step: Step,
    reason: String,
    cause: Option<TestError>,
    infrastructure_id: Option<String>,
    cleanup: Option<String>,
    passed: Vec<StepReport>,
}

impl LifecycleError {
    /// The step that failed.
    ///
    /// ```no_run
    /// # fn example(err: ignition::testing::LifecycleError) {
    /// assert_eq!(err.step(), ignition::testing::Step::Find);
    /// # }
    /// ```
    pub fn step(&self) -> Step {
        self.step
    }

    /// Why it failed, in a sentence.
    ///
    /// ```no_run
    /// # fn example(err: ignition::testing::LifecycleError) {
    /// assert!(err.reason().contains("INSUFFICIENT_CAPACITY"));
    /// # }
    /// ```
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// The client's error, when the step failed on one (an error status, no answer, an
    /// event that did not come).
    ///
    /// ```no_run
    /// # fn example(err: ignition::testing::LifecycleError) {
    /// if let Some(body) = err.test_error().and_then(|e| e.error_body()) {
    ///     println!("answered {}", body.status);
    /// }
    /// # }
    /// ```
    pub fn test_error(&self) -> Option<&TestError> {
        self.cause.as_ref()
    }

    /// The infrastructure id the create answered, if it got that far.
    ///
    /// ```no_run
    /// # fn example(err: ignition::testing::LifecycleError) {
    /// println!("left behind: {:?}", err.infrastructure_id());
    /// # }
    /// ```
    pub fn infrastructure_id(&self) -> Option<&str> {
        self.infrastructure_id.as_deref()
    }

    /// The steps that passed before it, with their times.
    ///
    /// ```no_run
    /// # fn example(err: ignition::testing::LifecycleError) {
    /// assert_eq!(err.passed().len(), 3);
    /// # }
    /// ```
    pub fn passed(&self) -> &[StepReport] {
        &self.passed
    }
}

impl fmt::Display for LifecycleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "lifecycle step `{}` failed: {}", self.step, self.reason)?;
        if let Some(cleanup) = &self.cleanup {
            write!(f, "; clean-up: {cleanup}")?;
        }
        match self.passed.len() {
            0 => write!(f, " (no step passed before it)"),
            _ => write!(f, " (passed before it: {})", list(&self.passed)),
        }
    }
}

/// The message, as `Display`: a test returning `Err` prints this.
impl fmt::Debug for LifecycleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// The message says everything, the client's error included ([`LifecycleError::test_error`]
/// gives it as a value); there is no separate `source`.
impl std::error::Error for LifecycleError {}

fn list(steps: &[StepReport]) -> String {
    steps
        .iter()
        .map(StepReport::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// A step's failure, before the run adds what it knows.
struct Failure {
    step: Step,
    reason: String,
    cause: Option<TestError>,
}

impl Failure {
    fn new(step: Step, reason: impl Into<String>) -> Self {
        Self {
            step,
            reason: reason.into(),
            cause: None,
        }
    }

    /// The client failed: its error is the reason.
    fn client(step: Step) -> impl FnOnce(TestError) -> Failure {
        move |err| Failure {
            step,
            reason: err.to_string(),
            cause: Some(err),
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
