//! Keystone v3 password auth, with one token per user and project cached until shortly
//! before it expires; concurrent requests for the same credentials share one fetch.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::{request_failed, HeatError};
use crate::location::{Named, PasswordAuth, Secret};

/// A token and what came with it.
#[derive(Debug, Clone)]
pub(crate) struct Token {
    /// The `X-Subject-Token`.
    pub(crate) value: Secret,
    /// Heat's public endpoint from the catalog (type `orchestration`), if listed.
    pub(crate) heat_endpoint: Option<String>,
    /// When to fetch a new one (the expiry less the refresh margin).
    refresh_at: Instant,
}

/// One slot per set of credentials: the async lock makes concurrent callers wait for the
/// one fetch in flight instead of each fetching its own token.
type Slot = Arc<tokio::sync::Mutex<Option<Token>>>;

/// Tokens per set of credentials (the map grows with the distinct credentials LM sends:
/// a handful of deployment locations).
#[derive(Debug)]
pub(crate) struct Keystone {
    http: reqwest::Client,
    slots: Mutex<HashMap<PasswordAuth, Slot>>,
    refresh_margin: Duration,
}

impl Keystone {
    /// Tokens fetched with `http`, refreshed `refresh_margin` before they expire.
    pub(crate) fn new(http: reqwest::Client, refresh_margin: Duration) -> Self {
        Self {
            http,
            slots: Mutex::new(HashMap::new()),
            refresh_margin,
        }
    }

    fn slot(&self, auth: &PasswordAuth) -> Slot {
        // A poisoned map only means another thread panicked mid-insert; the map is fine.
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        slots.entry(auth.clone()).or_default().clone()
    }

    /// A valid token for `auth`: the cached one, else a new one.
    pub(crate) async fn token(
        &self,
        location: &str,
        auth: &PasswordAuth,
    ) -> Result<Token, HeatError> {
        let slot = self.slot(auth);
        let mut cached = slot.lock().await;
        if let Some(token) = cached.as_ref() {
            if Instant::now() < token.refresh_at {
                return Ok(token.clone());
            }
        }
        let token = self.fetch(location, auth).await?;
        *cached = Some(token.clone());
        Ok(token)
    }

    /// Drops the cached token for `auth` if it is still `stale` (Heat refused it).
    pub(crate) async fn forget(&self, auth: &PasswordAuth, stale: &Token) {
        let slot = self.slot(auth);
        let mut cached = slot.lock().await;
        if cached.as_ref().is_some_and(|t| t.value == stale.value) {
            *cached = None;
        }
    }

    async fn fetch(&self, location: &str, auth: &PasswordAuth) -> Result<Token, HeatError> {
        let url = format!("{}/auth/tokens", auth.auth_url);
        let what = format!("Keystone at {}", auth.auth_url);
        tracing::debug!(location, keystone = %auth.auth_url, "fetching a token");
        let response = self
            .http
            .post(&url)
            .json(&request_body(auth))
            .send()
            .await
            .map_err(|err| request_failed(location, &what, &err))?;
        let status = response.status();
        if status.as_u16() == 401 || status.as_u16() == 403 {
            return Err(HeatError::BadRequest(format!(
                "deployment location '{location}': {what} refused the credentials of user {} ({status})",
                describe(&auth.user)
            )));
        }
        if status.is_server_error() {
            return Err(HeatError::Temporary(format!(
                "deployment location '{location}': {what} answered {status}"
            )));
        }
        if !status.is_success() {
            // Keystone's validation messages may quote what was sent: never the password.
            let mut message = crate::heat::error_message(response).await;
            if !auth.password.expose().is_empty() {
                message = message.replace(auth.password.expose(), "****");
            }
            return Err(HeatError::BadRequest(format!(
                "deployment location '{location}': {what} answered {status}: {message}"
            )));
        }
        let value = response
            .headers()
            .get("x-subject-token")
            .and_then(|v| v.to_str().ok())
            .map(Secret::new)
            .ok_or_else(|| {
                HeatError::Internal(format!(
                    "deployment location '{location}': {what} answered without X-Subject-Token"
                ))
            })?;
        let body: TokenBody = response.json().await.map_err(|err| {
            HeatError::Internal(format!(
                "deployment location '{location}': {what} answered a token that cannot be read: {}",
                crate::error::causes(&err)
            ))
        })?;
        let lifetime = humantime::parse_rfc3339_weak(&body.token.expires_at)
            .ok()
            .and_then(|expires| expires.duration_since(SystemTime::now()).ok())
            .unwrap_or_default();
        Ok(Token {
            value,
            heat_endpoint: body.token.heat_endpoint(),
            refresh_at: Instant::now() + lifetime.saturating_sub(self.refresh_margin),
        })
    }
}

/// `name 'x'` or `id 'x'`.
fn describe(named: &Named) -> String {
    match named {
        Named::Name(name) => format!("'{name}'"),
        Named::Id(id) => format!("with id '{id}'"),
    }
}

/// `{"name": ..., "domain": {...}}` or `{"id": ...}`.
fn identity(named: &Named, domain: Option<&Named>) -> Value {
    let mut value = match named {
        Named::Name(name) => json!({ "name": name }),
        Named::Id(id) => json!({ "id": id }),
    };
    if let (Named::Name(_), Some(domain)) = (named, domain) {
        value["domain"] = identity(domain, None);
    }
    value
}

/// The body of `POST /auth/tokens` (password method, project scope when given).
fn request_body(auth: &PasswordAuth) -> Value {
    let mut user = identity(&auth.user, auth.user_domain.as_ref());
    user["password"] = Value::from(auth.password.expose());
    let mut body = json!({
        "auth": {"identity": {"methods": ["password"], "password": {"user": user}}}
    });
    if let Some(project) = &auth.project {
        body["auth"]["scope"] = json!({
            "project": identity(project, auth.project_domain.as_ref())
        });
    }
    body
}

#[derive(Deserialize)]
struct TokenBody {
    token: TokenDetails,
}

#[derive(Deserialize)]
struct TokenDetails {
    expires_at: String,
    #[serde(default)]
    catalog: Vec<CatalogEntry>,
}

#[derive(Deserialize)]
struct CatalogEntry {
    #[serde(rename = "type")]
    service_type: String,
    #[serde(default)]
    endpoints: Vec<Endpoint>,
}

#[derive(Deserialize)]
struct Endpoint {
    interface: String,
    url: String,
}

impl TokenDetails {
    fn heat_endpoint(&self) -> Option<String> {
        self.catalog
            .iter()
            .filter(|entry| entry.service_type == "orchestration")
            .flat_map(|entry| &entry.endpoints)
            .find(|endpoint| endpoint.interface == "public")
            .map(|endpoint| endpoint.url.trim_end_matches('/').to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth(user: Named, project: Option<Named>) -> PasswordAuth {
        PasswordAuth {
            auth_url: "http://ks/identity/v3".into(),
            user,
            user_domain: Some(Named::Name("Default".into())),
            password: Secret::new("pw"),
            project,
            project_domain: Some(Named::Id("default".into())),
        }
    }

    #[test]
    fn the_request_body_is_keystone_v3_password_auth() {
        let body = request_body(&auth(
            Named::Name("u".into()),
            Some(Named::Name("p".into())),
        ));
        assert_eq!(
            body,
            json!({"auth": {
                "identity": {"methods": ["password"], "password": {"user":
                    {"name": "u", "domain": {"name": "Default"}, "password": "pw"}}},
                "scope": {"project": {"name": "p", "domain": {"id": "default"}}},
            }})
        );
        let body = request_body(&auth(Named::Id("uid".into()), None));
        assert_eq!(
            body,
            json!({"auth": {"identity": {"methods": ["password"], "password": {"user":
                {"id": "uid", "password": "pw"}}}}})
        );
    }

    #[test]
    fn heat_is_the_public_orchestration_endpoint() {
        let details: TokenDetails = serde_json::from_value(json!({
            "expires_at": "2026-12-07T02:00:00.000000Z",
            "catalog": [
                {"type": "identity", "endpoints": [{"interface": "public", "url": "http://ks"}]},
                {"type": "orchestration", "endpoints": [
                    {"interface": "internal", "url": "http://internal:8004/v1/p"},
                    {"interface": "public", "url": "http://heat:8004/v1/p/"}]},
            ],
        }))
        .unwrap();
        assert_eq!(
            details.heat_endpoint().as_deref(),
            Some("http://heat:8004/v1/p")
        );
    }
}
