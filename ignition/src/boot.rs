//! Start-up: the error that stops it, connecting to what the configuration names, and
//! which services run, wired together.
//!
//! Each `bootstrap.*` flag turns one built-in service off. A service that is on needs the
//! ones below it (API → InfrastructureApiService → InfrastructureService →
//! InfrastructureTaskMonitoringService → job queue + InfrastructureMessagingService →
//! postal/delivery); when one of those is off and none was supplied, start-up fails
//! with a [`BootError`] naming both services and the flag.
//!
//! `boot` depends on every layer; no layer depends on `boot`: each returns its own error
//! type, which [`BootError`] wraps as its `source`.

use std::path::PathBuf;
use std::sync::Arc;

use crate::config::{ConfigError, IgnitionConfig};
use crate::jobqueue::{EmbeddedJobQueue, JobQueue, JobQueueError};
use crate::management::Vital;
use crate::messaging::{Delivery, EmbeddedBus, InfrastructureMessagingService};
use crate::metrics::Recorder;
use crate::monitor::{InfrastructureTaskMonitoringService, MonitorSettings, TaskPoller};

/// Why the app did not start: a clear message naming the file, property or service.
///
/// Match on the variant to tell causes apart; `Display` is the message for the operator.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BootError {
    /// The configuration is refused (a file, a property, a value).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The file given to [`App::config_file`](crate::App::config_file) does not exist.
    #[error("configuration file {} does not exist (given to App::config_file)", path.display())]
    ConfigFileMissing {
        /// The path given.
        path: PathBuf,
    },
    /// The app was started without a driver.
    #[error("no driver: give the app one with App::driver(...) or App::driver_with(...) before starting it")]
    NoDriver,
    /// A service is disabled that another one needs.
    #[error("{service} needs the {needed}, which is disabled by `{flag}: false`; enable it{supply}", supply = supply.map(|how| format!(", or supply one with {how}")).unwrap_or_default())]
    ServiceDisabled {
        /// The service that cannot run.
        service: &'static str,
        /// The service it needs.
        needed: &'static str,
        /// The `bootstrap.*` flag that turned it off.
        flag: &'static str,
        /// How the user can supply one instead (e.g. `App::job_queue`).
        supply: Option<&'static str>,
    },
    /// Kafka is configured but this build has no Kafka support.
    #[error("`messaging.connection_address` is set ({address}), but this build of ignition has no Kafka {what} (the `kafka` feature is off); enable it, or remove the property to use the embedded default")]
    NoKafkaSupport {
        /// The configured address.
        address: String,
        /// What is missing (delivery, job queue).
        what: &'static str,
    },
    /// The job queue did not start.
    #[error(transparent)]
    JobQueue(#[from] JobQueueError),
    /// The HTTP listener could not be opened.
    #[error(transparent)]
    Listen(#[from] crate::server::ListenError),
    /// Kafka could not be reached or set up.
    #[cfg(feature = "kafka")]
    #[error(transparent)]
    Kafka(#[from] crate::kafka::KafkaError),
    /// The driver's own start-up failed ([`BootError::driver`]).
    #[error("the driver did not start: {0}")]
    Driver(String),
}

impl BootError {
    /// A start-up error of the driver's own, e.g. from
    /// [`App::driver_with`](crate::App::driver_with) when the VIM cannot be reached:
    ///
    /// ```
    /// # use ignition::BootError;
    /// let err = BootError::driver("cannot reach https://vim.example:5000: connection refused");
    /// assert!(err.to_string().contains("connection refused"));
    /// ```
    pub fn driver(error: impl std::fmt::Display) -> Self {
        BootError::Driver(error.to_string())
    }
}

/// Implementations the user supplied in place of built-in services.
#[derive(Default, Clone)]
pub(crate) struct Supplied {
    pub(crate) job_queue: Option<Arc<dyn JobQueue>>,
    pub(crate) delivery: Option<Arc<dyn Delivery>>,
}

/// The services that run, wired together.
pub(crate) struct Wiring {
    /// Vitals of the built-in services that run (e.g. `kafka`, `job_queue`).
    pub(crate) vitals: Vec<Arc<dyn Vital>>,
    pub(crate) delivery: Option<Arc<dyn Delivery>>,
    /// Set when the delivery is the built-in embedded bus.
    pub(crate) embedded_bus: Option<EmbeddedBus>,
    pub(crate) job_queue: Option<Arc<dyn JobQueue>>,
    pub(crate) messaging: Option<InfrastructureMessagingService>,
    /// `None` when tasks are not monitored (`infrastructure.async_messaging_enabled:
    /// false`, the driver sends its own events).
    pub(crate) monitoring: Option<InfrastructureTaskMonitoringService>,
    /// Whether the InfrastructureService (and so the API over it) runs.
    pub(crate) service: bool,
    /// Whether `/api/infrastructure` is served.
    pub(crate) api: bool,
}

/// Built-in services that need a connection, made before wiring (Kafka).
#[derive(Default)]
pub(crate) struct Connected {
    pub(crate) delivery: Option<Arc<dyn Delivery>>,
    pub(crate) job_queue: Option<Arc<dyn JobQueue>>,
    /// Vitals of what was connected (e.g. `kafka`).
    pub(crate) vitals: Vec<Arc<dyn Vital>>,
    /// The vital of the connected job queue's consumer: shown only when that job queue
    /// is the one that runs (a supplied job queue replaces it).
    pub(crate) job_queue_vital: Option<Arc<dyn Vital>>,
}

/// Connects to Kafka when `messaging.connection_address` is set and a built-in service
/// needs it (the user may have supplied both delivery and job queue).
#[cfg_attr(not(feature = "kafka"), allow(unused_variables))]
pub(crate) async fn connect(
    config: &IgnitionConfig,
    app_name: &str,
    supplied: &Supplied,
    metrics: &Recorder,
) -> Result<Connected, BootError> {
    let needed = supplied.delivery.is_none() || supplied.job_queue.is_none();
    if !config.uses_kafka() || !needed {
        return Ok(Connected::default());
    }
    #[cfg(feature = "kafka")]
    {
        let kafka = crate::kafka::KafkaServices::connect(config, app_name).await?;
        kafka.record(metrics, supplied.job_queue.is_none());
        Ok(Connected {
            delivery: Some(kafka.delivery),
            job_queue: Some(kafka.job_queue),
            vitals: vec![kafka.vital],
            job_queue_vital: Some(kafka.consumer_vital),
        })
    }
    #[cfg(not(feature = "kafka"))]
    Ok(Connected::default())
}

fn needs(
    service: &'static str,
    needed: &'static str,
    flag: &'static str,
    supply: Option<&'static str>,
) -> BootError {
    BootError::ServiceDisabled {
        service,
        needed,
        flag,
        supply,
    }
}

/// Builds the services the configuration asks for, bottom up.
pub(crate) fn wire(
    config: &IgnitionConfig,
    supplied: Supplied,
    connected: Connected,
    poller: Arc<dyn TaskPoller>,
    metrics: &Recorder,
) -> Result<Wiring, BootError> {
    let boot = &config.bootstrap;
    let kafka = config.messaging.connection_address.as_deref();
    let no_kafka = |what| BootError::NoKafkaSupport {
        address: kafka.unwrap_or_default().to_string(),
        what,
    };

    let mut embedded_bus = None;
    let delivery: Option<Arc<dyn Delivery>> = match supplied.delivery {
        Some(delivery) => Some(delivery),
        None if !boot.messaging.postal_enabled || !boot.messaging.delivery_enabled => None,
        None => match kafka {
            Some(_) => Some(connected.delivery.ok_or_else(|| no_kafka("delivery"))?),
            None => {
                let bus = EmbeddedBus::new(true);
                embedded_bus = Some(bus.clone());
                Some(Arc::new(bus))
            }
        },
    };

    let messaging = if boot.infrastructure.messaging_service_enabled {
        let Some(delivery) = delivery.clone() else {
            let flag = if boot.messaging.postal_enabled {
                "bootstrap.messaging.delivery_enabled"
            } else {
                "bootstrap.messaging.postal_enabled"
            };
            return Err(needs(
                "the InfrastructureMessagingService",
                "postal/delivery service",
                flag,
                Some("App::delivery"),
            ));
        };
        Some(
            InfrastructureMessagingService::new(
                delivery,
                &config.messaging.topics.infrastructure_task_events.name,
            )
            .with_metrics(metrics.clone()),
        )
    } else {
        None
    };

    let mut vitals = connected.vitals;
    let job_queue: Option<Arc<dyn JobQueue>> = match supplied.job_queue {
        Some(queue) => Some(queue),
        None if !boot.job_queue.service_enabled => None,
        None => match kafka {
            Some(_) => {
                vitals.extend(connected.job_queue_vital);
                Some(connected.job_queue.ok_or_else(|| no_kafka("job queue"))?)
            }
            None => {
                let queue = EmbeddedJobQueue::new(config.job_queue.max_concurrent_polls);
                record_embedded(&queue, metrics);
                Some(Arc::new(queue))
            }
        },
    };

    let monitors = config.framework_monitors_tasks();
    let monitoring = if boot.infrastructure.monitoring_service_enabled && monitors {
        let Some(queue) = job_queue.clone() else {
            return Err(needs(
                "the InfrastructureTaskMonitoringService",
                "job queue service",
                "bootstrap.job_queue.service_enabled",
                Some("App::job_queue"),
            ));
        };
        let Some(messaging) = messaging.clone() else {
            return Err(needs(
                "the InfrastructureTaskMonitoringService",
                "InfrastructureMessagingService",
                "bootstrap.infrastructure.messaging_service_enabled",
                None,
            ));
        };
        Some(InfrastructureTaskMonitoringService::new(
            queue,
            poller,
            messaging,
            MonitorSettings::from_config(config),
            metrics.clone(),
        ))
    } else {
        None
    };

    let service = boot.infrastructure.service_enabled;
    if service {
        if !monitors {
            if messaging.is_none() {
                return Err(needs(
                    "the InfrastructureService (with infrastructure.async_messaging_enabled: false, the driver sends its own events)",
                    "InfrastructureMessagingService",
                    "bootstrap.infrastructure.messaging_service_enabled",
                    None,
                ));
            }
        } else if monitoring.is_none() {
            return Err(needs(
                "the InfrastructureService",
                "InfrastructureTaskMonitoringService",
                "bootstrap.infrastructure.monitoring_service_enabled",
                None,
            ));
        }
    }

    let api = boot.infrastructure.api_enabled;
    if api {
        if !boot.infrastructure.api_service_enabled {
            return Err(needs(
                "the Infrastructure API (bootstrap.infrastructure.api_enabled)",
                "InfrastructureApiService",
                "bootstrap.infrastructure.api_service_enabled",
                None,
            ));
        }
        if !service {
            return Err(needs(
                "the InfrastructureApiService",
                "InfrastructureService",
                "bootstrap.infrastructure.service_enabled",
                None,
            ));
        }
    }

    Ok(Wiring {
        vitals,
        delivery,
        embedded_bus,
        job_queue,
        messaging,
        monitoring,
        service,
        api,
    })
}

/// The gauges of the embedded job queue: its jobs are the tasks monitored, and its jobs
/// waiting for a free worker its lag.
fn record_embedded(queue: &EmbeddedJobQueue, metrics: &Recorder) {
    let probe = Arc::new(queue.probe());
    let counts = probe.clone();
    metrics.tasks_monitored(move || counts().map_or(0, |(pending, _)| pending as i64));
    metrics.job_queue_lag(move || {
        let waiting = probe().map_or(0, |(_, waiting)| waiting as i64);
        vec![("embedded".to_string(), waiting)]
    });
}
