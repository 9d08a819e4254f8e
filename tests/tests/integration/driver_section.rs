//! The driver's own section of the configuration file, read through `driver_with`
//! (`DriverContext::properties`): a bad value or an unknown key names the property and
//! the file, an absent section reads as empty, and the driver's own error stops
//! start-up.

use ignition::prelude::*;
use ignition_tests::ScriptedDriver;

#[derive(Debug, serde::Deserialize)]
#[allow(dead_code)]
struct CloudProperties {
    endpoint: String,
    #[serde(default)]
    build_seconds: u64,
}

#[tokio::test]
async fn a_bad_value_or_unknown_key_in_the_drivers_section_names_it_and_the_file() {
    let dir = tempfile::tempdir().unwrap();
    for (yaml, property) in [
        (
            "cloud:\n  endpoint: e\n  build_seconds: soon\n",
            "cloud.build_seconds",
        ),
        (
            "cloud:\n  endpoint: e\n  bild_seconds: 3\n",
            "cloud.bild_seconds",
        ),
        ("cloud:\n  build_seconds: 3\n", "cloud"),
    ] {
        let file = dir.path().join("config.yml");
        std::fs::write(&file, yaml).unwrap();
        let err = App::new("Cloud VIM Driver")
            .config_file(&file)
            .property("application.port", 0)
            .driver_with(|ctx: DriverContext| async move {
                let _props: CloudProperties = ctx.properties("cloud")?;
                Ok(ScriptedDriver::new().0)
            })
            .start()
            .await
            .expect_err("refused");
        let message = err.to_string();
        assert!(matches!(err, BootError::Config(_)), "{err:?}");
        assert!(message.contains(property), "{yaml}: {message}");
        assert!(
            message.contains(file.to_str().unwrap()),
            "{yaml}: {message}"
        );
    }
}

#[tokio::test]
async fn an_absent_section_reads_as_empty_and_a_driver_error_stops_start_up() {
    #[derive(serde::Deserialize, Default)]
    struct Optional {
        #[serde(default)]
        capacity: u32,
    }
    let app = App::new("x").property("application.port", 0).driver_with(
        |ctx: DriverContext| async move {
            let props: Optional = ctx.properties("nothing_here")?;
            assert_eq!(props.capacity, 0);
            assert_eq!(ctx.app_name(), "x");
            Err::<ScriptedDriver, _>(BootError::driver(
                "cannot reach the VIM at https://vim:5000",
            ))
        },
    );
    let err = app
        .start()
        .await
        .expect_err("the driver's error stops start-up");
    assert!(matches!(err, BootError::Driver(_)), "{err:?}");
    assert!(err.to_string().contains("cannot reach the VIM"), "{err}");
}
