//! What a [`Lifecycle`](super::Lifecycle)(super::Lifecycle) run reports: its steps, the report of a run
//! that passed, the error of one that did not.

use std::fmt;
use std::time::Duration;

use crate::models::Outputs;
use crate::testing::TestError;

/// A step of the [`Lifecycle`](super::Lifecycle), named in its error and its report.
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

/// What a [`Lifecycle`](super::Lifecycle) run that passed did: the ids, the outputs, and every step with
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

/// Why a [`Lifecycle`](super::Lifecycle) run failed: the [`Step`] that broke a rule, and why. `Display`
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
    pub(super) step: Step,
    pub(super) reason: String,
    pub(super) cause: Option<TestError>,
    pub(super) infrastructure_id: Option<String>,
    pub(super) cleanup: Option<String>,
    pub(super) passed: Vec<StepReport>,
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

pub(super) fn list(steps: &[StepReport]) -> String {
    steps
        .iter()
        .map(StepReport::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// A step's failure, before the run adds what it knows.
pub(super) struct Failure {
    pub(super) step: Step,
    pub(super) reason: String,
    pub(super) cause: Option<TestError>,
}

impl Failure {
    pub(super) fn new(step: Step, reason: impl Into<String>) -> Self {
        Self {
            step,
            reason: reason.into(),
            cause: None,
        }
    }

    /// The client failed: its error is the reason.
    pub(super) fn client(step: Step) -> impl FnOnce(TestError) -> Failure {
        move |err| Failure {
            step,
            reason: err.to_string(),
            cause: Some(err),
        }
    }
}
