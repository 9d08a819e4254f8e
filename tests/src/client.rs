//! The raw JSON client of the tests: any method, any body (malformed JSON, missing
//! fields, wrong content types: what the typed client of [`ignition::testing::TestApp`]
//! cannot send), answers read as JSON. One client for every driver a test talks to:
//! in process ([`TestServer`](crate::TestServer)), a replica process, the example.

use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::{Method, RequestBuilder};
use serde_json::{json, Value};

/// How long [`RawClient::post`] and [`RawClient::get`] wait for an answer (a hang
/// guard, not a bound on anything measured).
const ANSWER_WITHIN: Duration = Duration::from_secs(30);

/// The raw JSON client of one driver (see the module docs). Cheap to clone.
#[derive(Clone)]
pub struct RawClient {
    /// `http://127.0.0.1:PORT`
    pub base: String,
    client: reqwest::Client,
}

/// One answer: its status, headers and body (JSON; `Value::String` with the raw text
/// when it is not JSON).
#[derive(Debug)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The response headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Value,
}

impl Answer {
    /// The value of header `name`, if it is there and text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl RawClient {
    /// A client of the server at `base` (`http://HOST:PORT`, no trailing slash).
    pub fn new(base: impl Into<String>) -> Self {
        let client = reqwest::Client::builder()
            // loopback only: never through a proxy named by HTTP_PROXY and the like
            .no_proxy()
            .build()
            .expect("an HTTP client");
        Self {
            base: base.into(),
            client,
        }
    }

    /// A client of the driver listening on `port` of 127.0.0.1.
    pub fn on_port(port: u16) -> Self {
        Self::new(format!("http://127.0.0.1:{port}"))
    }

    /// A request builder for `path` on this server.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client.request(method, format!("{}{path}", self.base))
    }

    /// Sends `request`; its status, headers and body.
    pub async fn exchange(&self, request: RequestBuilder) -> Result<Answer, reqwest::Error> {
        let response = request.send().await?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await?;
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Ok(Answer {
            status,
            headers,
            body,
        })
    }

    /// Sends `request`; its status and body (`Value::String` if not JSON).
    pub async fn send(&self, request: RequestBuilder) -> Result<(u16, Value), reqwest::Error> {
        let answer = self.exchange(request).await?;
        Ok((answer.status, answer.body))
    }

    /// POSTs JSON to `path` (with a 30 s timeout); status and body (`Value::String` if
    /// not JSON).
    pub async fn post(&self, path: &str, body: &Value) -> Result<(u16, Value), reqwest::Error> {
        self.post_within(path, body, ANSWER_WITHIN).await
    }

    /// POSTs JSON to `path`, giving up after `timeout`.
    pub async fn post_within(
        &self,
        path: &str,
        body: &Value,
        timeout: Duration,
    ) -> Result<(u16, Value), reqwest::Error> {
        let request = self.request(Method::POST, path).json(body).timeout(timeout);
        self.send(request).await
    }

    /// GETs `path` (with a 30 s timeout); status and body.
    pub async fn get(&self, path: &str) -> Result<(u16, Value), reqwest::Error> {
        self.get_within(path, ANSWER_WITHIN).await
    }

    /// GETs `path`, giving up after `timeout`.
    pub async fn get_within(
        &self,
        path: &str,
        timeout: Duration,
    ) -> Result<(u16, Value), reqwest::Error> {
        self.send(self.request(Method::GET, path).timeout(timeout))
            .await
    }

    /// POST /create with this plan (the template); asserts 202; returns (infrastructure
    /// id, request id).
    pub async fn create(&self, plan: &str) -> (String, String) {
        let (status, body) = self
            .post("/api/infrastructure/create", &create_body(plan))
            .await
            .expect("create answered");
        assert_eq!(status, 202, "create {plan}: {body}");
        ids(&body)
    }

    /// POST /create of `plan` with extra request `headers` (e.g. `X-Tracectx-*`);
    /// asserts 202; returns the answer (its headers and body unread).
    pub async fn create_with_headers(
        &self,
        plan: &str,
        headers: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut request = self
            .request(Method::POST, "/api/infrastructure/create")
            .json(&create_body(plan));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.expect("create answered");
        assert_eq!(response.status().as_u16(), 202, "create {plan}");
        response
    }

    /// POST /delete of `infrastructure_id`; asserts 202; returns the ids.
    pub async fn delete(&self, infrastructure_id: &str) -> (String, String) {
        let body = json!({"infrastructureId": infrastructure_id, "deploymentLocation": location()});
        let (status, body) = self
            .post("/api/infrastructure/delete", &body)
            .await
            .expect("delete answered");
        assert_eq!(status, 202, "delete: {body}");
        ids(&body)
    }

    /// POST /find of `instance_name`, giving up after `timeout`.
    pub async fn find(
        &self,
        instance_name: &str,
        timeout: Duration,
    ) -> Result<(u16, Value), reqwest::Error> {
        let body = json!({"template": "t", "templateType": "TOSCA", "instanceName": instance_name,
                          "deploymentLocation": location()});
        self.post_within("/api/infrastructure/find", &body, timeout)
            .await
    }

    /// GET /management/health, giving up after `timeout`.
    pub async fn health(&self, timeout: Duration) -> Result<(u16, Value), reqwest::Error> {
        self.get_within("/management/health", timeout).await
    }
}

/// (infrastructureId, requestId) of a create or delete answer.
pub fn ids(body: &Value) -> (String, String) {
    (
        body["infrastructureId"]
            .as_str()
            .expect("infrastructureId")
            .to_string(),
        body["requestId"].as_str().expect("requestId").to_string(),
    )
}

/// A deployment location named `dl`.
pub fn location() -> Value {
    json!({"name": "dl", "type": "Openstack", "properties": {"os_auth_url": "http://keystone"}})
}

/// A create request whose template is `template`.
pub fn create_body(template: &str) -> Value {
    json!({
        "template": template,
        "templateType": "TOSCA",
        "systemProperties": {"resourceId": "r-1", "resourceName": {"type": "string", "value": "vm"}},
        "properties": {"key": {"type": "key", "privateKey": "SECRET", "publicKey": "PUB"}},
        "deploymentLocation": location(),
    })
}
