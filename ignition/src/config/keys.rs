//! Which keys the framework owns, which Python-era keys it accepts and ignores, and the
//! "did you mean" for a misspelt one.

/// The top-level sections the framework owns; every other one belongs to the driver.
pub(crate) const FRAMEWORK_SECTIONS: &[&str] = &[
    "application",
    "messaging",
    "job_queue",
    "bootstrap",
    "infrastructure",
    "driver",
    "logging",
];

/// Keys of the Python Ignition framework (1.x) that do not apply here, with the reason:
/// accepted, each logged once as a WARN at start, so a Python driver's configuration file
/// boots unchanged. A key here covers everything below it.
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
        "infrastructure.api_spec",
        "the OpenAPI document is generated from the driver's types",
    ),
    (
        "infrastructure.request_queue",
        "there is no request queue: requests go straight to the driver",
    ),
    (
        "bootstrap.request_queue",
        "there is no request queue: requests go straight to the driver",
    ),
    (
        "bootstrap.management",
        "the management endpoints are always served",
    ),
    (
        "bootstrap.lifecycle",
        "this framework serves the Infrastructure API only",
    ),
    (
        "messaging.topics.lifecycle_execution_events",
        "this framework serves the Infrastructure API only",
    ),
    (
        "bootstrap.infrastructure.service_driver",
        "the driver is given in code (App::driver / App::driver_with)",
    ),
    (
        "bootstrap.messaging.inbox_enabled",
        "the job queue reads Kafka itself; turn it off with bootstrap.job_queue.service_enabled",
    ),
];

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

/// The known key closest to `key`, when it is close enough to be a typo.
pub(crate) fn did_you_mean<'a>(
    key: &str,
    known: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    let limit = (key.chars().count() / 3).max(1);
    known
        .into_iter()
        .map(|candidate| (edit_distance(key, candidate), candidate))
        .filter(|(distance, _)| *distance <= limit)
        .min()
        .map(|(_, candidate)| candidate.to_string())
}

/// Edit distance with adjacent transpositions (optimal string alignment): `prot` is one
/// edit from `port`.
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
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
        assert_eq!(classify("job_queue.pol_interval"), Unread::Unknown);
        assert_eq!(classify("openstack"), Unread::Driver);
        assert_eq!(classify("k8s.tmpdir"), Unread::Driver);
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
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(
            edit_distance("prot", "port"),
            1,
            "a transposition is one edit"
        );
        assert_eq!(
            did_you_mean("prot", ["port", "host"]).as_deref(),
            Some("port")
        );
    }
}
