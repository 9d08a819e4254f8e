//! The environment as layers: `LOG_TYPE` and `LOG_LEVEL` below the files (the defaults
//! of `logging.*`, as in the Python framework), and `IGNITION__<SECTION>__<KEY>` above
//! them (any property, for what a ConfigMap should not hold).
//!
//! A variable's name is the property's path in upper case, `__` between the keys:
//! `IGNITION__MESSAGING__CONNECTION_ADDRESS` sets `messaging.connection_address`,
//! `IGNITION__OPENSTACK__AUTH__PASSWORD` the driver's `openstack.auth.password`. Keys are
//! read in lower case. Below a map of Kafka settings (`messaging.config`, a topic's
//! `config`) the rest of the name is one setting, its parts joined by dots:
//! `IGNITION__MESSAGING__CONFIG__SASL__PASSWORD` sets `sasl.password` in
//! `messaging.config`. The value is a string, taken as it is (no quoting, no parsing: a
//! password `0123` stays `0123`) and converted to the type its property needs when it is
//! read (number, `true`/`false`, duration, size); a map is set key by key, and a list
//! cannot be set this way.

use std::ffi::OsString;

use figment::value::{Dict, Value};

use super::error::{ConfigError, ConfigErrorKind};

/// The prefix of the variables that set properties.
pub(crate) const PREFIX: &str = "IGNITION__";

/// One `IGNITION__...` variable: the property it sets, as one layer of its own (so that
/// a message names the variable).
#[derive(Debug)]
pub(crate) struct EnvProperty {
    /// The variable, e.g. `IGNITION__APPLICATION__PORT`.
    pub(crate) var: String,
    /// The value, nested under the property's keys.
    pub(crate) dict: Dict,
}

impl EnvProperty {
    /// How messages name this layer.
    pub(crate) fn layer_name(&self) -> String {
        format!("environment variable {}", self.var)
    }
}

/// The variables among `vars` that set properties, in name order. A name that is not a
/// property path, or a value that is not UTF-8, is an error naming the variable.
pub(crate) fn env_properties(
    vars: impl IntoIterator<Item = (OsString, OsString)>,
) -> Result<Vec<EnvProperty>, ConfigError> {
    let mut found = Vec::new();
    for (name, value) in vars {
        // A name that is not UTF-8 cannot start with the prefix in any useful way.
        let Some(name) = name.to_str() else { continue };
        let Some(rest) = name.strip_prefix(PREFIX) else {
            continue;
        };
        let layer = format!("environment variable {name}");
        let refused = |why: String| ConfigError {
            property: String::new(),
            file: Some(layer.clone()),
            kind: ConfigErrorKind::Unreadable(why),
        };
        let path = property_path(rest).map_err(|why| refused(format!("{layer} {why}")))?;
        let value = value
            .into_string()
            .map_err(|_| refused(format!("the value of {layer} is not UTF-8")))?;
        found.push(EnvProperty {
            var: name.to_string(),
            dict: nested(&path, value),
        });
    }
    found.sort_by(|a, b| a.var.cmp(&b.var));
    Ok(found)
}

/// The keys of a property path (`MESSAGING__CONNECTION_ADDRESS` →
/// `messaging`, `connection_address`), a Kafka settings map's rest as one key.
fn property_path(rest: &str) -> Result<Vec<String>, String> {
    let mut keys: Vec<String> = rest.split("__").map(str::to_ascii_lowercase).collect();
    if keys.iter().any(String::is_empty) {
        return Err(format!(
            "is not a property: `{PREFIX}` is followed by keys separated by `__` (e.g. {PREFIX}APPLICATION__PORT)"
        ));
    }
    if let Some(depth) = settings_map_depth(&keys) {
        if keys.len() > depth {
            let setting = keys.split_off(depth).join(".");
            keys.push(setting);
        }
    }
    Ok(keys)
}

/// How many keys lead to a map of Kafka settings (whose keys hold dots), if `keys` go
/// into one: `messaging.config`, `messaging.topics.<topic>.config`.
fn settings_map_depth(keys: &[String]) -> Option<usize> {
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    match keys.as_slice() {
        ["messaging", "config", ..] => Some(2),
        ["messaging", "topics", _, "config", ..] => Some(4),
        _ => None,
    }
}

/// `value` under the keys of `path` (`a`, `b` → `{a: {b: value}}`).
fn nested(path: &[String], value: String) -> Dict {
    let mut root = Dict::new();
    // `property_path` never gives an empty path.
    if let Some((first, rest)) = path.split_first() {
        let value = rest.iter().rev().fold(Value::from(value), |inner, key| {
            let mut dict = Dict::new();
            dict.insert(key.clone(), inner);
            Value::from(dict)
        });
        root.insert(first.clone(), value);
    }
    root
}

/// One environment variable as the value of `logging.<key>`, when it is set (an empty
/// value counts as unset).
pub(crate) struct EnvDefault {
    pub(crate) var: &'static str,
    pub(crate) key: &'static str,
}

impl figment::Provider for EnvDefault {
    fn metadata(&self) -> figment::Metadata {
        figment::Metadata::named(format!("environment variable {}", self.var))
    }

    fn data(&self) -> Result<figment::value::Map<figment::Profile, Dict>, figment::Error> {
        let mut root = Dict::new();
        if let Some(value) = std::env::var(self.var)
            .ok()
            .filter(|v| !v.trim().is_empty())
        {
            root = nested(&["logging".into(), self.key.into()], value);
        }
        Ok(figment::Profile::Default.collect(root))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(OsString, OsString)> {
        pairs
            .iter()
            .map(|(name, value)| (name.into(), value.into()))
            .collect()
    }

    /// The single property each variable sets, as `dotted.path=value`.
    fn set_by(pairs: &[(&str, &str)]) -> Vec<String> {
        fn flatten(prefix: &str, dict: &Dict, out: &mut Vec<String>) {
            for (key, value) in dict {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}/{key}")
                };
                match value {
                    Value::Dict(_, inner) => flatten(&path, inner, out),
                    value => out.push(format!("{path}={}", value.as_str().unwrap())),
                }
            }
        }
        let mut out = Vec::new();
        for property in env_properties(vars(pairs)).unwrap() {
            flatten("", &property.dict, &mut out);
        }
        out
    }

    #[test]
    fn names_are_paths_in_upper_case_and_values_stay_strings() {
        assert_eq!(
            set_by(&[
                ("IGNITION__MESSAGING__CONNECTION_ADDRESS", "kafka:9092"),
                ("IGNITION__APPLICATION__PORT", "0123"),
                ("IGNITION__OPENSTACK__AUTH__PASSWORD", "true"),
                ("PATH", "/bin"),
                ("IGNITION_SINGLE_UNDERSCORE", "ignored"),
            ]),
            [
                "application/port=0123",
                "messaging/connection_address=kafka:9092",
                "openstack/auth/password=true",
            ],
            "sorted by name; neither number nor boolean parsed"
        );
    }

    #[test]
    fn a_kafka_settings_key_is_one_key_with_dots() {
        assert_eq!(
            set_by(&[
                ("IGNITION__MESSAGING__CONFIG__SASL__PASSWORD", "pw"),
                ("IGNITION__MESSAGING__CONFIG__sasl.username", "lm"),
                (
                    "IGNITION__MESSAGING__TOPICS__JOB_QUEUE__CONFIG__RETENTION__MS",
                    "1000"
                ),
                (
                    "IGNITION__MESSAGING__TOPICS__JOB_QUEUE__NUM_PARTITIONS",
                    "3"
                ),
            ]),
            [
                "messaging/config/sasl.password=pw",
                "messaging/config/sasl.username=lm",
                "messaging/topics/job_queue/config/retention.ms=1000",
                "messaging/topics/job_queue/num_partitions=3",
            ]
        );
    }

    #[test]
    fn a_name_that_is_not_a_path_is_refused_naming_the_variable() {
        for name in [
            "IGNITION__",
            "IGNITION__APPLICATION____PORT",
            "IGNITION__APPLICATION__",
        ] {
            let err = env_properties(vars(&[(name, "1")])).unwrap_err();
            assert_eq!(
                err.file.as_deref(),
                Some(format!("environment variable {name}").as_str())
            );
            assert!(
                err.to_string()
                    .starts_with(&format!("environment variable {name} is not a property")),
                "{err}"
            );
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_value_that_is_not_utf8_is_refused_naming_the_variable() {
        use std::os::unix::ffi::OsStringExt;
        let vars = [(
            OsString::from("IGNITION__APPLICATION__HOST"),
            OsString::from_vec(vec![0xff, 0xfe]),
        )];
        let err = env_properties(vars).unwrap_err();
        assert!(
            err.to_string().contains(
                "the value of environment variable IGNITION__APPLICATION__HOST is not UTF-8"
            ),
            "{err}"
        );
    }
}
