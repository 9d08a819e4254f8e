//! The example driver (`ignition/examples/simulated_vim`) passes the conformance run
//! (`ignition::testing::Lifecycle`) in process: create → COMPLETE → query → find → delete
//! → COMPLETE → find answers not found.

#[allow(dead_code)] // its `main` serves; the test only uses the driver
#[path = "../../../ignition/examples/simulated_vim/main.rs"]
mod simulated_vim;

use std::time::Duration;

use ignition::models::DeploymentLocation;
use ignition::testing::{Lifecycle, TestApp};
use simulated_vim::{CloudProperties, SimulatedVimDriver};

const TEMPLATE: &str = r#"{"resources": {"vm": {"type": "server"}}, "outputs": {"ip": "vm.ip"}}"#;

#[tokio::test]
async fn the_example_driver_passes_the_lifecycle() {
    let app = TestApp::start(SimulatedVimDriver::new(&CloudProperties::default()))
        .await
        .expect("the example driver starts");
    let report = Lifecycle::new(TEMPLATE, "SimStack", DeploymentLocation::new("region-1"))
        .instance_name("web")
        .timeout(Duration::from_secs(30))
        .run(&app)
        .await
        .unwrap_or_else(|err| panic!("{err}"));
    assert!(
        report.outputs.contains_key("ip"),
        "the stack's outputs: {report}"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn a_template_of_another_type_fails_the_create_step() {
    let app = TestApp::start(SimulatedVimDriver::new(&CloudProperties::default()))
        .await
        .expect("the example driver starts");
    let err = Lifecycle::new(TEMPLATE, "TOSCA", DeploymentLocation::new("region-1"))
        .instance_name("web")
        .run(&app)
        .await
        .expect_err("the simulated cloud only takes SimStack templates");
    assert_eq!(err.step().to_string(), "create", "{err}");
    app.shutdown().await;
}
