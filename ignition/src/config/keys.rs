//! Which keys the framework owns, which Python-era keys it accepts and ignores, and the
//! "did you mean" for a misspelt one.

/// The top-level sections the framework reads; every other one belongs to the driver
/// (the Python-era ones of [`PYTHON_ERA_KEYS`] aside).
const FRAMEWORK_SECTIONS: &[&str] = &[
    "application",
    "messaging",
    "job_queue",
    "bootstrap",
    "infrastructure",
    "resource_driver",
    "driver",
    "logging",
];

/// Keys of the Python Ignition framework (1.x and 3.x) that do not apply here, with the
/// reason: accepted, each logged once as a WARN at start, so a Python driver's
/// configuration file boots unchanged. A key here covers everything below it.
pub const PYTHON_ERA_KEYS: &[(&str, &str)] = &[
    (
        "application.connexion_init_props",
        "the API is served by poem, not connexion",
    ),
    (
        "application.connexion_runtime_props",
        "the API is served by poem, not connexion",
    ),
    (
        "api",
        "the OpenAPI document is generated from the driver's types",
    ),
    (
        "management",
        "the management endpoints' OpenAPI document is built in",
    ),
    (
        "infrastructure.api_spec",
        "the OpenAPI document is generated from the driver's types",
    ),
    (
        "resource_driver.api_spec",
        "the OpenAPI document is generated from the driver's types",
    ),
    (
        "infrastructure.request_queue",
        "there is no request queue: requests go straight to the driver",
    ),
    (
        "resource_driver.lifecycle_request_queue",
        "there is no request queue: requests go straight to the driver",
    ),
    (
        "bootstrap.request_queue",
        "there is no request queue: requests go straight to the driver",
    ),
    (
        "resource_driver.scripts_workspace",
        "driver files are unpacked into a private temporary directory for each request",
    ),
    (
        "bootstrap.resource_driver.driver_files_manager_service_enabled",
        "driver files are always unpacked by the framework (DriverFiles)",
    ),
    (
        "bootstrap.management",
        "the management endpoints are always served",
    ),
    (
        "lifecycle",
        "the Lifecycle API of Python 1.x became the Resource Driver API (resource_driver.*)",
    ),
    (
        "bootstrap.lifecycle",
        "the Lifecycle API of Python 1.x became the Resource Driver API (bootstrap.resource_driver.*)",
    ),
    (
        "bootstrap.infrastructure.service_driver",
        "the driver is given in code (App::driver / App::driver_with)",
    ),
    (
        "bootstrap.resource_driver.service_driver",
        "the driver is given in code (App::driver / App::driver_with)",
    ),
    (
        "bootstrap.messaging.inbox_enabled",
        "the job queue reads Kafka itself; turn it off with bootstrap.job_queue.service_enabled",
    ),
    (
        "bootstrap.templating",
        "there is no templating service (a driver renders its own templates)",
    ),
    (
        "bootstrap.progress_event_log",
        "there is no progress event log service",
    ),
    (
        "messaging.api_version_auto_timeout_ms",
        "librdkafka asks the broker for its API versions itself (kafka-python needed this \
         timeout; openstack-vim-driver 3.x's config sets it)",
    ),
    (
        "bootstrap.movedapis",
        "the APIs are served at their own paths only",
    ),
];

/// Whether `section` is a top-level section of the framework's (read, or accepted as
/// a Python-era key): a driver's own section must have another name.
pub fn is_framework_section(section: &str) -> bool {
    FRAMEWORK_SECTIONS.contains(&section)
        || PYTHON_ERA_KEYS
            .iter()
            .any(|(key, _)| *key == section && !key.contains('.'))
}

/// What an unread key of the configuration is.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Unread {
    /// A key of a section the driver owns: not the framework's business.
    Driver,
    /// A Python-era key, and why it is ignored.
    PythonEra(&'static str),
    /// A key of a framework section that does not exist.
    Unknown,
}

/// Classifies `path` (dotted), a key nothing read.
pub(crate) fn classify(path: &str) -> Unread {
    for (key, why) in PYTHON_ERA_KEYS {
        let covers = path == *key
            || path.starts_with(&format!("{key}."))
            || key.starts_with(&format!("{path}."));
        if covers {
            return Unread::PythonEra(why);
        }
    }
    let section = path.split('.').next().unwrap_or(path);
    if FRAMEWORK_SECTIONS.contains(&section) {
        Unread::Unknown
    } else {
        Unread::Driver
    }
}

/// The framework section a driver's section name is a near miss of
/// (`aplication` → `application`): likely a typo, worth a WARN.
pub(crate) fn near_framework_section(section: &str) -> Option<String> {
    if is_framework_section(section) {
        return None;
    }
    did_you_mean(section, FRAMEWORK_SECTIONS.iter().copied())
}

/// The known key closest to `key`, when it is close enough to be a typo: at most one
/// edit in three characters, a swap of two neighbours counting as one (`prot` → `port`).
pub(crate) fn did_you_mean<'a>(
    key: &str,
    known: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    let limit = (key.chars().count() / 3).max(1);
    known
        .into_iter()
        .map(|candidate| (strsim::osa_distance(key, candidate), candidate))
        .filter(|(distance, _)| *distance <= limit)
        .min()
        .map(|(_, candidate)| candidate.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_era_keys_framework_typos_and_driver_sections_are_told_apart() {
        assert!(matches!(
            classify("application.connexion_runtime_props"),
            Unread::PythonEra(_)
        ));
        assert!(matches!(
            classify("bootstrap.management.health.service_enabled"),
            Unread::PythonEra(_)
        ));
        assert!(matches!(classify("api"), Unread::PythonEra(_)));
        assert!(matches!(
            classify("resource_driver.lifecycle_request_queue.topic.name"),
            Unread::PythonEra(_)
        ));
        assert!(matches!(
            classify("bootstrap.resource_driver.driver_files_manager_service_enabled"),
            Unread::PythonEra(_)
        ));
        assert!(matches!(
            classify("messaging.api_version_auto_timeout_ms"),
            Unread::PythonEra(_)
        ));
        assert_eq!(classify("job_queue.pol_interval"), Unread::Unknown);
        assert_eq!(classify("resource_driver.keep_files"), Unread::Unknown);
        assert_eq!(
            classify("messaging.topics.lifecycle_execution_event"),
            Unread::Unknown,
            "lifecycle_execution_events is a key of its own now"
        );
        assert_eq!(classify("openstack"), Unread::Driver);
        assert_eq!(classify("k8s.tmpdir"), Unread::Driver);
    }

    #[test]
    fn a_driver_section_may_not_take_a_framework_or_python_name() {
        for section in [
            "application",
            "resource_driver",
            "logging",
            "api",
            "management",
            "lifecycle",
        ] {
            assert!(is_framework_section(section), "{section}");
        }
        for section in [
            "openstack",
            "k8s",
            "connexion_init_props",
            "application.port",
        ] {
            assert!(!is_framework_section(section), "{section}");
        }
    }

    #[test]
    fn a_near_miss_of_a_framework_section_is_noticed() {
        assert_eq!(
            near_framework_section("aplication").as_deref(),
            Some("application")
        );
        assert_eq!(
            near_framework_section("resource_drivers").as_deref(),
            Some("resource_driver")
        );
        assert_eq!(near_framework_section("openstack"), None);
        assert_eq!(near_framework_section("messaging"), None);
    }

    #[test]
    fn close_keys_are_suggested_far_ones_are_not() {
        let known = ["poll_interval", "max_poll_interval", "consumer_group_id"];
        assert_eq!(
            did_you_mean("pol_interval", known).as_deref(),
            Some("poll_interval")
        );
        assert_eq!(
            did_you_mean("consumer_group", known).as_deref(),
            Some("consumer_group_id")
        );
        assert_eq!(did_you_mean("zzz", known), None);
        assert_eq!(
            did_you_mean("prot", ["port", "host"]).as_deref(),
            Some("port"),
            "a transposition is one edit"
        );
    }
}
