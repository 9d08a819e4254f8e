//! [`TestServer`]: a started app with the raw JSON client on it and the embedded
//! default's task events.

use std::sync::Arc;
use std::time::Duration;

use ignition::prelude::*;
use ignition::testing::{TestApp, TestError};
use reqwest::{Method, RequestBuilder};
use serde_json::Value;

use crate::client::{create_body, RawClient};
use crate::scripted::{scripted_app, Scripts};

/// A started app ([`TestApp`]) with a [`RawClient`] for black-box requests (bodies the
/// typed client cannot send: malformed, missing fields, wrong methods).
pub struct TestServer {
    /// The running app (shut it down with [`TestServer::shutdown`]).
    pub app: TestApp,
    /// The raw client on it (its `base` is `http://127.0.0.1:PORT`).
    pub client: RawClient,
    /// What the scripted driver saw.
    pub scripts: Arc<Scripts>,
}

impl TestServer {
    /// Starts [`scripted_app`].
    pub async fn start() -> Self {
        let (app, scripts) = scripted_app();
        Self::start_app(app, scripts).await
    }

    /// Starts `app` (with [`TestApp::with`]), which must run on the embedded default.
    pub async fn start_app(app: App, scripts: Arc<Scripts>) -> Self {
        let app = TestApp::with(app).await.expect("app starts");
        let client = RawClient::new(app.url());
        Self {
            app,
            client,
            scripts,
        }
    }

    /// POSTs JSON to `path`; returns status and body as JSON (`Value::String` if not
    /// JSON). Panics when no answer comes (see [`RawClient::post`]).
    pub async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        self.client.post(path, body).await.expect("an answer")
    }

    /// Sends a request; returns status and body as JSON (`Value::String` if not JSON).
    pub async fn send(&self, request: RequestBuilder) -> (u16, Value) {
        self.client.send(request).await.expect("an answer")
    }

    /// A request builder on this server.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client.request(method, path)
    }

    /// The next task event as its raw JSON, or `None` if none arrives within `within`.
    /// Checks the topic and that the event is keyed by its infrastructure id.
    pub async fn next_event(&mut self, within: Duration) -> Option<Value> {
        match self.app.next_envelope(within).await {
            Ok(envelope) => {
                assert_eq!(envelope.topic, "lm_vim_infrastructure_task_events");
                let event: Value = serde_json::from_str(&envelope.payload).expect("event is JSON");
                assert_eq!(
                    envelope.key.as_deref(),
                    event["infrastructureId"].as_str(),
                    "keyed by infrastructure id"
                );
                Some(event)
            }
            Err(TestError::EventTimeout { .. }) => None,
            Err(err) => panic!("event stream broken: {err}"),
        }
    }

    /// Creates with this poll script; returns the create's response body.
    pub async fn create(&self, script: &str) -> Value {
        let (status, body) = self
            .post("/api/infrastructure/create", &create_body(script))
            .await;
        assert_eq!(status, 202, "{body}");
        body
    }

    /// Shuts the app down.
    pub async fn shutdown(self) {
        self.app.shutdown().await;
    }
}
