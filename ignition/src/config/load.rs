//! Reading the layers (defaults, file, env file, properties) into one figment, checking
//! its keys, and extracting the framework's properties and the driver's sections.

use std::path::{Path, PathBuf};

use figment::providers::{Data, Format, Serialized, Yaml};
use figment::value::{Dict, Value};
use figment::Figment;
use serde::de::DeserializeOwned;

use super::keys::{self, Unread};
use super::{
    describe_file, validate, ConfigError, ConfigErrorKind, IgnitionConfig, LoggingProperties,
};

/// Where the configuration comes from; built by [`App`](crate::App).
#[derive(Debug, Default, Clone)]
pub(crate) struct ConfigSources {
    pub(crate) file: Option<PathBuf>,
    pub(crate) env_var: Option<String>,
    pub(crate) properties: Vec<(String, serde_json::Value)>,
}

/// The configuration as read: the framework's properties, the WARN lines owed for
/// ignored Python-era keys, and every layer (for the driver's sections).
#[derive(Debug, Clone)]
pub(crate) struct LoadedConfig {
    pub(crate) config: IgnitionConfig,
    pub(crate) warnings: Vec<String>,
    figment: Figment,
}

impl ConfigSources {
    /// Reads every layer and checks the result.
    pub(crate) fn load(&self, app_name: &str) -> Result<LoadedConfig, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(IgnitionConfig::defaults(app_name)));
        // LOG_TYPE / LOG_LEVEL are the defaults of `logging.*` (Python reads only them);
        // each is a layer of its own, so an error names the variable.
        for (var, key) in LoggingProperties::ENV_DEFAULTS {
            figment = figment.merge(EnvDefault { var, key });
        }
        if let Some(file) = &self.file {
            figment = figment.merge(yaml_file(file, None)?);
        }
        if let Some(var) = &self.env_var {
            if let Some(path) = std::env::var_os(var) {
                figment = figment.merge(yaml_file(Path::new(&path), Some(var))?);
            }
        }
        for (key, value) in &self.properties {
            figment = figment.merge(Serialized::global(key, value));
        }
        checked(figment, app_name)
    }
}

/// Extracts and checks the framework's properties from the layers in `figment`.
fn checked(figment: Figment, app_name: &str) -> Result<LoadedConfig, ConfigError> {
    let config: IgnitionConfig = figment.extract().map_err(config_error)?;
    let warnings = check_keys(&figment, app_name)?;
    validate(&config)?;
    Ok(LoadedConfig {
        config,
        warnings,
        figment,
    })
}

/// The defaults, then `yaml` as if it were the configuration file (no environment
/// variables): what the config loader fuzz target feeds.
#[cfg(feature = "fuzz-internals")]
pub(crate) fn load_yaml_text(yaml: &str, app_name: &str) -> Result<LoadedConfig, ConfigError> {
    let figment = Figment::from(Serialized::defaults(IgnitionConfig::defaults(app_name)));
    let figment = if yaml.trim().is_empty() {
        figment
    } else {
        figment.merge(Yaml::string(yaml))
    };
    checked(figment, app_name)
}

impl LoadedConfig {
    /// The driver's section `section` as a `T`: an absent section is an empty map; a key
    /// `T` does not read, or a value it refuses, is an error naming `section.key`.
    pub(crate) fn section<T: DeserializeOwned>(&self, section: &str) -> Result<T, ConfigError> {
        let value = self
            .figment
            .find_value(section)
            .unwrap_or_else(|_| Value::from(Dict::new()));
        let mut unread = Vec::new();
        let mut note = |path: serde_ignored::Path<'_>| unread.push(path.to_string());
        let de = serde_ignored::Deserializer::new(&value, &mut note);
        let parsed: Result<T, _> = serde_path_to_error::deserialize(de);
        let parsed = parsed.map_err(|err| {
            let path = err.path().to_string();
            let property = if path == "." || path.is_empty() {
                section.to_string()
            } else {
                format!("{section}.{path}")
            };
            ConfigError {
                file: self.source_of(&property),
                property,
                kind: ConfigErrorKind::Invalid(err.into_inner().to_string()),
            }
        })?;
        if let Some(path) = unread.first() {
            let property = format!("{section}.{path}");
            return Err(ConfigError {
                file: self.source_of(&property),
                property,
                kind: ConfigErrorKind::Unknown {
                    did_you_mean: None,
                    expected: Vec::new(),
                },
            });
        }
        Ok(parsed)
    }

    fn source_of(&self, property: &str) -> Option<String> {
        source_of(&self.figment, property)
    }
}

/// The file (or other layer) a property's value came from.
fn source_of(figment: &Figment, property: &str) -> Option<String> {
    let metadata = figment.find_metadata(property)?;
    Some(match &metadata.source {
        Some(source) => source.to_string(),
        None => metadata.name.to_string(),
    })
}

/// One environment variable as the value of `logging.<key>`, when it is set (an empty
/// value counts as unset).
struct EnvDefault {
    var: &'static str,
    key: &'static str,
}

impl figment::Provider for EnvDefault {
    fn metadata(&self) -> figment::Metadata {
        figment::Metadata::named(format!("environment variable {}", self.var))
    }

    fn data(&self) -> Result<figment::value::Map<figment::Profile, Dict>, figment::Error> {
        let mut logging = Dict::new();
        if let Some(value) = std::env::var(self.var)
            .ok()
            .filter(|v| !v.trim().is_empty())
        {
            logging.insert(self.key.into(), Value::from(value));
        }
        let mut root = Dict::new();
        if !logging.is_empty() {
            root.insert("logging".into(), Value::from(logging));
        }
        Ok(figment::Profile::Default.collect(root))
    }
}

fn yaml_file(path: &Path, env_var: Option<&str>) -> Result<Data<Yaml>, ConfigError> {
    // figment treats a missing file as empty; a configured file that is absent is a mistake.
    let text = std::fs::read_to_string(path).map_err(|err| ConfigError {
        property: String::new(),
        file: Some(describe_file(path, env_var)),
        kind: ConfigErrorKind::Unreadable(format!(
            "cannot read configuration file {}: {err}",
            describe_file(path, env_var)
        )),
    })?;
    // An empty file is an empty mapping, not a type error.
    if text.trim().is_empty() {
        return Ok(Yaml::string("{}"));
    }
    Ok(Yaml::file_exact(path))
}

/// Finds every key of a framework section that nothing reads: a Python-era key is a
/// warning (returned), any other one an error with the closest known key.
fn check_keys(figment: &Figment, app_name: &str) -> Result<Vec<String>, ConfigError> {
    let root: Value = figment.extract().map_err(config_error)?;
    let mut unread = Vec::new();
    let mut note = |path: serde_ignored::Path<'_>| unread.push(path.to_string());
    let de = serde_ignored::Deserializer::new(&root, &mut note);
    // The values were checked by `extract`; this pass only collects unread keys.
    let _: Result<IgnitionConfig, _> = serde::Deserialize::deserialize(de);
    let known = serde_json::to_value(IgnitionConfig::defaults(app_name)).unwrap_or_default();
    let mut warnings = Vec::new();
    for path in unread {
        match keys::classify(&path) {
            Unread::Driver => {}
            Unread::PythonEra(why) => {
                let from = source_of(figment, &path)
                    .map(|file| format!(" (from {file})"))
                    .unwrap_or_default();
                warnings.push(format!(
                    "configuration property `{path}`{from} is ignored: {why} (a Python Ignition key)"
                ));
            }
            Unread::Unknown => {
                let (parent, key) = path.rsplit_once('.').unwrap_or(("", &path));
                let siblings: Vec<String> = parent
                    .split('.')
                    .filter(|part| !part.is_empty())
                    .try_fold(&known, |node, part| node.get(part))
                    .and_then(|node| node.as_object())
                    .map(|object| object.keys().cloned().collect())
                    .unwrap_or_default();
                return Err(ConfigError {
                    file: source_of(figment, &path),
                    kind: ConfigErrorKind::Unknown {
                        did_you_mean: keys::did_you_mean(key, siblings.iter().map(String::as_str)),
                        expected: siblings,
                    },
                    property: path,
                });
            }
        }
    }
    Ok(warnings)
}

/// Turns figment's error into one that names the property and its source.
fn config_error(err: figment::Error) -> ConfigError {
    use figment::error::Kind;
    let source = err.metadata.as_ref().map(|md| match &md.source {
        Some(source) => source.to_string(),
        None => md.name.to_string(),
    });
    let mut path = err.path.clone();
    let detail = match &err.kind {
        Kind::MissingField(field) => {
            path.push(field.to_string());
            "missing property".to_string()
        }
        kind => kind.to_string(),
    };
    ConfigError {
        property: if path.is_empty() {
            "(root)".to_string()
        } else {
            path.join(".")
        },
        file: source,
        kind: ConfigErrorKind::Invalid(detail),
    }
}
