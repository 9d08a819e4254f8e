//! Heat's v1 REST API: create, read and delete stacks. One client per process (its
//! connections are reused), a Keystone token per set of credentials.

use std::time::Duration;

use ignition::prelude::Outputs;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::config::OpenStackConfig;
use crate::error::{request_failed, HeatError};
use crate::keystone::{Keystone, Token};
use crate::location::{HeatTarget, Secret};
use crate::stack::{Stack, StackAction, StackState};

/// The token sent when `os_auth_enabled` is false (Heat with noauth ignores it).
const PLACEHOLDER_TOKEN: &str = "ignition-noauth";

/// A Heat client for every deployment location.
#[derive(Debug)]
pub struct HeatClient {
    http: reqwest::Client,
    keystone: Keystone,
    disable_rollback: bool,
    stack_timeout_mins: Option<u32>,
}

/// A location's Heat endpoint and the token to call it with.
struct Session {
    endpoint: String,
    token: Secret,
    /// The Keystone token behind `token`, to forget when Heat refuses it.
    keystone_token: Option<Token>,
}

impl HeatClient {
    /// A client with the `openstack:` section's timeouts.
    /// `https://` endpoints are verified against the system's roots and the certificates
    /// of `openstack.ca_file`.
    pub fn new(config: &OpenStackConfig) -> Result<Self, String> {
        // reqwest's rustls takes the process's provider: aws-lc-rs, as the framework's
        // own listener (already installed by it or by another client: that is fine).
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let mut builder = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            .pool_idle_timeout(Duration::from_secs(60))
            // Heat's redirects are followed by hand, on the endpoint's own origin (see
            // `get_stack`); the keystone and heat calls are not redirected otherwise.
            .redirect(reqwest::redirect::Policy::none());
        if let Some(path) = &config.ca_file {
            for certificate in ca_certificates(path)? {
                builder = builder.add_root_certificate(certificate);
            }
        }
        let http = builder
            .build()
            .map_err(|err| format!("cannot build the HTTP client: {err}"))?;
        Ok(Self {
            keystone: Keystone::new(http.clone(), config.token_refresh_margin),
            http,
            disable_rollback: config.disable_rollback,
            stack_timeout_mins: config.stack_timeout_mins,
        })
    }

    async fn session(&self, target: &HeatTarget) -> Result<Session, HeatError> {
        let Some(auth) = &target.auth else {
            return Ok(Session {
                // HeatTarget::of requires os_heat_api when auth is disabled.
                endpoint: target.heat_api.clone().unwrap_or_default(),
                token: Secret::new(PLACEHOLDER_TOKEN),
                keystone_token: None,
            });
        };
        let token = self.keystone.token(&target.location, auth).await?;
        let endpoint = target
            .heat_api
            .clone()
            .or_else(|| token.heat_endpoint.clone())
            .ok_or_else(|| {
                HeatError::BadRequest(format!(
                    "deployment location '{}': Keystone's catalog lists no public \
                     orchestration endpoint; set os_heat_api",
                    target.location
                ))
            })?;
        Ok(Session {
            endpoint,
            token: token.value.clone(),
            keystone_token: Some(token),
        })
    }

    /// Sends the request `build` makes for the location's endpoint, with its token; when
    /// Heat refuses a cached Keystone token (401), once more with a fresh one.
    async fn send(
        &self,
        target: &HeatTarget,
        build: impl Fn(&reqwest::Client, &str) -> reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, HeatError> {
        let mut retried = false;
        loop {
            let session = self.session(target).await?;
            let what = format!("Heat at {}", session.endpoint);
            let response = build(&self.http, &session.endpoint)
                .header("X-Auth-Token", session.token.expose())
                .header("Accept", "application/json")
                .send()
                .await
                .map_err(|err| request_failed(&target.location, &what, &err))?;
            if response.status().as_u16() == 401 && !retried {
                if let (Some(auth), Some(token)) = (&target.auth, &session.keystone_token) {
                    self.keystone.forget(auth, token).await;
                    retried = true;
                    continue;
                }
            }
            return Ok(response);
        }
    }

    /// `POST /stacks`: the new stack's id. A name already taken is a 400 naming it.
    /// `files` is Heat's map of the files the template reads (`get_file`, a nested
    /// template as a resource type) by the name it gives them; empty: none.
    pub(crate) async fn create_stack(
        &self,
        target: &HeatTarget,
        name: &str,
        template: &str,
        parameters: Map<String, Value>,
        files: Map<String, Value>,
    ) -> Result<String, HeatError> {
        let mut body = json!({
            "stack_name": name,
            "template": template,
            "parameters": parameters,
            "disable_rollback": self.disable_rollback,
        });
        if !files.is_empty() {
            body["files"] = Value::Object(files);
        }
        if let Some(minutes) = self.stack_timeout_mins {
            body["timeout_mins"] = Value::from(minutes);
        }
        let response = self
            .send(target, |http, heat| {
                http.post(format!("{heat}/stacks")).json(&body)
            })
            .await?;
        let status = response.status().as_u16();
        if status == 409 {
            return Err(HeatError::BadRequest(format!(
                "deployment location '{}': a stack named '{name}' already exists: {}",
                target.location,
                error_message(response).await
            )));
        }
        let created: Created = read(target, "create the stack", response).await?;
        tracing::debug!(stack = name, id = %created.stack.id, "stack created");
        Ok(created.stack.id)
    }

    /// `GET /stacks/{id or name}` (Heat redirects to `/stacks/{name}/{id}`): the stack,
    /// or `None` when Heat does not know it.
    ///
    /// Heat builds the redirect's `Location` from its own view of the request: behind a
    /// TLS-terminating proxy that does not pass `X-Forwarded-Proto` it says `http://` for
    /// an `https://` endpoint. So only its path is taken, on the endpoint's own scheme,
    /// host and port.
    pub(crate) async fn get_stack(
        &self,
        target: &HeatTarget,
        id_or_name: &str,
    ) -> Result<Option<Stack>, HeatError> {
        let mut response = self
            .send(target, |http, heat| {
                http.get(stack_url(heat, &[id_or_name]))
            })
            .await?;
        if response.status().is_redirection() {
            let path = redirect_path(&response).ok_or_else(|| {
                HeatError::Temporary(format!(
                    "deployment location '{}': Heat redirected the read of stack \
                     '{id_or_name}' without a usable Location",
                    target.location
                ))
            })?;
            response = self
                .send(target, |http, heat| http.get(on_origin_of(heat, &path)))
                .await?;
        }
        if response.status().as_u16() == 404 {
            return Ok(None);
        }
        let found: Found = read(target, "read the stack", response).await?;
        Ok(Some(found.stack))
    }

    /// `DELETE /stacks/{name}/{id}` (Heat redirects a `DELETE /stacks/{id}`, and a
    /// redirect turns a DELETE into a GET, so the stack is read first): `Ok` also when
    /// the stack is already gone.
    pub(crate) async fn delete_stack(
        &self,
        target: &HeatTarget,
        id: &str,
    ) -> Result<(), HeatError> {
        let Some(stack) = self.get_stack(target, id).await? else {
            return Ok(());
        };
        if matches!(
            stack.stack_status.as_str(),
            "DELETE_COMPLETE" | "DELETE_IN_PROGRESS"
        ) {
            return Ok(()); // gone, or going: the delete's poll follows it
        }
        let response = self
            .send(target, |http, heat| {
                http.delete(stack_url(heat, &[&stack.stack_name, &stack.id]))
            })
            .await?;
        if response.status().as_u16() == 404 {
            return Ok(());
        }
        if !response.status().is_success() {
            return Err(refused(target, "delete the stack", response).await);
        }
        tracing::debug!(stack = %stack.stack_name, id, "stack delete started");
        Ok(())
    }
}

impl HeatClient {
    /// Where `action` on the stack `id` stands, as both APIs report it: the stack's
    /// status read through [`Stack::state`]; for a create that rolls back, the failure
    /// Heat's events give. A stack Heat does not know completes a delete; for a create
    /// or an adopt it is [`HeatError::NotFound`].
    pub(crate) async fn progress(
        &self,
        target: &HeatTarget,
        id: &str,
        action: StackAction,
    ) -> Result<StackState, HeatError> {
        let Some(stack) = self.get_stack(target, id).await? else {
            return match action {
                StackAction::Delete => Ok(StackState::Complete(Outputs::new())),
                StackAction::Create | StackAction::Adopt => Err(HeatError::NotFound(format!(
                    "deployment location '{}': no stack with id '{id}'",
                    target.location
                ))),
            };
        };
        Ok(match stack.state(action) {
            StackState::Failed(reason) if stack.is_rolled_back() => {
                StackState::Failed(self.failure_reason(target, &stack).await.unwrap_or(reason))
            }
            state => state,
        })
    }

    /// Why the stack's last action failed, from its newest `*_FAILED` event (a rolled-back
    /// stack's own reason only says that it rolled back); `None` when Heat cannot say.
    async fn failure_reason(&self, target: &HeatTarget, stack: &Stack) -> Option<String> {
        let response = self
            .send(target, |http, heat| {
                http.get(format!(
                    "{}/events",
                    stack_url(heat, &[&stack.stack_name, &stack.id])
                ))
                .query(&[
                    ("resource_status", "FAILED"),
                    ("sort_dir", "desc"),
                    ("limit", "1"),
                ])
            })
            .await
            .ok()?;
        let events: Events = read(target, "list the stack's events", response)
            .await
            .ok()?;
        events.events.into_iter().next()?.resource_status_reason
    }
}

#[derive(Deserialize)]
struct Events {
    events: Vec<Event>,
}

#[derive(Deserialize)]
struct Event {
    #[serde(default)]
    resource_status_reason: Option<String>,
}

/// `{heat}/stacks/{segment}/...`, each segment percent-encoded.
fn stack_url(heat: &str, segments: &[&str]) -> String {
    let mut url = format!("{heat}/stacks");
    for segment in segments {
        url.push('/');
        for byte in segment.bytes() {
            if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
                url.push(byte as char);
            } else {
                url.push_str(&format!("%{byte:02X}"));
            }
        }
    }
    url
}

/// The path and query of a redirect's `Location` (absolute or relative).
fn redirect_path(response: &reqwest::Response) -> Option<String> {
    let location = response
        .headers()
        .get(reqwest::header::LOCATION)?
        .to_str()
        .ok()?;
    let url = response.url().join(location).ok()?;
    Some(match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_string(),
    })
}

/// `path` (with its query) on the scheme, host and port of the endpoint `heat`.
fn on_origin_of(heat: &str, path: &str) -> String {
    match reqwest::Url::parse(heat) {
        Ok(url) => format!("{}{path}", url.origin().ascii_serialization()),
        // The endpoint was checked to be an http(s) URL; a request to it fails clearly.
        Err(_) => format!("{heat}{path}"),
    }
}

/// A success body as `T`; any other status as the error it means.
async fn read<T: serde::de::DeserializeOwned>(
    target: &HeatTarget,
    doing: &str,
    response: reqwest::Response,
) -> Result<T, HeatError> {
    if !response.status().is_success() {
        return Err(refused(target, doing, response).await);
    }
    response.json().await.map_err(|err| {
        HeatError::Internal(format!(
            "deployment location '{}': Heat's answer to {doing} cannot be read: {}",
            target.location,
            crate::error::causes(&err)
        ))
    })
}

/// The error an unsuccessful answer means: Heat's 4xx is a bad request (a bad
/// template, a refused token), 404 the stack is not there, 5xx temporary.
async fn refused(target: &HeatTarget, doing: &str, response: reqwest::Response) -> HeatError {
    let status = response.status();
    let message = error_message(response).await;
    let text = format!(
        "deployment location '{}': Heat could not {doing} ({status}): {message}",
        target.location
    );
    match status.as_u16() {
        404 => HeatError::NotFound(text),
        400..=499 => HeatError::BadRequest(text),
        500..=599 => HeatError::Temporary(text),
        _ => HeatError::Internal(text),
    }
}

/// The message of an OpenStack error body (`{"error": {"message"}}`, `{"title",
/// "explanation"}`), else the start of the body.
pub(crate) async fn error_message(response: reqwest::Response) -> String {
    let text = response.text().await.unwrap_or_default();
    match serde_json::from_str::<Value>(&text) {
        Ok(body) => body["error"]["message"]
            .as_str()
            .or_else(|| body["explanation"].as_str())
            .or_else(|| body["title"].as_str())
            .map(str::to_string)
            .unwrap_or_else(|| body.to_string()),
        Err(_) => text.chars().take(300).collect(),
    }
}

#[derive(Deserialize)]
struct Created {
    stack: CreatedStack,
}

#[derive(Deserialize)]
struct CreatedStack {
    id: String,
}

#[derive(Deserialize)]
struct Found {
    stack: Stack,
}

/// The CA certificates of the PEM file `path` (`openstack.ca_file`).
fn ca_certificates(path: &std::path::Path) -> Result<Vec<reqwest::Certificate>, String> {
    let pem = std::fs::read(path)
        .map_err(|err| format!("openstack.ca_file: cannot read '{}': {err}", path.display()))?;
    let certificates = reqwest::Certificate::from_pem_bundle(&pem)
        .map_err(|err| format!("openstack.ca_file: '{}' is not PEM: {err}", path.display()))?;
    if certificates.is_empty() {
        return Err(format!(
            "openstack.ca_file: '{}' holds no certificate",
            path.display()
        ));
    }
    Ok(certificates)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_percent_encoded() {
        assert_eq!(
            stack_url("http://h/v1/p", &["web.1", "a b/c"]),
            "http://h/v1/p/stacks/web.1/a%20b%2Fc"
        );
    }

    #[test]
    fn a_redirect_is_followed_on_the_endpoint_s_own_origin() {
        assert_eq!(
            on_origin_of("https://heat:8004/v1/p", "/v1/p/stacks/web/1?x=y"),
            "https://heat:8004/v1/p/stacks/web/1?x=y"
        );
        assert_eq!(
            on_origin_of("http://10.0.0.1/heat-api/v1/p", "/heat-api/v1/p/stacks/a/b"),
            "http://10.0.0.1/heat-api/v1/p/stacks/a/b"
        );
    }

    #[test]
    fn the_ca_file_must_hold_pem_certificates() {
        let missing = ca_certificates(std::path::Path::new("/nonexistent/ca.pem")).unwrap_err();
        assert!(
            missing.starts_with("openstack.ca_file: cannot read '/nonexistent/ca.pem'"),
            "{missing}"
        );
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "no certificate here\n").unwrap();
        let err = ca_certificates(&empty).unwrap_err();
        assert!(err.contains("holds no certificate"), "{err}");
    }
}
