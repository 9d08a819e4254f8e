//! Start-up: which services run, and the error that stops start-up.
//!
//! Each `bootstrap.*` flag turns one built-in service off. A service that is on needs the
//! ones below it (API → InfrastructureApiService → InfrastructureService →
//! InfrastructureTaskMonitoringService → job queue + InfrastructureMessagingService →
//! postal/delivery); when one of those is off and none was supplied, start-up fails
//! with a [`BootError`] naming both services and the flag.

use std::sync::Arc;

use crate::config::IgnitionConfig;
use crate::jobqueue::{EmbeddedJobQueue, JobQueue};
use crate::messaging::{Delivery, EmbeddedBus, InfrastructureMessagingService};
use crate::monitor::{InfrastructureTaskMonitoringService, PollSchedule, TaskPoller};

/// Why the app did not start: a clear message naming the file, property or service.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct BootError {
    message: String,
}

impl BootError {
    /// An error with this message.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
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
    pub(crate) delivery: Option<Arc<dyn Delivery>>,
    /// Set when the delivery is the built-in embedded bus.
    pub(crate) embedded_bus: Option<EmbeddedBus>,
    pub(crate) job_queue: Option<Arc<dyn JobQueue>>,
    pub(crate) messaging: Option<InfrastructureMessagingService>,
    pub(crate) monitoring: Option<InfrastructureTaskMonitoringService>,
    /// Whether the InfrastructureService (and so the API over it) runs.
    pub(crate) service: bool,
    /// Whether `/api/infrastructure` is served.
    pub(crate) api: bool,
}

fn needs(service: &str, needed: &str, flag: &str, supply: Option<&str>) -> BootError {
    let supply = supply
        .map(|how| format!(", or supply one with {how}"))
        .unwrap_or_default();
    BootError::new(format!(
        "{service} needs the {needed}, which is disabled by `{flag}: false`; enable it{supply}"
    ))
}

fn no_kafka(address: &str, what: &str) -> BootError {
    BootError::new(format!(
        "`messaging.connection_address` is set ({address}), but this build of ignition has no Kafka {what} (the `kafka` feature is off); enable it, or remove the property to use the embedded default"
    ))
}

/// Built-in services that need a connection, made before wiring (Kafka).
#[derive(Default)]
pub(crate) struct Connected {
    pub(crate) delivery: Option<Arc<dyn Delivery>>,
    pub(crate) job_queue: Option<Arc<dyn JobQueue>>,
}

/// Builds the services the configuration asks for, bottom up.
pub(crate) fn wire(
    config: &IgnitionConfig,
    supplied: Supplied,
    connected: Connected,
    poller: Arc<dyn TaskPoller>,
) -> Result<Wiring, BootError> {
    let boot = &config.bootstrap;
    let kafka = config.messaging.connection_address.as_deref();

    let mut embedded_bus = None;
    let delivery: Option<Arc<dyn Delivery>> = match supplied.delivery {
        Some(delivery) => Some(delivery),
        None if !boot.messaging.postal_enabled || !boot.messaging.delivery_enabled => None,
        None => match kafka {
            Some(address) => Some(
                connected
                    .delivery
                    .ok_or_else(|| no_kafka(address, "delivery"))?,
            ),
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
        Some(InfrastructureMessagingService::new(
            delivery,
            &config.messaging.topics.infrastructure_task_events.name,
        ))
    } else {
        None
    };

    let job_queue: Option<Arc<dyn JobQueue>> = match supplied.job_queue {
        Some(queue) => Some(queue),
        None if !boot.job_queue.service_enabled => None,
        None => match kafka {
            Some(address) => Some(
                connected
                    .job_queue
                    .ok_or_else(|| no_kafka(address, "job queue"))?,
            ),
            None => Some(Arc::new(EmbeddedJobQueue::new(
                config.job_queue.max_concurrent_polls,
            ))),
        },
    };

    let monitoring = if boot.infrastructure.monitoring_service_enabled {
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
        let schedule = PollSchedule {
            interval: config.job_queue.poll_interval,
            max_interval: config.job_queue.max_poll_interval,
        };
        Some(InfrastructureTaskMonitoringService::new(
            queue, poller, messaging, schedule,
        ))
    } else {
        None
    };

    let service = boot.infrastructure.service_enabled;
    if service {
        if config.infrastructure.async_messaging_enabled {
            if messaging.is_none() {
                return Err(needs(
                    "the InfrastructureService (with infrastructure.async_messaging_enabled)",
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
        delivery,
        embedded_bus,
        job_queue,
        messaging,
        monitoring: if config.infrastructure.async_messaging_enabled {
            None
        } else {
            monitoring
        },
        service,
        api,
    })
}
