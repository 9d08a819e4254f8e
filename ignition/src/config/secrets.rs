//! Values kept out of the YAML: a whole string value `${env:NAME}` or `${file:PATH}` is
//! replaced, when the configuration is read, by the variable's value or the file's text
//! (its trailing newlines trimmed); and the record of every value that came from a
//! secret or the environment, so that no message shows one.
//!
//! Only a whole value is a reference (`password: ${file:/run/secrets/kafka}`, not
//! `url: http://${env:HOST}`), and what it gives is used as is, never resolved again: a
//! value that must literally read `${env:X}` can be put in a file.

use std::ffi::OsString;
use std::io::Read;
use std::path::Path;

use figment::value::{Dict, Value};

use super::error::{ConfigError, HIDDEN};

/// Largest secret file read: a password, a token or a PEM chain fits many times over; a
/// larger one is a mistake (`${file:/dev/zero}` must not fill the memory).
const MAX_SECRET_FILE: u64 = 1024 * 1024;

/// What the configuration may read besides its own files: environment variables and
/// the files references name.
#[derive(Clone, Copy)]
pub(crate) struct Outside {
    /// An environment variable's value.
    pub(crate) var: fn(&str) -> Option<OsString>,
    /// At most `limit + 1` bytes of a file (one more than allowed tells a file too
    /// large).
    pub(crate) read: fn(&Path, u64) -> std::io::Result<Vec<u8>>,
}

impl Outside {
    /// The process's environment and file system.
    pub(crate) const PROCESS: Outside = Outside {
        var: process_var,
        read: read_at_most,
    };

    /// Neither: every variable unset, every file unreadable (the fuzz target's, so that
    /// its input cannot make it read `/dev/zero`).
    #[cfg(any(test, feature = "fuzz-internals"))]
    pub(crate) const NOTHING: Outside = Outside {
        var: |_| None,
        read: |_, _| Err(std::io::ErrorKind::Unsupported.into()),
    };
}

impl std::fmt::Debug for Outside {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Outside")
    }
}

fn process_var(name: &str) -> Option<OsString> {
    std::env::var_os(name)
}

/// Reads at most `limit + 1` bytes of the file at `path`.
pub(crate) fn read_at_most(path: &Path, limit: u64) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Values that must never be shown, each at its dotted property.
#[derive(Clone, Default)]
pub(crate) struct Sensitive(Vec<SensitiveValue>);

/// One value that must never be shown.
#[derive(Clone)]
pub(crate) struct SensitiveValue {
    property: String,
    /// Where it came from, for messages: `` `${file:/run/secrets/x}` `` or
    /// `environment variable IGNITION__...`.
    from: String,
    value: String,
}

impl Sensitive {
    /// The values at `property` that must not be shown.
    pub(crate) fn at<'a>(&'a self, property: &'a str) -> impl Iterator<Item = &'a SensitiveValue> {
        self.0
            .iter()
            .filter(move |value| value.property == property)
    }

    /// The value at `property` that reads `found`, if it must not be shown.
    pub(crate) fn hides(&self, property: &str, found: &str) -> Option<&SensitiveValue> {
        self.0
            .iter()
            .find(|value| value.property == property && value.value == found)
    }

    fn record(&mut self, property: &str, from: String, value: &str) {
        self.0.push(SensitiveValue {
            property: property.to_string(),
            from,
            value: value.to_string(),
        });
    }
}

impl std::fmt::Debug for Sensitive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The properties only: the values are what must never be shown.
        f.debug_list()
            .entries(self.0.iter().map(|value| &value.property))
            .finish()
    }
}

impl SensitiveValue {
    /// The sentence that says a value was hidden, and why.
    pub(crate) fn note(&self) -> String {
        format!(" (the value of {} is not shown)", self.from)
    }

    /// `text` with this value replaced by `****`, if it holds it.
    pub(crate) fn hide_in(&self, text: &str) -> Option<String> {
        (!self.value.is_empty() && text.contains(&self.value))
            .then(|| text.replace(&self.value, HIDDEN) + &self.note())
    }
}

/// How the values of one layer are treated.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LayerValues<'a> {
    /// The layer's name for messages (its file, or the variable).
    pub(crate) name: &'a str,
    /// Every value of the layer must not be shown (an environment variable's).
    pub(crate) all_hidden: bool,
}

/// Resolves every reference in `dict`, one layer's values, recording in `sensitive`
/// what must not be shown; an unset variable or an unreadable file is an error naming
/// the property and the layer.
pub(crate) fn resolve(
    dict: &mut Dict,
    layer: LayerValues<'_>,
    outside: Outside,
    sensitive: &mut Sensitive,
) -> Result<(), ConfigError> {
    for (key, value) in dict.iter_mut() {
        resolve_value(value, key, layer, outside, sensitive)?;
    }
    Ok(())
}

fn resolve_value(
    value: &mut Value,
    property: &str,
    layer: LayerValues<'_>,
    outside: Outside,
    sensitive: &mut Sensitive,
) -> Result<(), ConfigError> {
    match value {
        Value::String(_, text) => match Reference::parse(text) {
            Some(reference) => {
                let reference = reference.and_then(|reference| {
                    let resolved = reference.resolve(outside)?;
                    Ok((format!("`{reference}`"), resolved))
                });
                let (from, resolved) = reference.map_err(|why| {
                    ConfigError::invalid(property, why).in_file(Some(layer.name.to_string()))
                })?;
                sensitive.record(property, from, &resolved);
                *text = resolved;
            }
            None if layer.all_hidden => sensitive.record(property, layer.name.to_string(), text),
            None => {}
        },
        Value::Dict(_, dict) => {
            for (key, value) in dict.iter_mut() {
                resolve_value(
                    value,
                    &format!("{property}.{key}"),
                    layer,
                    outside,
                    sensitive,
                )?;
            }
        }
        Value::Array(_, values) => {
            for (index, value) in values.iter_mut().enumerate() {
                resolve_value(
                    value,
                    &format!("{property}.{index}"),
                    layer,
                    outside,
                    sensitive,
                )?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// `${env:NAME}` or `${file:PATH}`.
#[derive(Debug, PartialEq, Eq)]
enum Reference<'a> {
    Env(&'a str),
    File(&'a str),
}

impl<'a> Reference<'a> {
    /// `None` for a value that is not a reference; an error for one that starts like a
    /// reference and is not one.
    fn parse(text: &'a str) -> Option<Result<Self, String>> {
        let (make, rest): (fn(&'a str) -> Self, &str) =
            if let Some(rest) = text.strip_prefix("${env:") {
                (Reference::Env, rest)
            } else if let Some(rest) = text.strip_prefix("${file:") {
                (Reference::File, rest)
            } else {
                return None;
            };
        let inner = match rest.strip_suffix('}') {
            Some(inner) if !inner.contains('}') => inner,
            _ => {
                return Some(Err(format!(
                    "`{text}`: a reference is a whole value, `${{env:NAME}}` or `${{file:PATH}}`"
                )))
            }
        };
        let reference = make(inner);
        let bad_name = match reference {
            Reference::Env(name) => name.is_empty() || name.contains(['=', '\0']),
            Reference::File(path) => path.is_empty(),
        };
        Some(if bad_name {
            Err(format!("`{text}` names no {}", reference.what()))
        } else {
            Ok(reference)
        })
    }

    fn what(&self) -> &'static str {
        match self {
            Reference::Env(_) => "environment variable",
            Reference::File(_) => "file",
        }
    }

    /// The variable's value, or the file's text without its trailing newlines.
    fn resolve(&self, outside: Outside) -> Result<String, String> {
        match *self {
            Reference::Env(name) => (outside.var)(name)
                .ok_or_else(|| format!("`{self}`: the environment variable {name} is not set"))?
                .into_string()
                .map_err(|_| format!("`{self}`: the value of {name} is not UTF-8")),
            Reference::File(path) => {
                let bytes = (outside.read)(Path::new(path), MAX_SECRET_FILE)
                    .map_err(|err| format!("`{self}`: cannot read {path}: {err}"))?;
                if bytes.len() as u64 > MAX_SECRET_FILE {
                    return Err(format!(
                        "`{self}`: {path} is larger than {} (a secret file holds one value)",
                        super::ByteSize(MAX_SECRET_FILE)
                    ));
                }
                let text = String::from_utf8(bytes)
                    .map_err(|_| format!("`{self}`: {path} is not UTF-8 text"))?;
                Ok(text.trim_end_matches(['\n', '\r']).to_string())
            }
        }
    }
}

impl std::fmt::Display for Reference<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reference::Env(name) => write!(f, "${{env:{name}}}"),
            Reference::File(path) => write!(f, "${{file:{path}}}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use figment::providers::{Format, Yaml};
    use figment::Provider;

    use super::*;

    /// Variables of these tests: `SECRET_TEST_TOKEN` is set, every other one is not.
    const TEST_VARS: Outside = Outside {
        var: |name| (name == "SECRET_TEST_TOKEN").then(|| "t0ken\n".into()),
        read: read_at_most,
    };

    fn dict_of(yaml: &str) -> Dict {
        Yaml::string(yaml)
            .data()
            .unwrap()
            .remove(&figment::Profile::Default)
            .unwrap()
    }

    fn resolved(yaml: &str, outside: Outside) -> Result<(Dict, Sensitive), ConfigError> {
        let mut dict = dict_of(yaml);
        let mut sensitive = Sensitive::default();
        let layer = LayerValues {
            name: "config.yml",
            all_hidden: false,
        };
        resolve(&mut dict, layer, outside, &mut sensitive)?;
        Ok((dict, sensitive))
    }

    fn string_at(dict: &Dict, path: &[&str]) -> String {
        let mut value = dict.get(path[0]).unwrap();
        for key in &path[1..] {
            value = value.as_dict().unwrap().get(*key).unwrap();
        }
        value.as_str().unwrap().to_string()
    }

    fn secret_file(contents: &[u8]) -> tempfile::NamedTempFile {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(contents).unwrap();
        file
    }

    #[test]
    fn references_are_replaced_by_the_variable_or_the_file() {
        let file = secret_file(b"s3cret\r\n\n");
        let yaml = format!(
            "messaging:\n  config:\n    sasl.password: ${{file:{}}}\n    sasl.username: ${{env:SECRET_TEST_TOKEN}}\n  connection_address: kafka:9092\n",
            file.path().display()
        );
        let (dict, sensitive) = resolved(&yaml, TEST_VARS).unwrap();
        assert_eq!(
            string_at(&dict, &["messaging", "config", "sasl.password"]),
            "s3cret",
            "trailing newlines trimmed"
        );
        assert_eq!(
            string_at(&dict, &["messaging", "config", "sasl.username"]),
            "t0ken\n",
            "a variable is taken as it is"
        );
        assert_eq!(
            string_at(&dict, &["messaging", "connection_address"]),
            "kafka:9092"
        );
        let hidden: Vec<&str> = sensitive
            .0
            .iter()
            .map(|value| value.property.as_str())
            .collect();
        assert_eq!(
            hidden,
            [
                "messaging.config.sasl.password",
                "messaging.config.sasl.username"
            ]
        );
        let debug = format!("{sensitive:?}");
        assert!(
            !debug.contains("s3cret") && !debug.contains("t0ken"),
            "{debug}"
        );
    }

    #[test]
    fn references_inside_lists_are_resolved_too() {
        let (dict, sensitive) =
            resolved("hosts: [a, '${env:SECRET_TEST_TOKEN}']\n", TEST_VARS).unwrap();
        let hosts = dict["hosts"].as_array().unwrap();
        assert_eq!(hosts[1].as_str(), Some("t0ken\n"));
        assert!(sensitive.hides("hosts.1", "t0ken\n").is_some());
    }

    #[test]
    fn what_cannot_be_resolved_names_the_property_the_layer_and_the_reference() {
        let err = resolved(
            "openstack:\n  password: ${env:SECRET_TEST_UNSET}\n",
            TEST_VARS,
        )
        .unwrap_err();
        assert_eq!(err.property, "openstack.password");
        assert_eq!(err.file.as_deref(), Some("config.yml"));
        assert!(
            err.to_string().contains(
                "`${env:SECRET_TEST_UNSET}`: the environment variable SECRET_TEST_UNSET is not set"
            ),
            "{err}"
        );
        let err = resolved("a:\n  b: ${file:/no/such/secret}\n", TEST_VARS).unwrap_err();
        assert_eq!(err.property, "a.b");
        assert!(
            err.to_string().contains("cannot read /no/such/secret"),
            "{err}"
        );
    }

    #[test]
    fn a_file_too_large_or_not_text_is_refused() {
        let big = secret_file(&vec![b'x'; MAX_SECRET_FILE as usize + 1]);
        let yaml = format!("a: ${{file:{}}}\n", big.path().display());
        let err = resolved(&yaml, TEST_VARS).unwrap_err();
        assert!(err.to_string().contains("is larger than 1MiB"), "{err}");
        let binary = secret_file(&[0xff, 0xfe, 0x00]);
        let yaml = format!("a: ${{file:{}}}\n", binary.path().display());
        let err = resolved(&yaml, TEST_VARS).unwrap_err();
        assert!(err.to_string().contains("is not UTF-8 text"), "{err}");
    }

    #[test]
    fn only_a_whole_value_is_a_reference() {
        assert_eq!(Reference::parse("plain"), None);
        assert_eq!(Reference::parse("http://${env:HOST}"), None);
        assert_eq!(
            Reference::parse("${HOME}"),
            None,
            "shell syntax is left alone"
        );
        assert_eq!(Reference::parse("${env:A}"), Some(Ok(Reference::Env("A"))));
        assert_eq!(
            Reference::parse("${file:/run/secrets/a b}"),
            Some(Ok(Reference::File("/run/secrets/a b")))
        );
        for bad in [
            "${env:A}:9092",
            "${env:A}${env:B}",
            "${env:}",
            "${file:}",
            "${env:A=B}",
        ] {
            assert!(
                matches!(Reference::parse(bad), Some(Err(_))),
                "{bad} is refused"
            );
        }
    }

    #[test]
    fn what_a_reference_gives_is_not_resolved_again() {
        let file = secret_file(b"${env:SECRET_TEST_TOKEN}\n");
        let yaml = format!("a: ${{file:{}}}\n", file.path().display());
        let (dict, _) = resolved(&yaml, TEST_VARS).unwrap();
        assert_eq!(string_at(&dict, &["a"]), "${env:SECRET_TEST_TOKEN}");
    }

    #[test]
    fn every_value_of_a_hidden_layer_is_recorded() {
        let mut dict = dict_of("application:\n  port: '8080'\n");
        let mut sensitive = Sensitive::default();
        let layer = LayerValues {
            name: "environment variable IGNITION__APPLICATION__PORT",
            all_hidden: true,
        };
        resolve(&mut dict, layer, Outside::NOTHING, &mut sensitive).unwrap();
        let value = sensitive.hides("application.port", "8080").unwrap();
        assert_eq!(
            value.hide_in("found 8080, expected u16").as_deref(),
            Some("found ****, expected u16 (the value of environment variable IGNITION__APPLICATION__PORT is not shown)")
        );
        assert_eq!(value.hide_in("nothing to hide"), None);
    }
}
