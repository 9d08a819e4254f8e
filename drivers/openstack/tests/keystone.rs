//! Keystone v3 password auth for real: the Keystone `scripts/heat start` runs beside Heat
//! (user `admin`, project `admin`, Heat in its catalog). One test, in phases, because it
//! counts Keystone's token requests in its access log.

mod common;

use std::time::{Duration, Instant};

use common::*;
use futures_util::future::join_all;
use ignition::prelude::*;
use ignition::testing::TestApp;
use openstack_driver::OpenStackConfig;
use serde_json::json;

/// Token requests Keystone logged since `before`, once the count reaches `expected` (or
/// two seconds passed) and stays put for a moment: Keystone logs a request just after
/// answering it.
async fn token_requests_since(before: usize, expected: usize) -> usize {
    let deadline = Instant::now() + Duration::from_secs(2);
    while token_requests() - before < expected && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    token_requests() - before
}

/// How many tokens Keystone has issued or refused so far (its access log's lines).
fn token_requests() -> usize {
    let log = std::fs::read_to_string(env("KEYSTONE_ACCESS_LOG")).expect("Keystone's access log");
    log.lines()
        .filter(|line| line.contains("\"POST /v3/auth/tokens "))
        .count()
}

async fn find(
    app: &TestApp,
    location: DeploymentLocation,
    name: &str,
) -> Result<FindInfrastructureResponse, ignition::testing::TestError> {
    app.find(FindInfrastructureRequest {
        template: String::new(),
        template_type: "HEAT".into(),
        instance_name: name.into(),
        deployment_location: location,
    })
    .await
}

#[tokio::test]
#[ignore = "needs OpenStack Heat"]
async fn password_auth_against_a_real_keystone() {
    let password = env("OS_KEYSTONE_PASSWORD");
    let app = start().await;

    // Five calls at once with the same credentials share one token fetch; the token's
    // catalog gives Heat's endpoint (the location has no os_heat_api).
    let started = Instant::now();
    let before = token_requests();
    let finds = (0..5).map(|_| find(&app, keystone_location(&password), "nothing.here"));
    for found in join_all(finds).await {
        assert_eq!(found.expect("find answered").result, None);
    }
    assert_eq!(
        token_requests_since(before, 1).await,
        1,
        "one token for five concurrent calls"
    );
    report("keystone: 5 concurrent calls, 1 token", started);

    // A whole create → COMPLETE → find → delete → COMPLETE on the cached token.
    let started = Instant::now();
    let id = fresh_id();
    let mut request = create_request(&slow_template(0), "authed", &id, json!({"greeting": "hi"}));
    request.deployment_location = keystone_location(&password);
    let created = app.create(request).await.expect("create accepted");
    let event = app
        .wait_for_event(&created.request_id, TASK_WAIT)
        .await
        .expect("the create's event");
    assert_eq!(event.status, TaskStatus::Complete, "{event:?}");
    let found = find(&app, keystone_location(&password), &format!("authed.{id}"))
        .await
        .expect("find answered");
    assert_eq!(
        found.result.expect("found").infrastructure_id,
        created.infrastructure_id
    );
    let deleting = app
        .delete(DeleteInfrastructureRequest {
            infrastructure_id: created.infrastructure_id.clone(),
            deployment_location: keystone_location(&password),
        })
        .await
        .expect("delete accepted");
    let event = app
        .wait_for_event(&deleting.request_id, TASK_WAIT)
        .await
        .expect("the delete's event");
    assert_eq!(event.status, TaskStatus::Complete, "{event:?}");
    assert_eq!(
        token_requests_since(before, 1).await,
        1,
        "every call reused the token"
    );
    report(
        "keystone: create → COMPLETE → find → delete on one token",
        started,
    );

    // A wrong password: a 400 that names the location, never the password; not cached.
    let started = Instant::now();
    let wrong = "not-the-Passw0rd-at-all";
    for _ in 0..2 {
        let err = find(&app, keystone_location(wrong), "x")
            .await
            .expect_err("refused");
        let body = err.error_body().expect("the error JSON");
        assert_eq!(body.status, 400, "{body:?}");
        assert!(
            body.localized_message
                .contains("deployment location 'keystone-local'")
                && body
                    .localized_message
                    .contains("refused the credentials of user 'admin'"),
            "{body:?}"
        );
        assert!(!body.localized_message.contains(wrong), "{body:?}");
        assert!(!body.localized_message.contains(&password), "{body:?}");
    }
    assert_eq!(
        token_requests_since(before, 3).await,
        3,
        "a refused login is asked again each time"
    );
    report("keystone: wrong password → 400 (×2)", started);
    app.shutdown().await;

    // A token that expires within the refresh margin is fetched again at the next call
    // (Keystone's tokens last an hour; a margin of two hours makes every token stale).
    let app = start_with(OpenStackConfig {
        token_refresh_margin: Duration::from_secs(7200),
        ..OpenStackConfig::default()
    })
    .await;
    let before = token_requests();
    for _ in 0..2 {
        let found = find(&app, keystone_location(&password), "nothing.here").await;
        assert_eq!(found.expect("find answered").result, None);
    }
    assert_eq!(
        token_requests_since(before, 2).await,
        2,
        "a stale token is replaced"
    );
    app.shutdown().await;
}
