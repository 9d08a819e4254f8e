//! A typed view of a deployment location's properties ([`DeploymentLocation::properties_as`]),
//! and the error that names the property that does not fit ([`PropertiesError`]).

use std::fmt;

use serde::de::DeserializeOwned;

use crate::DeploymentLocation;

impl DeploymentLocation {
    /// The location's `properties` read as a `T` (any `serde::Deserialize` type): the
    /// endpoints and credentials a driver needs, checked once, in one place.
    ///
    /// A missing property, or a value `T` refuses, is a [`PropertiesError`] naming the
    /// location and the property; it converts into `InfrastructureError` and
    /// `ResourceDriverError` (a 400 on the API), so an operation can use `?`. The error
    /// never repeats the value it refused (it may be a password).
    ///
    /// ```
    /// use ignition_openapi::DeploymentLocation;
    ///
    /// #[derive(Debug, serde::Deserialize)]
    /// struct Cloud {
    ///     api_url: String,
    ///     #[serde(default = "yes")]
    ///     verify_tls: bool,
    /// }
    /// fn yes() -> bool { true }
    ///
    /// let mut location = DeploymentLocation::new("region-1");
    /// location.properties.insert("api_url".into(), "https://cloud.example".into());
    /// let cloud: Cloud = location.properties_as().unwrap();
    /// assert_eq!((cloud.api_url.as_str(), cloud.verify_tls), ("https://cloud.example", true));
    ///
    /// location.properties.insert("verify_tls".into(), "sometimes".into());
    /// let err = location.properties_as::<Cloud>().unwrap_err();
    /// assert_eq!(err.property(), Some("verify_tls"));
    /// assert_eq!(
    ///     err.to_string(),
    ///     "deployment location 'region-1': property 'verify_tls' is invalid: \
    ///      a string where a boolean was expected"
    /// );
    /// ```
    ///
    /// In an operation returning `InfrastructureError` (or `ResourceDriverError`):
    /// `let cloud: Cloud = deployment_location.properties_as()?;` answers the 400.
    pub fn properties_as<T: DeserializeOwned>(&self) -> Result<T, PropertiesError> {
        serde_path_to_error::deserialize(&self.properties)
            .map_err(|err| PropertiesError::new(&self.name, &self.properties, err))
    }
}

/// A deployment location whose properties do not fit the type a driver reads them as
/// ([`DeploymentLocation::properties_as`]): which location, which property, and why.
///
/// Its `Display` is the message of the 400 the driver answers, e.g. `deployment location
/// 'region-1': property 'os_api_url' is missing`. It never contains a property's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropertiesError {
    location: String,
    property: Option<String>,
    reason: Reason,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Reason {
    Missing,
    Invalid(String),
}

impl PropertiesError {
    fn new(
        location: &str,
        properties: &serde_json::Map<String, serde_json::Value>,
        err: serde_path_to_error::Error<serde_json::Error>,
    ) -> Self {
        let path = err.path().to_string();
        let at = (path != "." && !path.is_empty()).then_some(path);
        let message = err.into_inner().to_string();
        let (property, reason) = match missing_field(&message) {
            // serde reports a missing field at its parent's path, naming it in the message.
            Some(field) => (
                Some(match &at {
                    Some(parent) => format!("{parent}.{field}"),
                    None => field.to_string(),
                }),
                Reason::Missing,
            ),
            None => {
                let found = at.as_deref().and_then(|p| value_at(properties, p));
                (at, Reason::Invalid(without_value(&message, found)))
            }
        };
        Self {
            location: location.to_string(),
            property,
            reason,
        }
    }

    /// The name of the deployment location.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// The property that is missing or invalid (a dotted path inside a nested value, e.g.
    /// `network.cidr`), when the error is about one property.
    pub fn property(&self) -> Option<&str> {
        self.property.as_deref()
    }

    /// Whether the property is missing (rather than present with a value refused).
    pub fn is_missing(&self) -> bool {
        self.reason == Reason::Missing
    }
}

impl fmt::Display for PropertiesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "deployment location '{}': ", self.location)?;
        match (&self.property, &self.reason) {
            (Some(property), Reason::Missing) => write!(f, "property '{property}' is missing"),
            (Some(property), Reason::Invalid(why)) => {
                write!(f, "property '{property}' is invalid: {why}")
            }
            (None, Reason::Missing) => f.write_str("a property is missing"),
            (None, Reason::Invalid(why)) => write!(f, "invalid properties: {why}"),
        }
    }
}

impl std::error::Error for PropertiesError {}

/// The field of serde's "missing field `name`".
fn missing_field(message: &str) -> Option<&str> {
    message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.strip_suffix('`'))
}

/// The value at a dotted path of serde_path_to_error (`a.b`, `list[2]`), if it is there.
fn value_at<'a>(
    properties: &'a serde_json::Map<String, serde_json::Value>,
    path: &str,
) -> Option<&'a serde_json::Value> {
    let mut segments = path.split('.');
    let mut value = properties.get(segments.next()?)?;
    for segment in segments {
        value = value.get(segment)?;
    }
    Some(value)
}

/// serde's message without the value it quotes: "invalid type: string \"hunter2\",
/// expected a boolean" becomes "a string where a boolean was expected". Other messages
/// (an unknown field, an author's own) are kept as they are.
fn without_value(message: &str, found: Option<&serde_json::Value>) -> String {
    let quotes_a_value =
        message.starts_with("invalid type: ") || message.starts_with("invalid value: ");
    match (quotes_a_value, message.rsplit_once(", expected ")) {
        (true, Some((_, expected))) => {
            let what = match found {
                Some(serde_json::Value::Null) => "null",
                Some(serde_json::Value::Bool(_)) => "a boolean",
                Some(serde_json::Value::Number(_)) => "a number",
                Some(serde_json::Value::String(_)) => "a string",
                Some(serde_json::Value::Array(_)) => "an array",
                Some(serde_json::Value::Object(_)) => "an object",
                None => "a value",
            };
            format!("{what} where {expected} was expected")
        }
        _ => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;

    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Heat {
        os_api_url: String,
        #[serde(default)]
        os_auth_enabled: Option<bool>,
        #[serde(default)]
        network: Option<Network>,
        #[serde(default)]
        os_auth_password: Option<String>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Network {
        cidr: String,
    }

    fn location(properties: serde_json::Value) -> DeploymentLocation {
        let mut location = DeploymentLocation::new("dl-1");
        location.properties = properties.as_object().expect("an object").clone();
        location
    }

    #[test]
    fn reads_the_properties_as_the_type() {
        let heat: Heat = location(json!({"os_api_url": "http://os", "os_auth_enabled": false}))
            .properties_as()
            .unwrap();
        assert_eq!(heat.os_api_url, "http://os");
        assert_eq!(heat.os_auth_enabled, Some(false));
    }

    #[test]
    fn a_missing_property_is_named() {
        let err = location(json!({})).properties_as::<Heat>().unwrap_err();
        assert_eq!(err.location(), "dl-1");
        assert_eq!(err.property(), Some("os_api_url"));
        assert!(err.is_missing());
        assert_eq!(
            err.to_string(),
            "deployment location 'dl-1': property 'os_api_url' is missing"
        );
    }

    #[test]
    fn a_missing_nested_property_is_named_by_its_path() {
        let err = location(json!({"os_api_url": "u", "network": {}}))
            .properties_as::<Heat>()
            .unwrap_err();
        assert_eq!(err.property(), Some("network.cidr"));
        assert!(err.is_missing());
    }

    #[test]
    fn an_ill_typed_property_is_named_without_its_value() {
        let err = location(json!({"os_api_url": "u", "os_auth_password": 987654321}))
            .properties_as::<Heat>()
            .unwrap_err();
        assert_eq!(err.property(), Some("os_auth_password"));
        assert!(!err.is_missing());
        let message = err.to_string();
        assert_eq!(
            message,
            "deployment location 'dl-1': property 'os_auth_password' is invalid: \
             a number where a string was expected"
        );
        assert!(!format!("{err:?}").contains("987654321"));
    }

    #[test]
    fn a_nested_ill_typed_property_is_named_by_its_path() {
        let err = location(json!({"os_api_url": "u", "network": {"cidr": ["10.0.0.0/8"]}}))
            .properties_as::<Heat>()
            .unwrap_err();
        assert_eq!(err.property(), Some("network.cidr"));
        assert_eq!(
            err.to_string(),
            "deployment location 'dl-1': property 'network.cidr' is invalid: \
             an array where a string was expected"
        );
    }

    #[test]
    fn an_unknown_property_keeps_serde_message() {
        let err = location(json!({"os_api_url": "u", "os_auth_pasword": "x"}))
            .properties_as::<Heat>()
            .unwrap_err();
        assert_eq!(err.property(), Some("os_auth_pasword"));
        assert!(
            err.to_string().contains("unknown field `os_auth_pasword`"),
            "{err}"
        );
    }
}
