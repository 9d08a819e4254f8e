//! Reading the layers (defaults, environment, files, properties) into one figment,
//! resolving their references, checking their keys, and extracting the framework's
//! properties and the driver's sections.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use figment::providers::{Format, Serialized, Yaml};
use figment::value::{Dict, Map, Value};
use figment::{Figment, Metadata, Profile, Provider};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};

use super::encryption_key::EncryptionKey;
use super::env::{env_properties, EnvDefault};
use super::error::{describe_file, layer_name, ConfigError, ConfigErrorKind};
use super::keys::{self, Unread};
use super::logging::LoggingProperties;
use super::properties::IgnitionConfig;
use super::secrets::{self, LayerValues, Outside, Sensitive};
use super::validate::validate;

/// Where the configuration comes from; built by [`App`](crate::App).
#[derive(Debug, Default, Clone)]
pub(crate) struct ConfigSources {
    pub(crate) file: Option<PathBuf>,
    pub(crate) env_var: Option<String>,
    pub(crate) properties: Vec<(String, serde_json::Value)>,
}

/// The configuration as read: the framework's properties, the WARN lines owed for
/// ignored Python-era keys and likely typos, every layer (for the driver's sections),
/// and which values must never be shown.
#[derive(Debug, Clone)]
pub(crate) struct LoadedConfig {
    pub(crate) config: IgnitionConfig,
    pub(crate) warnings: Vec<String>,
    figment: Figment,
    sensitive: Sensitive,
}

impl ConfigSources {
    /// Reads every layer and checks the result.
    pub(crate) fn load(&self, app_name: &str) -> Result<LoadedConfig, ConfigError> {
        self.load_from(app_name, std::env::vars_os(), Outside::PROCESS)
    }

    /// As [`load`](Self::load), with `vars` as the environment's variables (for the
    /// `IGNITION__` layers) and `outside` for references, the variable naming a file and
    /// the key file.
    fn load_from(
        &self,
        app_name: &str,
        vars: impl IntoIterator<Item = (OsString, OsString)>,
        outside: Outside,
    ) -> Result<LoadedConfig, ConfigError> {
        let mut layers = Layers::new(app_name, outside);
        // LOG_TYPE / LOG_LEVEL are the defaults of `logging.*` (Python reads only them);
        // each is a layer of its own, so an error names the variable.
        for (var, key) in LoggingProperties::ENV_DEFAULTS {
            layers.merge(EnvDefault { var, key });
        }
        if let Some(file) = &self.file {
            layers.add(yaml_file(file, None)?, false)?;
        }
        if let Some(var) = &self.env_var {
            if let Some(path) = (outside.var)(var) {
                layers.add(yaml_file(Path::new(&path), Some(var))?, false)?;
            }
        }
        for property in env_properties(vars)? {
            let metadata = Metadata::named(property.layer_name());
            layers.add(Layer::new(metadata, property.dict), true)?;
        }
        for (key, value) in &self.properties {
            let metadata = Metadata::named(format!("App::property(\"{key}\")"));
            let data = Serialized::global(key, value)
                .data()
                .map_err(|err| ConfigError::invalid(key, err.to_string()))?;
            layers.add(Layer { metadata, data }, false)?;
        }
        layers.checked()
    }
}

/// The defaults, then `yaml` as if it were the configuration file (no environment, no
/// file read by a reference): what the config loader fuzz target feeds.
#[cfg(feature = "fuzz-internals")]
pub(crate) fn load_yaml_text(yaml: &str, app_name: &str) -> Result<LoadedConfig, ConfigError> {
    let mut layers = Layers::new(app_name, Outside::NOTHING);
    if !yaml.trim().is_empty() {
        layers.add(Yaml::string(yaml), false)?;
    }
    layers.checked()
}

/// The layers read so far, merged, and the values among them that must not be shown.
struct Layers {
    app_name: String,
    figment: Figment,
    sensitive: Sensitive,
    outside: Outside,
}

impl Layers {
    /// The built-in defaults alone.
    fn new(app_name: &str, outside: Outside) -> Self {
        let defaults = Serialized::defaults(IgnitionConfig::defaults(app_name));
        let figment = Figment::new().merge(Layer {
            metadata: Metadata::named(DEFAULTS),
            // Plain structs of strings, numbers and maps always serialize.
            data: defaults.data().unwrap_or_default(),
        });
        Self {
            app_name: app_name.to_string(),
            figment,
            sensitive: Sensitive::default(),
            outside,
        }
    }

    /// Merges a layer as it is, winning over the layers before it.
    fn merge(&mut self, provider: impl Provider) {
        self.figment = std::mem::take(&mut self.figment).merge(provider);
    }

    /// Reads `provider`, resolves its references (recording its values as not to be
    /// shown if `all_hidden`) and merges it, winning over the layers before it.
    fn add(&mut self, provider: impl Provider, all_hidden: bool) -> Result<(), ConfigError> {
        let metadata = provider.metadata();
        let name = layer_name(&metadata);
        let mut data = provider.data().map_err(|mut err| {
            err.metadata = Some(metadata.clone());
            ConfigError::from_figment(err, &self.sensitive)
        })?;
        let values = LayerValues {
            name: &name,
            all_hidden,
        };
        for dict in data.values_mut() {
            secrets::resolve(dict, values, self.outside, &mut self.sensitive)?;
        }
        self.merge(Layer { metadata, data });
        Ok(())
    }

    /// Extracts the framework's properties, checks their keys and rules, and reads the
    /// key file.
    fn checked(self) -> Result<LoadedConfig, ConfigError> {
        let Layers {
            app_name,
            figment,
            sensitive,
            outside,
        } = self;
        // Lossy: a number or boolean may come as a string (from the environment, a
        // reference, or a quoted YAML value).
        let Tracked {
            value: mut config,
            unread,
        } = figment
            .extract_lossy::<Tracked<IgnitionConfig>>()
            .map_err(|err| ConfigError::from_figment(err, &sensitive))?;
        let warnings = check_unread(&figment, unread, &app_name)?;
        let named = |err: ConfigError| {
            let file = source_of(&figment, &err.property);
            err.in_file(file).redacted(&sensitive)
        };
        validate(&config).map_err(named)?;
        if let Some(path) = &config.job_queue.encryption_key_file {
            let key = EncryptionKey::read(path, outside)
                .map_err(|why| named(ConfigError::invalid("job_queue.encryption_key_file", why)))?;
            config.job_queue.encryption_key = Some(key);
        }
        Ok(LoadedConfig {
            config,
            warnings,
            figment,
            sensitive,
        })
    }
}

impl LoadedConfig {
    /// The driver's section `section` as a `T`: an absent (or empty) section is an empty
    /// map; a key `T` does not read, or a value it refuses, is an error naming
    /// `section.key` and its file. Its values are resolved as the framework's are.
    pub(crate) fn section<T: DeserializeOwned>(&self, section: &str) -> Result<T, ConfigError> {
        let present = !matches!(
            self.figment.find_value(section),
            Err(_) | Ok(Value::Empty(..))
        );
        let with_empty;
        let figment = if present {
            &self.figment
        } else {
            with_empty = self
                .figment
                .clone()
                .merge(Serialized::default(section, Dict::new()));
            &with_empty
        };
        let Tracked { value, unread } = figment
            .extract_inner_lossy::<Tracked<T>>(section)
            .map_err(|err| ConfigError::from_figment(in_section(err, section), &self.sensitive))?;
        if let Some(path) = unread.first() {
            let property = format!("{section}.{path}");
            return Err(ConfigError {
                file: source_of(&self.figment, &property),
                property,
                kind: ConfigErrorKind::Unknown {
                    did_you_mean: None,
                    expected: Vec::new(),
                },
            });
        }
        Ok(value)
    }
}

/// A figment error of `extract_inner(section)` with its path starting at the root:
/// figment appends the section's keys to the path instead of prepending them.
fn in_section(mut err: figment::Error, section: &str) -> figment::Error {
    let keys: Vec<String> = section
        .split('.')
        .filter(|key| !key.is_empty())
        .map(str::to_string)
        .collect();
    if err.path.ends_with(&keys) {
        err.path.truncate(err.path.len() - keys.len());
    }
    err.path.splice(0..0, keys);
    err
}

/// A `T`, with the keys its deserialization left unread, in one pass.
struct Tracked<T> {
    value: T,
    unread: Vec<String>,
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Tracked<T> {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        let mut unread = Vec::new();
        let value = serde_ignored::deserialize(de, |path| unread.push(path.to_string()))?;
        Ok(Self { value, unread })
    }
}

/// One layer's values, already read (and their references resolved).
struct Layer {
    metadata: Metadata,
    data: Map<Profile, Dict>,
}

impl Layer {
    fn new(metadata: Metadata, dict: Dict) -> Self {
        Self {
            metadata,
            data: Profile::Default.collect(dict),
        }
    }
}

impl Provider for Layer {
    fn metadata(&self) -> Metadata {
        self.metadata.clone()
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        Ok(self.data.clone())
    }
}

/// The name of the defaults' layer.
const DEFAULTS: &str = "the built-in defaults";

/// The file (or other layer) a property's value came from; `None` for a default.
fn source_of(figment: &Figment, property: &str) -> Option<String> {
    figment
        .find_metadata(property)
        .filter(|metadata| metadata.name != DEFAULTS)
        .map(layer_name)
}

/// A configuration file as a layer; one that cannot be read is an error naming it.
fn yaml_file(path: &Path, env_var: Option<&str>) -> Result<Layer, ConfigError> {
    // figment treats a missing file as empty; a configured file that is absent is a mistake.
    let text = std::fs::read_to_string(path).map_err(|err| ConfigError {
        property: String::new(),
        file: Some(describe_file(path, env_var)),
        kind: ConfigErrorKind::Unreadable(format!(
            "cannot read configuration file {}: {err}",
            describe_file(path, env_var)
        )),
    })?;
    let metadata = Metadata::from("YAML file", path);
    // An empty file is an empty mapping, not a type error.
    let data = if text.trim().is_empty() {
        Profile::Default.collect(Dict::new())
    } else {
        Yaml::string(&text).data().map_err(|mut err| {
            err.metadata = Some(metadata.clone());
            ConfigError::from_figment(err, &Sensitive::default())
        })?
    };
    Ok(Layer { metadata, data })
}

/// Sorts the keys nothing read: a Python-era key is a warning, a driver's section that
/// looks like a misspelt framework section too, any other key of a framework section an
/// error with the closest known key.
fn check_unread(
    figment: &Figment,
    unread: Vec<String>,
    app_name: &str,
) -> Result<Vec<String>, ConfigError> {
    let known = serde_json::to_value(IgnitionConfig::defaults(app_name)).unwrap_or_default();
    let from = |path: &str| {
        source_of(figment, path)
            .map(|file| format!(" (from {file})"))
            .unwrap_or_default()
    };
    let mut warnings = Vec::new();
    for path in unread {
        match keys::classify(&path) {
            Unread::Driver => {
                if let Some(section) = keys::near_framework_section(&path) {
                    warnings.push(format!(
                        "configuration section `{path}`{} is not one of the framework's, so only the driver reads it; did you mean `{section}`?",
                        from(&path)
                    ));
                }
            }
            Unread::PythonEra(why) => warnings.push(format!(
                "configuration property `{path}`{} is ignored: {why} (a Python Ignition key)",
                from(&path)
            )),
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

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::time::Duration;

    use super::*;

    fn yaml(text: &str) -> tempfile::NamedTempFile {
        let mut file = tempfile::Builder::new().suffix(".yml").tempfile().unwrap();
        file.write_all(text.as_bytes()).unwrap();
        file
    }

    fn sources(file: &tempfile::NamedTempFile) -> ConfigSources {
        ConfigSources {
            file: Some(file.path().to_path_buf()),
            ..ConfigSources::default()
        }
    }

    fn vars(pairs: &[(&str, &str)]) -> Vec<(OsString, OsString)> {
        pairs
            .iter()
            .map(|(name, value)| (name.into(), value.into()))
            .collect()
    }

    fn load(sources: &ConfigSources, env: &[(&str, &str)]) -> Result<LoadedConfig, ConfigError> {
        sources.load_from("Test Driver", vars(env), Outside::PROCESS)
    }

    #[test]
    fn the_environment_wins_over_files_and_properties_over_the_environment() {
        let file = yaml("application:\n  port: 1111\njob_queue:\n  consumer_group_id: from_file\n  poll_interval: 2s\n");
        let mut sources = sources(&file);
        let env = [
            ("IGNITION__APPLICATION__PORT", "2222"),
            ("IGNITION__JOB_QUEUE__POLL_INTERVAL", "250ms"),
            ("IGNITION__BOOTSTRAP__JOB_QUEUE__SERVICE_ENABLED", "false"),
        ];
        let config = load(&sources, &env).unwrap().config;
        assert_eq!(config.application.port, 2222, "a number from a string");
        assert_eq!(config.job_queue.poll_interval, Duration::from_millis(250));
        assert!(
            !config.bootstrap.job_queue.service_enabled,
            "a boolean from a string"
        );
        assert_eq!(config.job_queue.consumer_group_id, "from_file");
        sources
            .properties
            .push(("application.port".into(), 3333.into()));
        assert_eq!(load(&sources, &env).unwrap().config.application.port, 3333);
    }

    #[test]
    fn a_kafka_setting_from_the_environment_keeps_its_dots() {
        let config = load(
            &ConfigSources::default(),
            &[
                ("IGNITION__MESSAGING__CONFIG__SASL__PASSWORD", "0123"),
                (
                    "IGNITION__MESSAGING__TOPICS__JOB_QUEUE__CONFIG__RETENTION__MS",
                    "5000",
                ),
            ],
        )
        .unwrap()
        .config;
        assert_eq!(
            config.messaging.config["sasl.password"], "0123",
            "as written"
        );
        let job_topic = &config.messaging.topics.job_queue.config;
        assert_eq!(job_topic["retention.ms"], "5000");
        assert_eq!(
            job_topic["file.delete.delay.ms"], "60000",
            "the others stay"
        );
    }

    #[test]
    fn an_unknown_key_from_the_environment_names_the_variable() {
        let err = load(
            &ConfigSources::default(),
            &[("IGNITION__APPLICATION__PROT", "1")],
        )
        .unwrap_err();
        assert_eq!(err.property, "application.prot");
        assert_eq!(
            err.file.as_deref(),
            Some("environment variable IGNITION__APPLICATION__PROT")
        );
        assert!(err.to_string().contains("did you mean `port`?"), "{err}");
    }

    #[test]
    fn an_ill_typed_value_from_the_environment_is_not_shown() {
        let err = load(
            &ConfigSources::default(),
            &[("IGNITION__APPLICATION__PORT", "hunter2")],
        )
        .unwrap_err();
        let message = err.to_string();
        assert_eq!(err.property, "application.port");
        assert!(!message.contains("hunter2"), "{message}");
        assert!(
            message.contains(r#"found string "****", expected u16 (the value of environment variable IGNITION__APPLICATION__PORT is not shown)"#),
            "{message}"
        );
    }

    #[test]
    fn a_secret_on_the_wrong_key_is_not_shown_by_any_rule() {
        let secret = yaml("Hunter2 Secret!\n");
        let file = yaml(&format!(
            "job_queue:\n  max_concurrent_polls: ${{file:{0}}}\n",
            secret.path().display()
        ));
        let err = load(&sources(&file), &[]).unwrap_err();
        assert_eq!(err.property, "job_queue.max_concurrent_polls");
        assert!(!err.to_string().contains("Hunter2"), "{err}");
        // A rule across properties quotes the value: hidden too.
        let file = yaml(&format!(
            "messaging:\n  topics:\n    job_queue:\n      name: ${{file:{0}}}\n",
            secret.path().display()
        ));
        let err = load(&sources(&file), &[]).unwrap_err();
        assert_eq!(err.property, "messaging.topics.job_queue.name");
        let message = err.to_string();
        assert!(!message.contains("Hunter2"), "{message}");
        assert!(message.contains("`****` contains ` `"), "{message}");
        assert!(
            message.contains(&format!("(from {})", file.path().display())),
            "a rule names the file too: {message}"
        );
    }

    #[test]
    fn a_bad_reference_names_the_property_and_the_file_it_is_written_in() {
        let file = yaml("messaging:\n  config:\n    sasl.password: ${file:/no/such/secret}\n");
        let err = load(&sources(&file), &[]).unwrap_err();
        assert_eq!(err.property, "messaging.config.sasl.password");
        let message = err.to_string();
        assert!(
            message.contains(&file.path().display().to_string()),
            "{message}"
        );
        assert!(message.contains("cannot read /no/such/secret"), "{message}");
    }

    #[test]
    fn the_drivers_section_is_resolved_and_read_leniently() {
        #[derive(Debug, Deserialize, PartialEq)]
        #[serde(deny_unknown_fields)]
        struct Cloud {
            password: String,
            capacity: u32,
            #[serde(default)]
            region: String,
        }
        let secret = yaml("pa55\n");
        let file = yaml(&format!(
            "cloud:\n  password: ${{file:{}}}\n  capacity: 1\n",
            secret.path().display()
        ));
        let loaded = load(&sources(&file), &[("IGNITION__CLOUD__CAPACITY", "8")]).unwrap();
        assert_eq!(
            loaded.section::<Cloud>("cloud").unwrap(),
            Cloud {
                password: "pa55".into(),
                capacity: 8,
                region: String::new()
            }
        );
        let loaded = load(&sources(&file), &[("IGNITION__CLOUD__CAPACTY", "8")]).unwrap();
        let err = loaded.section::<Cloud>("cloud").unwrap_err();
        assert_eq!(err.property, "cloud.capacty");
        assert_eq!(
            err.file.as_deref(),
            Some("environment variable IGNITION__CLOUD__CAPACTY")
        );
        assert!(
            err.to_string()
                .contains("did you mean `capacity`?; expected one of: password, capacity, region"),
            "{err}"
        );
    }

    #[test]
    fn an_absent_or_empty_section_reads_as_an_empty_map_and_paths_start_at_the_root() {
        #[derive(Debug, Deserialize, Default, PartialEq)]
        struct Optional {
            #[serde(default)]
            capacity: u32,
        }
        let file = yaml("empty:\nbad:\n  capacity: lots\n");
        let loaded = load(&sources(&file), &[]).unwrap();
        assert_eq!(
            loaded.section::<Optional>("absent").unwrap(),
            Optional::default()
        );
        assert_eq!(
            loaded.section::<Optional>("empty").unwrap(),
            Optional::default()
        );
        let err = loaded.section::<Optional>("bad").unwrap_err();
        assert_eq!(err.property, "bad.capacity");
        assert!(
            err.to_string().contains(&file.path().display().to_string()),
            "{err}"
        );
    }

    #[test]
    fn the_key_file_is_read_at_start_and_never_shown() {
        let key = yaml(&format!("{}\n", "ab".repeat(32)));
        let file = yaml(&format!(
            "job_queue:\n  encryption_key_file: {}\n",
            key.path().display()
        ));
        let loaded = load(&sources(&file), &[]).unwrap();
        let read = loaded
            .config
            .job_queue
            .encryption_key
            .as_ref()
            .expect("read");
        assert_eq!(read.bytes(), &[0xab; 32]);
        let debug = format!("{loaded:?}");
        assert!(
            !debug.contains(&"ab".repeat(32)) && !debug.contains("171"),
            "{debug}"
        );
        let short = yaml("abcd\n");
        let file = yaml(&format!(
            "job_queue:\n  encryption_key_file: {}\n",
            short.path().display()
        ));
        let err = load(&sources(&file), &[]).unwrap_err();
        assert_eq!(err.property, "job_queue.encryption_key_file");
        let message = err.to_string();
        assert!(
            message.contains(&short.path().display().to_string()),
            "{message}"
        );
        assert!(
            message.contains(&file.path().display().to_string()),
            "{message}"
        );
        assert!(message.contains("holds 5 bytes"), "{message}");
    }

    #[test]
    fn python_era_keys_and_near_misses_are_warnings_that_show_no_value() {
        let secret = yaml("Hunter2 Secret!\n");
        let file = yaml(&format!(
            "resource_driver:\n  scripts_workspace: ${{file:{}}}\n  keep_files: false\naplication:\n  port: 1\n",
            secret.path().display()
        ));
        let err = load(&sources(&file), &[]).unwrap_err();
        assert_eq!(
            err.property, "resource_driver.keep_files",
            "not a framework key"
        );
        let file = yaml(&format!(
            "resource_driver:\n  scripts_workspace: ${{file:{}}}\naplication:\n  port: 1\n",
            secret.path().display()
        ));
        let warnings = load(&sources(&file), &[]).unwrap().warnings;
        assert_eq!(warnings.len(), 2, "{warnings:#?}");
        assert!(
            warnings[0].contains("`aplication`")
                && warnings[0].contains("did you mean `application`?")
        );
        assert!(warnings[1].contains("`resource_driver.scripts_workspace`"));
        assert!(
            warnings.iter().all(|w| !w.contains("Hunter2")),
            "{warnings:#?}"
        );
    }

    #[test]
    fn a_property_set_in_code_is_named_in_its_error() {
        let sources = ConfigSources {
            properties: vec![("application.port".into(), "many".into())],
            ..ConfigSources::default()
        };
        let err = load(&sources, &[]).unwrap_err();
        assert_eq!(
            err.file.as_deref(),
            Some(r#"App::property("application.port")"#)
        );
    }

    #[test]
    fn a_rule_broken_by_a_default_names_no_file() {
        let err = ConfigSources::default()
            .load_from("!!!", vars(&[]), Outside::NOTHING)
            .unwrap_err();
        assert_eq!(err.property, "messaging.topics.job_queue.name");
        assert_eq!(err.file, None, "{err}");
    }

    #[test]
    fn a_yaml_syntax_error_names_the_file() {
        let file = yaml("application:\n  port: [1\n");
        let err = load(&sources(&file), &[]).unwrap_err();
        assert_eq!(
            err.file.as_deref(),
            Some(file.path().display().to_string().as_str())
        );
    }

    #[test]
    fn figments_appended_section_path_is_put_first() {
        let mut err = figment::Error::from("bad".to_string());
        err.path = vec!["auth".into(), "user".into(), "cloud".into()];
        assert_eq!(in_section(err, "cloud").path, ["cloud", "auth", "user"]);
    }
}
