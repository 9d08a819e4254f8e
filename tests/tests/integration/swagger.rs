//! The Swagger UI and the OpenAPI document over HTTP: both served by default; the UI
//! switched off with `application.swagger_ui_enabled` while the document stays. (The
//! document's content: `openapi.rs`.)

use ignition_tests::{scripted_app, TestServer};
use reqwest::Method;

#[tokio::test]
async fn swagger_ui_and_the_spec_are_served() {
    let server = TestServer::start().await;
    let (status, ui) = server
        .send(server.request(Method::GET, "/api/infrastructure/ui"))
        .await;
    assert_eq!(status, 200);
    assert!(ui.as_str().unwrap().contains("swagger"), "Swagger UI page");
    let (status, spec) = server
        .send(server.request(Method::GET, "/api/infrastructure/openapi.json"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(spec["paths"]["/create"]["post"]["operationId"], "create");
    let (status, yaml) = server
        .send(server.request(Method::GET, "/api/infrastructure/openapi.yaml"))
        .await;
    assert_eq!(status, 200);
    assert!(yaml.as_str().unwrap().contains("operationId: find"));
    server.shutdown().await;
}

#[tokio::test]
async fn swagger_ui_can_be_switched_off_while_the_spec_stays() {
    for (enabled, ui_status) in [(true, 200), (false, 404)] {
        let (app, scripts) = scripted_app();
        let app = app.property("application.swagger_ui_enabled", enabled);
        let server = TestServer::start_app(app, scripts).await;
        let (status, _) = server.client.get("/api/infrastructure/ui/").await.unwrap();
        assert_eq!(status, ui_status, "enabled: {enabled}");
        let (status, _) = server
            .client
            .get("/api/infrastructure/openapi.json")
            .await
            .unwrap();
        assert_eq!(status, 200, "the spec stays (enabled: {enabled})");
        server.shutdown().await;
    }
}
