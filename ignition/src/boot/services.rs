//! Which services run, wired together bottom up: delivery, messaging, job queue, task
//! monitor, service, API.
//!
//! Each `bootstrap.*` flag turns one built-in service off. A service that is on needs the
//! ones below it (API → API service → service → task monitor → job queue + messaging
//! service → postal/delivery); when one of those is off and none was supplied, start-up
//! fails with a [`BootError`] naming both services and the flag. The services and flags
//! are named as in the Python framework for the driver's API kind
//! (`bootstrap.infrastructure.*`: InfrastructureService, ...; `bootstrap.resource_driver.*`:
//! ResourceDriverService, ...).

use std::sync::Arc;

use super::BootError;
use crate::config::IgnitionConfig;
use crate::jobqueue::{EmbeddedJobQueue, JobQueue};
use crate::management::Vital;
use crate::messaging::{Delivery, EmbeddedBus, MessagingService};
use crate::metrics::Recorder;
use crate::monitor::{JobSeal, MonitorSettings, PollObserver, TaskMonitor, TaskPoller};
use crate::operations::ApiKind;

/// Implementations the user supplied in place of built-in services.
#[derive(Default, Clone)]
pub(crate) struct Supplied {
    pub(crate) job_queue: Option<Arc<dyn JobQueue>>,
    pub(crate) delivery: Option<Arc<dyn Delivery>>,
}

/// The vitals of the built-in services that run, by the answer they show in (see
/// `management`).
#[derive(Default)]
pub(super) struct ServiceVitals {
    /// `/management/health` (e.g. `kafka`, `job_queue`).
    pub(super) health: Vec<Arc<dyn Vital>>,
    /// `/management/health/liveness` (e.g. `job_queue`).
    pub(super) liveness: Vec<Arc<dyn Vital>>,
    /// `/management/health/readiness` (e.g. `kafka`: the broker or the spool).
    pub(super) readiness: Vec<Arc<dyn Vital>>,
}

/// The services that run.
pub(super) struct Services {
    pub(super) vitals: ServiceVitals,
    pub(super) delivery: Option<Arc<dyn Delivery>>,
    /// Set when the delivery is the built-in embedded bus.
    pub(super) embedded_bus: Option<EmbeddedBus>,
    pub(super) job_queue: Option<Arc<dyn JobQueue>>,
    pub(super) messaging: Option<MessagingService>,
    /// `None` when tasks are not monitored (`*.async_messaging_enabled: false`, the driver
    /// sends its own events).
    pub(super) monitor: Option<TaskMonitor>,
    /// Whether the API is served (its service, and the services below, run).
    pub(super) api: bool,
}

/// Built-in services that need a connection, made before wiring (Kafka).
#[derive(Default)]
pub(super) struct Connected {
    pub(super) delivery: Option<Arc<dyn Delivery>>,
    pub(super) job_queue: Option<Arc<dyn JobQueue>>,
    /// Vitals of what was connected (e.g. `kafka`).
    pub(super) vitals: ServiceVitals,
    /// The vital of the connected job queue's consumer (health and liveness): shown only
    /// when that job queue is the one that runs (a supplied job queue replaces it).
    pub(super) job_queue_vital: Option<Arc<dyn Vital>>,
}

/// Connects to Kafka when `messaging.connection_address` is set and a built-in service
/// needs it (the user may have supplied both delivery and job queue).
#[cfg_attr(not(feature = "kafka"), allow(unused_variables))]
pub(super) async fn connect(
    config: &IgnitionConfig,
    app_name: &str,
    kind: ApiKind,
    supplied: &Supplied,
    metrics: &Recorder,
) -> Result<Connected, BootError> {
    let needed = supplied.delivery.is_none() || supplied.job_queue.is_none();
    if !config.uses_kafka() || !needed {
        return Ok(Connected::default());
    }
    #[cfg(feature = "kafka")]
    {
        let kafka = crate::kafka::KafkaServices::connect(config, app_name, kind).await?;
        kafka.record(metrics, supplied.job_queue.is_none());
        Ok(Connected {
            delivery: Some(kafka.delivery),
            job_queue: Some(kafka.job_queue),
            vitals: ServiceVitals {
                health: vec![kafka.vital],
                liveness: Vec::new(),
                readiness: vec![kafka.readiness_vital],
            },
            job_queue_vital: Some(kafka.consumer_vital),
        })
    }
    #[cfg(not(feature = "kafka"))]
    Ok(Connected::default())
}

/// A kind's services and the flags that turn them off, as the Python framework names them.
struct Names {
    api: &'static str,
    api_service: &'static str,
    service: &'static str,
    monitoring: &'static str,
    messaging: &'static str,
    api_service_flag: &'static str,
    service_flag: &'static str,
    monitoring_flag: &'static str,
    messaging_flag: &'static str,
    /// The service, when the driver sends its own events.
    service_sending_own_events: &'static str,
}

fn names(kind: ApiKind) -> &'static Names {
    match kind {
        ApiKind::Infrastructure => &Names {
            api: "Infrastructure API (bootstrap.infrastructure.api_enabled)",
            api_service: "InfrastructureApiService",
            service: "InfrastructureService",
            monitoring: "InfrastructureTaskMonitoringService",
            messaging: "InfrastructureMessagingService",
            api_service_flag: "bootstrap.infrastructure.api_service_enabled",
            service_flag: "bootstrap.infrastructure.service_enabled",
            monitoring_flag: "bootstrap.infrastructure.monitoring_service_enabled",
            messaging_flag: "bootstrap.infrastructure.messaging_service_enabled",
            service_sending_own_events: "InfrastructureService (with infrastructure.async_messaging_enabled: false, the driver sends its own events)",
        },
        ApiKind::ResourceDriver => &Names {
            api: "Resource Driver API (bootstrap.resource_driver.api_enabled)",
            api_service: "ResourceDriverApiService",
            service: "ResourceDriverService",
            monitoring: "LifecycleExecutionMonitoringService",
            messaging: "LifecycleMessagingService",
            api_service_flag: "bootstrap.resource_driver.api_service_enabled",
            service_flag: "bootstrap.resource_driver.service_enabled",
            monitoring_flag: "bootstrap.resource_driver.lifecycle_monitoring_service_enabled",
            messaging_flag: "bootstrap.resource_driver.lifecycle_messaging_service_enabled",
            service_sending_own_events: "ResourceDriverService (with resource_driver.async_messaging_enabled: false, the driver sends its own events)",
        },
    }
}

/// A kind's `bootstrap.*` flags.
struct KindFlags {
    api_enabled: bool,
    api_service_enabled: bool,
    service_enabled: bool,
    monitoring_service_enabled: bool,
    messaging_service_enabled: bool,
}

/// What the configuration says of one kind: its `bootstrap.*` flags, whether the
/// framework monitors its tasks (`*.async_messaging_enabled`), and its events topic.
struct KindSettings<'a> {
    bootstrap: KindFlags,
    monitors: bool,
    events_topic: &'a str,
}

fn kind_settings(config: &IgnitionConfig, kind: ApiKind) -> KindSettings<'_> {
    let topics = &config.messaging.topics;
    match kind {
        ApiKind::Infrastructure => {
            let flags = &config.bootstrap.infrastructure;
            KindSettings {
                bootstrap: KindFlags {
                    api_enabled: flags.api_enabled,
                    api_service_enabled: flags.api_service_enabled,
                    service_enabled: flags.service_enabled,
                    monitoring_service_enabled: flags.monitoring_service_enabled,
                    messaging_service_enabled: flags.messaging_service_enabled,
                },
                monitors: config.infrastructure.async_messaging_enabled,
                events_topic: &topics.infrastructure_task_events.name,
            }
        }
        ApiKind::ResourceDriver => {
            let flags = &config.bootstrap.resource_driver;
            KindSettings {
                bootstrap: KindFlags {
                    api_enabled: flags.api_enabled,
                    api_service_enabled: flags.api_service_enabled,
                    service_enabled: flags.service_enabled,
                    monitoring_service_enabled: flags.lifecycle_monitoring_service_enabled,
                    messaging_service_enabled: flags.lifecycle_messaging_service_enabled,
                },
                monitors: config.resource_driver.async_messaging_enabled,
                events_topic: &topics.lifecycle_execution_events.name,
            }
        }
    }
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

/// What the services of a driver are wired from.
pub(super) struct Wiring<'a> {
    pub(super) config: &'a IgnitionConfig,
    pub(super) supplied: Supplied,
    pub(super) connected: Connected,
    pub(super) poller: Arc<dyn TaskPoller>,
    pub(super) metrics: &'a Recorder,
    pub(super) observer: Option<PollObserver>,
}

/// Builds the services the configuration asks for, bottom up.
pub(super) fn wire(wiring: Wiring<'_>) -> Result<Services, BootError> {
    let Wiring {
        config,
        supplied,
        connected,
        poller,
        metrics,
        observer,
    } = wiring;
    let kind = poller.kind();
    let names = names(kind);
    let settings = kind_settings(config, kind);
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
                // The embedded bus buffers nothing: every event is written when sent.
                metrics.messages_buffered(|| 0);
                Some(Arc::new(bus))
            }
        },
    };

    let messaging = if settings.bootstrap.messaging_service_enabled {
        let Some(delivery) = delivery.clone() else {
            let flag = if boot.messaging.postal_enabled {
                "bootstrap.messaging.delivery_enabled"
            } else {
                "bootstrap.messaging.postal_enabled"
            };
            return Err(needs(
                names.messaging,
                "postal/delivery service",
                flag,
                Some("App::delivery"),
            ));
        };
        Some(
            MessagingService::new(delivery, settings.events_topic, kind)
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
                if let Some(vital) = connected.job_queue_vital {
                    vitals.health.push(vital.clone());
                    vitals.liveness.push(vital);
                }
                Some(connected.job_queue.ok_or_else(|| no_kafka("job queue"))?)
            }
            None => {
                let queue = EmbeddedJobQueue::new(config.job_queue.max_concurrent_polls);
                record_embedded(&queue, metrics);
                Some(Arc::new(queue))
            }
        },
    };

    let monitor = if settings.bootstrap.monitoring_service_enabled && settings.monitors {
        let Some(queue) = job_queue.clone() else {
            return Err(needs(
                names.monitoring,
                "job queue service",
                "bootstrap.job_queue.service_enabled",
                Some("App::job_queue"),
            ));
        };
        let Some(messaging) = messaging.clone() else {
            return Err(needs(
                names.monitoring,
                names.messaging,
                names.messaging_flag,
                None,
            ));
        };
        let seal = config
            .job_queue
            .encryption_key
            .as_ref()
            .map(|key| Arc::new(JobSeal::new(key.bytes())));
        Some(TaskMonitor::new(
            queue,
            poller,
            messaging,
            MonitorSettings::from_config(config),
            metrics.clone(),
            observer,
            seal,
        ))
    } else {
        None
    };

    let service = settings.bootstrap.service_enabled;
    if service {
        if !settings.monitors {
            if messaging.is_none() {
                return Err(needs(
                    names.service_sending_own_events,
                    names.messaging,
                    names.messaging_flag,
                    None,
                ));
            }
        } else if monitor.is_none() {
            return Err(needs(
                names.service,
                names.monitoring,
                names.monitoring_flag,
                None,
            ));
        }
    }

    let api = settings.bootstrap.api_enabled;
    if api {
        if !settings.bootstrap.api_service_enabled {
            return Err(needs(
                names.api,
                names.api_service,
                names.api_service_flag,
                None,
            ));
        }
        if !service {
            return Err(needs(
                names.api_service,
                names.service,
                names.service_flag,
                None,
            ));
        }
    }

    Ok(Services {
        vitals,
        delivery,
        embedded_bus,
        job_queue,
        messaging,
        monitor,
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
