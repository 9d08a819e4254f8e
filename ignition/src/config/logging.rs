//! `logging.*`: the format and level of the log lines, named as in the Python framework,
//! each defaulting to an environment variable (`LOG_TYPE`, `LOG_LEVEL`).

use serde::{Deserialize, Deserializer, Serialize};

use super::env::PREFIX;

/// `logging.*`: what [`App::run`](crate::App::run) writes on stderr (`App::start` installs
/// no log subscriber, so these do not apply there).
///
/// Each key's default is an environment variable, as in the Python framework: `LOG_TYPE`
/// (else `flat`) and `LOG_LEVEL` (else `INFO`); a value in a configuration file wins over
/// the variable. `RUST_LOG`, when set, wins over `level` (it takes tracing's directives,
/// e.g. `info,ignition=debug`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LoggingProperties {
    /// `flat` (readable lines) or `logstash` (one JSON object per line, the Python
    /// framework's `LogstashFormatter` fields). Default: env `LOG_TYPE`, else `flat`.
    pub r#type: LogType,
    /// The least severe level written, by its Python name (`DEBUG`, `INFO`, `WARNING`,
    /// `ERROR`, `CRITICAL`; `WARN`, `FATAL` and `TRACE` too; any case). Default: env
    /// `LOG_LEVEL`, else `INFO`.
    pub level: LogLevel,
}

/// `logging.type`: the format of the log lines.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub enum LogType {
    /// Readable lines: time, level, target, message, fields.
    #[default]
    #[serde(rename = "flat")]
    Flat,
    /// One JSON object per line: `@timestamp`, `@version`, `message`, `host`, `path`,
    /// `tags`, `type`, `thread_name`, `level`, `logger_name`, then the trace context
    /// (`traceCtx.*`), then the event's fields and those of the spans it is in.
    #[serde(rename = "logstash")]
    Logstash,
}

/// `logging.level`: the least severe level written. Python's names; tracing has no level
/// above ERROR, so `CRITICAL` writes what `ERROR` does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[non_exhaustive]
pub enum LogLevel {
    /// Everything (tracing's TRACE; logged as `DEBUG` in logstash lines).
    #[serde(rename = "TRACE")]
    Trace,
    /// `DEBUG` and above.
    #[serde(rename = "DEBUG")]
    Debug,
    /// `INFO` and above.
    #[default]
    #[serde(rename = "INFO")]
    Info,
    /// `WARNING` and above (`WARN` is read as this).
    #[serde(rename = "WARNING")]
    Warning,
    /// `ERROR` only.
    #[serde(rename = "ERROR")]
    Error,
    /// Python's `CRITICAL` (`FATAL` is read as this): ERROR lines, as tracing has nothing
    /// above.
    #[serde(rename = "CRITICAL")]
    Critical,
}

impl std::str::FromStr for LogType {
    type Err = String;

    /// `flat` or `logstash`, in any case.
    fn from_str(text: &str) -> Result<Self, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "flat" => Ok(LogType::Flat),
            "logstash" => Ok(LogType::Logstash),
            _ => Err(format!(
                "unknown log type `{text}`; expected `flat` or `logstash`"
            )),
        }
    }
}

impl std::str::FromStr for LogLevel {
    type Err = String;

    /// A Python level name (`DEBUG`, `INFO`, `WARNING`/`WARN`, `ERROR`,
    /// `CRITICAL`/`FATAL`) or `TRACE`, in any case.
    fn from_str(text: &str) -> Result<Self, String> {
        match text.trim().to_ascii_uppercase().as_str() {
            "TRACE" => Ok(LogLevel::Trace),
            "DEBUG" => Ok(LogLevel::Debug),
            "INFO" => Ok(LogLevel::Info),
            "WARNING" | "WARN" => Ok(LogLevel::Warning),
            "ERROR" => Ok(LogLevel::Error),
            "CRITICAL" | "FATAL" => Ok(LogLevel::Critical),
            _ => Err(format!(
                "unknown log level `{text}`; expected one of DEBUG, INFO, WARNING, ERROR, CRITICAL (or TRACE)"
            )),
        }
    }
}

impl<'de> Deserialize<'de> for LogType {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        String::deserialize(de)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

impl<'de> Deserialize<'de> for LogLevel {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        String::deserialize(de)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

impl LoggingProperties {
    /// The environment variable each key defaults to, with the key.
    pub(crate) const ENV_DEFAULTS: [(&'static str, &'static str); 2] =
        [("LOG_TYPE", "type"), ("LOG_LEVEL", "level")];

    /// From the environment alone (`IGNITION__LOGGING__TYPE` over `LOG_TYPE`,
    /// `IGNITION__LOGGING__LEVEL` over `LOG_LEVEL`, as the layers rank them), a value
    /// that does not parse read as the built-in default: for the lines written when the
    /// configuration itself is refused.
    pub(crate) fn from_env_or_default() -> Self {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    fn from_vars(var: impl Fn(&str) -> Option<String>) -> Self {
        fn first<T: std::str::FromStr + Default>(
            var: &impl Fn(&str) -> Option<String>,
            names: [&str; 2],
        ) -> T {
            names
                .into_iter()
                .find_map(|name| var(name).and_then(|value| value.parse().ok()))
                .unwrap_or_default()
        }
        let [(type_var, _), (level_var, _)] = Self::ENV_DEFAULTS;
        Self {
            r#type: first(&var, [&format!("{PREFIX}LOGGING__TYPE"), type_var]),
            level: first(&var, [&format!("{PREFIX}LOGGING__LEVEL"), level_var]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_level_names_and_their_aliases_are_read_in_any_case() {
        for (text, level) in [
            ("debug", LogLevel::Debug),
            (" Info ", LogLevel::Info),
            ("WARN", LogLevel::Warning),
            ("warning", LogLevel::Warning),
            ("fatal", LogLevel::Critical),
            ("CRITICAL", LogLevel::Critical),
            ("trace", LogLevel::Trace),
        ] {
            assert_eq!(text.parse::<LogLevel>(), Ok(level), "{text}");
        }
        let err = "loud".parse::<LogLevel>().unwrap_err();
        assert!(err.contains("`loud`") && err.contains("CRITICAL"), "{err}");
        assert_eq!("LogStash".parse::<LogType>(), Ok(LogType::Logstash));
        assert!("json".parse::<LogType>().is_err());
    }

    #[test]
    fn levels_are_ordered_least_severe_first() {
        assert!(LogLevel::Trace < LogLevel::Debug && LogLevel::Debug < LogLevel::Info);
        assert!(LogLevel::Warning < LogLevel::Error && LogLevel::Error < LogLevel::Critical);
    }

    #[test]
    fn a_refused_configuration_still_logs_in_the_variables_format() {
        let vars = |name: &str| match name {
            "LOG_TYPE" => Some("logstash".to_string()),
            "LOG_LEVEL" => Some("nonsense".to_string()),
            _ => None,
        };
        let logging = LoggingProperties::from_vars(vars);
        assert_eq!(logging.r#type, LogType::Logstash);
        assert_eq!(logging.level, LogLevel::Info, "unparsable: the default");
        let vars = |name: &str| match name {
            "LOG_TYPE" => Some("logstash".to_string()),
            "IGNITION__LOGGING__TYPE" => Some("flat".to_string()),
            "IGNITION__LOGGING__LEVEL" => Some("error".to_string()),
            _ => None,
        };
        let logging = LoggingProperties::from_vars(vars);
        assert_eq!(logging.r#type, LogType::Flat, "IGNITION__ over LOG_TYPE");
        assert_eq!(logging.level, LogLevel::Error);
    }
}
