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
    pub fn new(config: &OpenStackConfig) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            .pool_idle_timeout(Duration::from_secs(60))
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
    pub(crate) async fn get_stack(
        &self,
        target: &HeatTarget,
        id_or_name: &str,
    ) -> Result<Option<Stack>, HeatError> {
        let response = self
            .send(target, |http, heat| {
                http.get(stack_url(heat, &[id_or_name]))
            })
            .await?;
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
}
