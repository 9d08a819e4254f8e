//! `ConfigError`: which property, from which file, and what is wrong; and how figment's
//! errors become one (property named once, quoted once, secrets never shown).

use figment::error::{Actual, Kind};

use super::keys;
use super::secrets::Sensitive;

/// Why the configuration was refused: which property, from which file, and what is
/// wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
#[error("{}", self.describe())]
pub struct ConfigError {
    /// The dotted property, e.g. `job_queue.poll_interval` (empty for the file itself).
    pub property: String,
    /// Where the value came from: a file path, or a description such as
    /// "App::property"; `None` for a built-in default or a rule across properties.
    pub file: Option<String>,
    /// What is wrong.
    pub kind: ConfigErrorKind,
}

/// What is wrong with a property.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigErrorKind {
    /// A configuration file that cannot be read (the property is empty).
    Unreadable(String),
    /// A key the section does not have.
    Unknown {
        /// The closest known key, when one is close.
        did_you_mean: Option<String>,
        /// Every key the section has.
        expected: Vec<String>,
    },
    /// A value of the wrong type or out of range.
    Invalid(String),
}

/// What stands for a value that must not be shown.
pub(crate) const HIDDEN: &str = "****";

impl ConfigError {
    /// A value that breaks a rule, from no particular file.
    pub(crate) fn invalid(property: impl Into<String>, why: impl Into<String>) -> Self {
        Self {
            property: property.into(),
            file: None,
            kind: ConfigErrorKind::Invalid(why.into()),
        }
    }

    /// `self`, naming the layer the property came from.
    pub(crate) fn in_file(mut self, file: Option<String>) -> Self {
        self.file = file;
        self
    }

    /// figment's error as ours: the property and its layer named, an unknown key with
    /// "did you mean" and its keys quoted once (figment's own message quotes them twice),
    /// and no value from a secret or the environment in the text.
    pub(crate) fn from_figment(err: figment::Error, sensitive: &Sensitive) -> Self {
        let file = err.metadata.as_ref().map(layer_name);
        let mut path = err.path.clone();
        let kind = match err.kind {
            Kind::MissingField(field) => {
                path.push(field.to_string());
                ConfigErrorKind::Invalid("missing property".into())
            }
            Kind::UnknownField(field, expected) => {
                // figment names the key being read in the path already.
                if path.last() != Some(&field) {
                    path.push(field.clone());
                }
                ConfigErrorKind::Unknown {
                    did_you_mean: keys::did_you_mean(&field, expected.iter().copied()),
                    expected: expected.iter().map(|key| key.to_string()).collect(),
                }
            }
            Kind::UnknownVariant(variant, expected) => ConfigErrorKind::Invalid(format!(
                "unknown value `{variant}`; expected one of: {}",
                expected.join(", ")
            )),
            Kind::InvalidType(Actual::Str(found), expected) => {
                let property = dotted(&path);
                let shown = sensitive.hides(&property, &found);
                ConfigErrorKind::Invalid(format!(
                    "invalid type: found {}, expected {expected}{}",
                    Actual::Str(if shown.is_some() {
                        HIDDEN.into()
                    } else {
                        found
                    }),
                    shown.map(|from| from.note()).unwrap_or_default()
                ))
            }
            kind => ConfigErrorKind::Invalid(kind.to_string()),
        };
        let err = ConfigError {
            property: dotted(&path),
            file,
            kind,
        };
        err.redacted(sensitive)
    }

    /// `self` with each value at its property that must not be shown replaced by
    /// `****`, saying where it came from.
    pub(crate) fn redacted(mut self, sensitive: &Sensitive) -> Self {
        if let ConfigErrorKind::Invalid(why) = &mut self.kind {
            for value in sensitive.at(&self.property) {
                if let Some(hidden) = value.hide_in(why) {
                    *why = hidden;
                }
            }
        }
        self
    }

    fn describe(&self) -> String {
        let from = self
            .file
            .as_ref()
            .map(|file| format!(" (from {file})"))
            .unwrap_or_default();
        match &self.kind {
            ConfigErrorKind::Unreadable(why) => why.clone(),
            ConfigErrorKind::Unknown {
                did_you_mean,
                expected,
            } => {
                let hint = did_you_mean
                    .as_ref()
                    .map(|key| format!("; did you mean `{key}`?"))
                    .unwrap_or_default();
                let expected = if expected.is_empty() {
                    String::new()
                } else {
                    format!("; expected one of: {}", expected.join(", "))
                };
                format!(
                    "invalid configuration property `{}`{from}: unknown property{hint}{expected}",
                    self.property
                )
            }
            ConfigErrorKind::Invalid(why) => format!(
                "invalid configuration property `{}`{from}: {why}",
                self.property
            ),
        }
    }
}

/// A figment path as a dotted property; `(root)` for the whole configuration.
fn dotted(path: &[String]) -> String {
    if path.is_empty() {
        "(root)".to_string()
    } else {
        path.join(".")
    }
}

/// The name of a layer, for messages: its file, or what it is ("environment variable
/// IGNITION__APPLICATION__PORT", "App::property").
pub(crate) fn layer_name(metadata: &figment::Metadata) -> String {
    match &metadata.source {
        Some(source) => source.to_string(),
        None => metadata.name.to_string(),
    }
}

/// Where a configuration file came from, for messages.
pub(crate) fn describe_file(path: &std::path::Path, env_var: Option<&str>) -> String {
    match env_var {
        Some(var) => format!("{} (named by environment variable {var})", path.display()),
        None => path.display().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use figment::providers::{Format, Yaml};
    use figment::Figment;
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Section {
        label: String,
        #[serde(default)]
        event_delay_ms: u64,
    }

    fn error_of<T: for<'de> Deserialize<'de> + std::fmt::Debug>(yaml: &str) -> ConfigError {
        let err = Figment::from(Yaml::string(yaml))
            .extract::<T>()
            .expect_err("refused");
        ConfigError::from_figment(err, &Sensitive::default())
    }

    #[test]
    fn an_unknown_field_is_quoted_once_with_a_suggestion() {
        let err = error_of::<Section>("label: a\nevent_delay: 5\n");
        assert_eq!(err.property, "event_delay");
        let message = err.to_string();
        assert!(
            message.ends_with(
                "unknown property; did you mean `event_delay_ms`?; expected one of: label, event_delay_ms"
            ),
            "{message}"
        );
        assert!(!message.contains("``"), "{message}");
    }

    #[test]
    fn a_missing_field_names_it_below_its_parent() {
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct Outer {
            inner: Section,
        }
        let err = error_of::<Outer>("inner: {event_delay_ms: 1}\n");
        assert_eq!(err.property, "inner.label");
        assert_eq!(
            err.kind,
            ConfigErrorKind::Invalid("missing property".into())
        );
    }

    #[test]
    fn a_wrong_type_says_what_was_found_and_what_was_expected() {
        let err = error_of::<Section>("label: a\nevent_delay_ms: soon\n");
        assert_eq!(err.property, "event_delay_ms");
        assert!(
            err.to_string()
                .ends_with(r#"invalid type: found string "soon", expected u64"#),
            "{err}"
        );
    }

    #[test]
    fn the_file_and_a_hint_are_part_of_the_message() {
        let err = ConfigError {
            property: "application.prot".into(),
            file: Some("/etc/driver/config.yml".into()),
            kind: ConfigErrorKind::Unknown {
                did_you_mean: Some("port".into()),
                expected: vec!["port".into(), "host".into()],
            },
        };
        assert_eq!(
            err.to_string(),
            "invalid configuration property `application.prot` (from /etc/driver/config.yml): unknown property; did you mean `port`?; expected one of: port, host"
        );
        assert_eq!(
            describe_file("/a.yml".as_ref(), Some("DRIVER_CONFIG")),
            "/a.yml (named by environment variable DRIVER_CONFIG)"
        );
    }
}
