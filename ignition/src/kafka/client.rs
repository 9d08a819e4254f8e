//! Settings of every Kafka client: the bootstrap address, Ignition's defaults, and
//! whatever `messaging.config` passes through.

use std::collections::BTreeMap;

use rdkafka::config::ClientConfig;

use super::KafkaError;
use crate::config::IgnitionConfig;

/// Settings shared by the producer, the consumer and the admin client. `Debug` shows
/// secrets as `****`.
#[derive(Clone)]
pub struct KafkaConfig {
    /// `bootstrap.servers`.
    pub bootstrap: String,
    /// `messaging.config`, passed to librdkafka as is.
    pub settings: BTreeMap<String, String>,
}

impl std::fmt::Debug for KafkaConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaConfig")
            .field("bootstrap", &self.bootstrap)
            .field("settings", &redacted(&self.settings))
            .finish()
    }
}

impl KafkaConfig {
    /// The settings of `config`; fails without `messaging.connection_address`.
    pub fn from_config(config: &IgnitionConfig) -> Result<Self, KafkaError> {
        let bootstrap = config
            .messaging
            .connection_address
            .clone()
            .ok_or(KafkaError::NoConnectionAddress)?;
        Ok(Self {
            bootstrap,
            settings: config.messaging.config.clone(),
        })
    }

    /// A client config: `defaults` first, then the user's settings (which win).
    pub(crate) fn client(&self, defaults: &[(&str, &str)]) -> ClientConfig {
        let mut client = ClientConfig::new();
        client.set("bootstrap.servers", &self.bootstrap);
        for (key, value) in defaults {
            client.set(*key, *value);
        }
        for (key, value) in &self.settings {
            client.set(key, value);
        }
        client
    }

    /// The error for a client librdkafka refused to create (e.g. a bad setting).
    pub(crate) fn refused(
        &self,
        what: &'static str,
        source: rdkafka::error::KafkaError,
    ) -> KafkaError {
        KafkaError::ClientRefused {
            what,
            bootstrap: self.bootstrap.clone(),
            settings: redacted(&self.settings),
            source: Box::new(source),
        }
    }
}

/// Whether a librdkafka setting holds a secret (its value is never logged).
fn is_secret(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    [
        "password",
        "secret",
        "jaas",
        "token",
        "ssl.key",
        "keystore",
        "credentials",
    ]
    .iter()
    .any(|s| key.contains(s))
}

/// The settings as `{key: value, ...}` with every secret value shown as `****`.
pub fn redacted(settings: &BTreeMap<String, String>) -> String {
    let shown: Vec<String> = settings
        .iter()
        .map(|(key, value)| {
            let value = if is_secret(key) {
                "****"
            } else {
                value.as_str()
            };
            format!("{key}: {value}")
        })
        .collect();
    format!("{{{}}}", shown.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_never_shown() {
        let settings: BTreeMap<String, String> = [
            ("security.protocol", "SASL_SSL"),
            ("sasl.mechanisms", "PLAIN"),
            ("sasl.username", "lm"),
            ("sasl.password", "hunter2"),
            ("ssl.key.password", "k3y"),
            ("sasl.oauthbearer.client.secret", "s3cret"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let shown = redacted(&settings);
        for secret in ["hunter2", "k3y", "s3cret"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(
            shown.contains("sasl.username: lm") && shown.contains("sasl.password: ****"),
            "{shown}"
        );
    }

    /// A producer with `settings` against an address nothing listens on: librdkafka
    /// checks the settings when the client is created, without a broker.
    fn producer_with(settings: &[(&str, &str)]) -> Result<super::super::KafkaDelivery, KafkaError> {
        let kafka = KafkaConfig {
            bootstrap: "127.0.0.1:1".into(),
            settings: settings
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        };
        super::super::KafkaDelivery::new(&kafka)
    }

    #[test]
    fn tls_and_every_sasl_mechanism_but_gssapi_are_built_in() {
        producer_with(&[("security.protocol", "SSL")]).expect("SSL");
        for protocol in ["SASL_SSL", "SASL_PLAINTEXT"] {
            for mechanism in ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] {
                producer_with(&[
                    ("security.protocol", protocol),
                    ("sasl.mechanisms", mechanism),
                    ("sasl.username", "lm"),
                    ("sasl.password", "hunter2"),
                ])
                .unwrap_or_else(|err| panic!("{protocol} with {mechanism}: {err}"));
            }
        }
    }

    #[cfg(feature = "gssapi")]
    #[test]
    fn gssapi_is_built_in_with_its_cargo_feature() {
        producer_with(&[
            ("security.protocol", "SASL_SSL"),
            ("sasl.mechanisms", "GSSAPI"),
            // no Kerberos here: no kinit to run for a ticket
            ("sasl.kerberos.min.time.before.relogin", "0"),
        ])
        .expect("GSSAPI with the `gssapi` feature");
    }

    #[cfg(not(feature = "gssapi"))]
    #[test]
    fn gssapi_needs_its_cargo_feature() {
        let err = producer_with(&[
            ("security.protocol", "SASL_SSL"),
            ("sasl.mechanisms", "GSSAPI"),
        ])
        .expect_err("GSSAPI refused without the `gssapi` feature");
        assert!(
            err.to_string().contains("`messaging.config`"),
            "names the settings: {err}"
        );
    }

    #[test]
    fn user_settings_win_over_defaults() {
        let kafka = KafkaConfig {
            bootstrap: "b:9092".into(),
            settings: [("acks".to_string(), "1".to_string())]
                .into_iter()
                .collect(),
        };
        let client = kafka.client(&[("acks", "all"), ("linger.ms", "5")]);
        assert_eq!(client.get("acks"), Some("1"));
        assert_eq!(client.get("linger.ms"), Some("5"));
        assert_eq!(client.get("bootstrap.servers"), Some("b:9092"));
    }
}
