//! The deployment location's properties, with the Python driver's names
//! (`openstack-vim-driver` 1.0.0): where Heat is, and how to log in to Keystone.

use std::fmt;

use ignition::prelude::*;
use serde::Deserialize;

use crate::error::HeatError;

/// The properties of an OpenStack deployment location, as LM sends them.
///
/// With `os_auth_enabled` (the default) the driver logs in to Keystone v3 at
/// `{os_api_url}/{os_auth_api}` with a password and finds Heat in the token's catalog,
/// unless `os_heat_api` names it. With `os_auth_enabled: false` no Keystone call is made:
/// `os_heat_api` is required, and a placeholder token is sent.
#[derive(Deserialize)]
pub(crate) struct LocationProperties {
    /// The OpenStack address (Keystone is `{os_api_url}/{os_auth_api}`).
    #[serde(default)]
    os_api_url: Option<String>,
    /// Whether Keystone is used (default true).
    #[serde(default = "enabled")]
    os_auth_enabled: bool,
    /// Keystone's path under `os_api_url`, e.g. `identity/v3`.
    #[serde(default)]
    os_auth_api: Option<String>,
    #[serde(default)]
    os_auth_username: Option<String>,
    #[serde(default)]
    os_auth_user_id: Option<String>,
    #[serde(default)]
    os_auth_password: Option<Secret>,
    #[serde(default)]
    os_auth_user_domain_name: Option<String>,
    #[serde(default)]
    os_auth_user_domain_id: Option<String>,
    #[serde(default)]
    os_auth_project_name: Option<String>,
    #[serde(default)]
    os_auth_project_id: Option<String>,
    #[serde(default)]
    os_auth_project_domain_name: Option<String>,
    #[serde(default)]
    os_auth_project_domain_id: Option<String>,
    /// Heat's endpoint with its project (`http://host:8004/v1/PROJECT`), used as is.
    #[serde(default)]
    os_heat_api: Option<String>,
}

fn enabled() -> bool {
    true
}

/// A credential: `Debug` shows `****` and there is no `Display`, so it cannot reach a log
/// line, an error message or a panic by accident; [`Secret::expose`] is the one way out.
#[derive(Clone, PartialEq, Eq, Hash, Deserialize)]
#[serde(transparent)]
pub(crate) struct Secret(String);

impl Secret {
    /// A secret holding `value`.
    pub(crate) fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value, for the one request that carries it.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("****")
    }
}

/// A name or an id (Keystone accepts either for users, projects and domains).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Named {
    /// `{"name": ...}`
    Name(String),
    /// `{"id": ...}`
    Id(String),
}

/// Keystone v3 password auth for one user and project: also the key of the token cache
/// (the password included, so a wrong password never gets a token a right one fetched).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct PasswordAuth {
    /// `{os_api_url}/{os_auth_api}`, e.g. `http://10.0.0.1/identity/v3`.
    pub(crate) auth_url: String,
    pub(crate) user: Named,
    /// The user's domain (needed with a user name).
    pub(crate) user_domain: Option<Named>,
    pub(crate) password: Secret,
    /// The project scope, if any.
    pub(crate) project: Option<Named>,
    /// The project's domain (needed with a project name).
    pub(crate) project_domain: Option<Named>,
}

/// Where a location's Heat is and how to call it.
#[derive(Debug, Clone)]
pub(crate) struct HeatTarget {
    /// The location's name, for messages.
    pub(crate) location: String,
    /// `os_heat_api`, else Heat's endpoint from Keystone's catalog.
    pub(crate) heat_api: Option<String>,
    /// `None`: auth disabled, a placeholder token.
    pub(crate) auth: Option<PasswordAuth>,
}

impl HeatTarget {
    /// Reads the location's properties: a missing or ill-typed property is a 400 naming
    /// it (and the location), never showing its value.
    pub(crate) fn of(location: &DeploymentLocation) -> Result<Self, HeatError> {
        let props: LocationProperties = location.properties_as()?;
        let missing = |property: &str, when: &str| {
            HeatError::BadRequest(format!(
                "deployment location '{}': property '{property}' is missing{when}",
                location.name
            ))
        };
        let heat_api = props
            .os_heat_api
            .map(|url| http_url(location, "os_heat_api", url))
            .transpose()?;
        if !props.os_auth_enabled {
            let heat_api = heat_api
                .ok_or_else(|| missing("os_heat_api", " (needed when os_auth_enabled is false)"))?;
            return Ok(Self {
                location: location.name.clone(),
                heat_api: Some(heat_api),
                auth: None,
            });
        }
        let api_url = props.os_api_url.ok_or_else(|| missing("os_api_url", ""))?;
        let api_url = http_url(location, "os_api_url", api_url)?;
        let auth_api = props
            .os_auth_api
            .ok_or_else(|| missing("os_auth_api", " (needed when os_auth_enabled is true)"))?;
        let user = named(props.os_auth_username, props.os_auth_user_id)
            .ok_or_else(|| missing("os_auth_username", " (or os_auth_user_id)"))?;
        let password = props
            .os_auth_password
            .ok_or_else(|| missing("os_auth_password", ""))?;
        let auth_url = format!("{api_url}/{}", auth_api.trim_matches('/'));
        Ok(Self {
            location: location.name.clone(),
            heat_api,
            auth: Some(PasswordAuth {
                auth_url,
                user,
                user_domain: named(props.os_auth_user_domain_name, props.os_auth_user_domain_id),
                password,
                project: named(props.os_auth_project_name, props.os_auth_project_id),
                project_domain: named(
                    props.os_auth_project_domain_name,
                    props.os_auth_project_domain_id,
                ),
            }),
        })
    }
}

/// `url` without its trailing `/`, if it is an `http://` or `https://` URL (anything
/// else is a 400 at once rather than a poll retried forever).
fn http_url(
    location: &DeploymentLocation,
    property: &str,
    url: String,
) -> Result<String, HeatError> {
    if url.starts_with("http://") || url.starts_with("https://") {
        Ok(url.trim_end_matches('/').to_string())
    } else {
        Err(HeatError::BadRequest(format!(
            "deployment location '{}': property '{property}' must be an http:// or \
             https:// URL",
            location.name
        )))
    }
}

/// An id wins over a name, as in keystoneauth.
fn named(name: Option<String>, id: Option<String>) -> Option<Named> {
    id.map(Named::Id).or(name.map(Named::Name))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn location(properties: serde_json::Value) -> DeploymentLocation {
        let mut location = DeploymentLocation::new("dl");
        location.properties = properties.as_object().unwrap().clone();
        location
    }

    #[test]
    fn auth_disabled_needs_only_the_heat_endpoint() {
        let target = HeatTarget::of(&location(
            json!({"os_auth_enabled": false, "os_heat_api": "http://h:8004/v1/admin/"}),
        ))
        .unwrap();
        assert_eq!(target.heat_api.as_deref(), Some("http://h:8004/v1/admin"));
        assert!(target.auth.is_none());
    }

    #[test]
    fn auth_enabled_reads_the_python_driver_names() {
        let target = HeatTarget::of(&location(json!({
            "os_api_url": "http://10.0.0.1/", "os_auth_api": "/identity/v3",
            "os_auth_username": "u", "os_auth_password": "hunter2",
            "os_auth_user_domain_name": "Default", "os_auth_project_name": "p",
            "os_auth_project_domain_id": "default", "os_auth_project_id": "pid",
        })))
        .unwrap();
        let auth = target.auth.unwrap();
        assert_eq!(auth.auth_url, "http://10.0.0.1/identity/v3");
        assert_eq!(auth.user, Named::Name("u".into()));
        assert_eq!(auth.user_domain, Some(Named::Name("Default".into())));
        assert_eq!(auth.project, Some(Named::Id("pid".into())), "an id wins");
        assert_eq!(auth.project_domain, Some(Named::Id("default".into())));
        assert_eq!(auth.password.expose(), "hunter2");
        assert!(!format!("{auth:?}").contains("hunter2"), "Debug hides it");
    }

    #[test]
    fn a_missing_or_ill_typed_property_is_a_400_naming_it_without_its_value() {
        let err = HeatTarget::of(&location(json!({"os_auth_enabled": "no"})))
            .err()
            .unwrap();
        assert_eq!(
            err.to_string(),
            "deployment location 'dl': property 'os_auth_enabled' is invalid: \
             a string where a boolean was expected"
        );
        let err = HeatTarget::of(&location(
            json!({"os_api_url": "http://u", "os_auth_api": "a",
            "os_auth_username": "u"}),
        ))
        .err()
        .unwrap();
        assert_eq!(
            err,
            HeatError::BadRequest(
                "deployment location 'dl': property 'os_auth_password' is missing".into()
            )
        );
        let target = HeatTarget::of(&location(
            json!({"os_auth_enabled": false, "os_heat_api": "https://h/v1/p/"}),
        ))
        .unwrap();
        assert_eq!(target.heat_api.as_deref(), Some("https://h/v1/p"));
        let err = HeatTarget::of(&location(
            json!({"os_auth_enabled": false, "os_heat_api": "ftp://h/v1/p"}),
        ))
        .err()
        .unwrap();
        assert!(
            err.to_string()
                .contains("'os_heat_api' must be an http:// or https:// URL"),
            "{err}"
        );
        let err = HeatTarget::of(&location(json!({"os_auth_enabled": false})))
            .err()
            .unwrap();
        assert!(
            err.to_string().contains("'os_heat_api' is missing"),
            "{err}"
        );
        let err = HeatTarget::of(&location(
            json!({"os_api_url": "http://u", "os_auth_api": "a",
            "os_auth_username": "u", "os_auth_password": 123456789}),
        ))
        .err()
        .unwrap();
        assert!(err.to_string().contains("'os_auth_password' is invalid"));
        assert!(!err.to_string().contains("123456789"), "{err}");
    }
}
