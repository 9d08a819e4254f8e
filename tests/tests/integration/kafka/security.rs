//! Kafka security on the real broker: TLS through a TLS-terminating proxy in front of
//! Tansu (`security.protocol: SSL`), and what start-up says when the CA is wrong or the
//! broker refuses the SASL login (a Tansu started with `--authentication`, over
//! `SASL_PLAINTEXT` and over `SASL_SSL` through the proxy). Each test starts its own
//! broker.
//!
//! Not here: a SASL login that succeeds. Tansu 0.6.0 stores no SCRAM credential (see
//! `ignition_tests::kafka_security`) and librdkafka's mock cluster has no SASL at all;
//! `ignition`'s unit tests check that librdkafka takes every mechanism's settings.

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use ignition::App;
use ignition_tests::clock_driver::ClockDriver;
use ignition_tests::kafka::{Broker, BrokerOptions, EventCollector, Setup};
use ignition_tests::kafka_security::{TestCa, TlsProxy};
use ignition_tests::RawClient;
use serde_json::{json, Value};

/// How long an event may take (the first poll waits for the group's first join).
const WAIT: Duration = Duration::from_secs(30);

/// `messaging.connect_timeout` of the tests that expect start-up to fail.
const CONNECT_TIMEOUT: &str = "5s";

/// Turns a start-up that never returns into a failure instead of a stuck test run.
const HANG: Duration = Duration::from_secs(120);

/// `messaging.config` as client settings, for the test's own event collector.
fn settings(config: &Value) -> BTreeMap<String, String> {
    config
        .as_object()
        .into_iter()
        .flatten()
        .map(|(key, value)| {
            let value = value
                .as_str()
                .map_or_else(|| value.to_string(), str::to_string);
            (key.clone(), value)
        })
        .collect()
}

/// A broker whose clients all go through a TLS proxy presenting `ca`'s certificate.
fn broker_behind_tls(ca: &TestCa, authentication: bool) -> (Broker, TlsProxy) {
    let listener = TlsProxy::listener();
    let broker = Broker::start_with(BrokerOptions {
        advertised_port: Some(listener.local_addr().expect("proxy port").port()),
        authentication,
    });
    let proxy = TlsProxy::start(listener, &broker, ca);
    (broker, proxy)
}

/// Starts an app with `setup`, creates a task that is IN_PROGRESS for a few polls, and
/// checks that its job ran and was re-queued through the job-queue topic, and that its
/// event came through the events topic: jobs and events both flow with these settings.
/// A first task waits for the consumer group's first join.
async fn jobs_and_events_flow(setup: &Setup) {
    let (driver, polls) = ClockDriver::with_log("secure");
    let app = setup
        .app("Kafka Security Test Driver", driver)
        .start()
        .await
        .unwrap_or_else(|err| panic!("the app starts with {}: {err}", setup.client_config));
    let api = RawClient::on_port(app.local_addr().port());
    let mut events = EventCollector::start_with(
        &setup.bootstrap,
        &setup.names.events,
        &settings(&setup.client_config),
    )
    .await;
    let warm_up = api.create("complete_after:0").await;
    let tally = events
        .wait_for(&HashSet::from([warm_up.0.clone()]), WAIT, Duration::ZERO)
        .await;
    assert!(tally.missing.is_empty(), "no event for {warm_up:?}");
    let task = api.create("complete_after:1500").await;
    let tally = events
        .wait_for(&HashSet::from([task.0.clone()]), WAIT, Duration::ZERO)
        .await;
    assert!(tally.missing.is_empty(), "no event for {task:?}");
    assert_eq!(tally.by_id[&task.0][0].value["status"], "COMPLETE");
    let polled = polls.of(&task.0).len();
    assert!(
        polled >= 2,
        "the job ran, was re-queued through Kafka and ran again: {polled} poll(s)"
    );
    println!(
        "{}: event received, {polled} polls",
        setup.client_config["security.protocol"]
    );
    tokio::time::timeout(Duration::from_secs(30), app.shutdown())
        .await
        .expect("shutdown within 30 s");
}

/// Starts `app`, which must fail; returns the error's message.
async fn start_up_error(app: App) -> String {
    let started = Instant::now();
    let result = tokio::time::timeout(HANG, app.start())
        .await
        .expect("start-up gives up instead of hanging");
    let message = result.expect_err("start-up fails").to_string();
    println!("start-up stopped after {:?}: {message}", started.elapsed());
    message
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Kafka broker"]
async fn jobs_and_events_flow_over_tls() {
    let ca = TestCa::new("Ignition test CA");
    let (broker, proxy) = broker_behind_tls(&ca, false);
    let mut setup = Setup::new(&broker);
    setup.bootstrap = proxy.bootstrap();
    setup.client_config = json!({
        "security.protocol": "SSL",
        "ssl.ca.location": ca.ca_pem(),
    });
    jobs_and_events_flow(&setup).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Kafka broker"]
async fn a_wrong_ca_stops_start_up_naming_the_address_and_the_tls_reason() {
    let ca = TestCa::new("Ignition test CA");
    let other = TestCa::new("Some other CA");
    let (broker, proxy) = broker_behind_tls(&ca, false);
    let mut setup = Setup::new(&broker);
    setup.bootstrap = proxy.bootstrap();
    setup.client_config = json!({
        "security.protocol": "SSL",
        "ssl.ca.location": other.ca_pem(),
    });
    let app = setup
        .app("Kafka Security Test Driver", ClockDriver::new("secure"))
        .property("messaging.connect_timeout", CONNECT_TIMEOUT);
    let message = start_up_error(app).await;
    assert!(
        message.contains("`messaging.connection_address`") && message.contains(&proxy.bootstrap()),
        "names the address: {message}"
    );
    assert!(
        message.contains("certificate verify failed"),
        "gives the TLS reason: {message}"
    );
}

/// A broker that refuses every SASL login (Tansu 0.6.0 with `--authentication` holds
/// no credential: see `ignition_tests::kafka_security`), behind a TLS proxy when `ca`
/// is given; start-up with `mechanism` and a password must stop with the SASL reason.
async fn refused_login_stops_start_up(mechanism: &str, ca: Option<&TestCa>) -> String {
    let (broker, proxy) = match ca {
        Some(ca) => {
            let (broker, proxy) = broker_behind_tls(ca, true);
            (broker, Some(proxy))
        }
        None => (
            Broker::start_with(BrokerOptions {
                authentication: true,
                ..BrokerOptions::default()
            }),
            None,
        ),
    };
    let mut setup = Setup::new(&broker);
    setup.client_config = json!({
        "security.protocol": "SASL_PLAINTEXT",
        "sasl.mechanisms": mechanism,
        "sasl.username": "ignition",
        "sasl.password": "not-the-right-one",
    });
    if let (Some(proxy), Some(ca)) = (&proxy, ca) {
        setup.bootstrap = proxy.bootstrap();
        setup.client_config["security.protocol"] = json!("SASL_SSL");
        setup.client_config["ssl.ca.location"] = json!(ca.ca_pem());
    }
    let app = setup
        .app("Kafka Security Test Driver", ClockDriver::new("secure"))
        .property("messaging.connect_timeout", CONNECT_TIMEOUT);
    let message = start_up_error(app).await;
    assert!(
        message.contains("`messaging.connection_address`") && message.contains(&setup.bootstrap),
        "names the address: {message}"
    );
    assert!(
        message.contains("`messaging.config`") && message.contains("sasl.password: ****"),
        "names messaging.config, password hidden: {message}"
    );
    assert!(
        !message.contains("not-the-right-one"),
        "never shows the password: {message}"
    );
    assert!(
        message.contains("SASL authentication error"),
        "gives the SASL reason: {message}"
    );
    message
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Kafka broker"]
async fn a_refused_scram_sha_512_login_stops_start_up_naming_messaging_config_with_the_password_hidden(
) {
    let message = refused_login_stops_start_up("SCRAM-SHA-512", None).await;
    assert!(message.contains("SCRAM"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Kafka broker"]
async fn a_refused_scram_sha_256_login_over_tls_gets_past_tls_to_the_sasl_reason() {
    let ca = TestCa::new("Ignition test CA");
    let message = refused_login_stops_start_up("SCRAM-SHA-256", Some(&ca)).await;
    assert!(
        message.contains("sasl_ssl://") && !message.contains("SSL handshake failed"),
        "TLS worked, SASL refused: {message}"
    );
}
