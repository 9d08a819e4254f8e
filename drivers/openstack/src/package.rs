//! What a Create reads from its driver files (the driver's directory of the Resource
//! package, `Lifecycle/openstack/` in LM's layout), as the Python driver read them: the
//! Heat template `heat.yaml` (else `heat.yml`) — or, in packages that keep it in a `heat/`
//! directory, the one `heat/*.yaml` (`.yml`) file there — and every file under `files/`
//! for Heat's `files` map, named by its path below `files/` (what the template's
//! `get_file` or a nested template's resource type gives).

use ignition::prelude::*;
use serde_json::{Map, Value};

/// The request property naming the template's type, as in the Python driver.
const TEMPLATE_TYPE: &str = "template-type";

/// The template's names, in the order they are looked for.
const TEMPLATE_NAMES: [&str; 2] = ["heat.yaml", "heat.yml"];

/// The directory a package may keep its one template in instead.
const HEAT_DIR: &str = "heat/";

/// The directory whose files go into Heat's `files` map.
const FILES_DIR: &str = "files/";

/// A Create's template and the files it may read.
#[derive(Debug)]
pub(crate) struct HeatPackage {
    /// The driver files' path of the template, for messages.
    pub(crate) template_path: String,
    /// The template's text.
    pub(crate) template: String,
    /// Heat's `files` map: name → text.
    pub(crate) files: Map<String, Value>,
}

impl HeatPackage {
    /// Reads the template and the files of `driver_files`. A `template-type` request
    /// property other than `HEAT` (any case), or no template, is `InvalidDriverFiles`
    /// naming what is missing; so is a file under `files/` that is not UTF-8 text.
    pub(crate) fn read(
        driver_files: &DriverFiles,
        request_properties: &PropValueMap,
    ) -> Result<Self, ResourceDriverError> {
        let listed = driver_files.files();
        let template_path =
            template_path(&listed, request_properties.get(TEMPLATE_TYPE).as_deref())?;
        let template = driver_files.read_to_string(&template_path)?;
        let mut files = Map::new();
        for path in &listed {
            if let Some(name) = path.strip_prefix(FILES_DIR) {
                files.insert(
                    name.to_string(),
                    Value::from(driver_files.read_to_string(path)?),
                );
            }
        }
        Ok(Self {
            template_path,
            template,
            files,
        })
    }
}

/// Which of `listed` is the template, for a `template-type` of `template_type`.
fn template_path(
    listed: &[String],
    template_type: Option<&str>,
) -> Result<String, ResourceDriverError> {
    match template_type {
        Some(given) if given.eq_ignore_ascii_case("TOSCA") => {
            return Err(ResourceDriverError::InvalidDriverFiles(
                "template-type TOSCA: this driver does not translate TOSCA templates; \
                 give a Heat template, heat.yaml, in the driver files"
                    .into(),
            ))
        }
        Some(given) if !given.eq_ignore_ascii_case("HEAT") => {
            return Err(ResourceDriverError::InvalidDriverFiles(format!(
                "cannot create using a template of type '{given}': this driver takes 'HEAT'"
            )))
        }
        _ => {}
    }
    if let Some(top) = TEMPLATE_NAMES
        .into_iter()
        .find(|name| listed.iter().any(|path| path == name))
    {
        return Ok(top.to_string());
    }
    let in_heat_dir: Vec<&String> = listed
        .iter()
        .filter(|path| {
            path.strip_prefix(HEAT_DIR).is_some_and(|name| {
                !name.contains('/') && (name.ends_with(".yaml") || name.ends_with(".yml"))
            })
        })
        .collect();
    match in_heat_dir.as_slice() {
        [one] => return Ok((*one).clone()),
        [] => {}
        several => {
            let names: Vec<String> = several.iter().map(|p| (*p).clone()).collect();
            return Err(ResourceDriverError::InvalidDriverFiles(format!(
                "driverFiles: more than one Heat template in '{HEAT_DIR}' ({}): keep one, or \
                 name the one to use 'heat.yaml' at the top of the driver files",
                shorten(&names)
            )));
        }
    }
    Err({
        let found = if listed.is_empty() {
            "the driver files are empty".to_string()
        } else {
            format!("found: {}", shorten(listed))
        };
        ResourceDriverError::InvalidDriverFiles(format!(
            "driverFiles: no Heat template: missing 'heat.yaml' or 'heat.yml' at the \
                 top of the driver files (or one 'heat/*.yaml') ({found})"
        ))
    })
}

/// The first few paths of `listed`, for a message.
fn shorten(listed: &[String]) -> String {
    const SHOWN: usize = 5;
    let mut text = listed
        .iter()
        .take(SHOWN)
        .map(|p| format!("'{p}'"))
        .collect::<Vec<_>>()
        .join(", ");
    if listed.len() > SHOWN {
        text.push_str(&format!(" and {} more", listed.len() - SHOWN));
    }
    text
}

#[cfg(test)]
mod tests {
    use ignition::testing::DriverFilesBuilder;
    use serde_json::json;

    use super::*;

    fn props(value: Value) -> PropValueMap {
        serde_json::from_value(value).unwrap()
    }

    async fn read(
        files: DriverFilesBuilder,
        request_properties: Value,
    ) -> Result<HeatPackage, ResourceDriverError> {
        let files = files.into_driver_files().await.unwrap();
        HeatPackage::read(&files, &props(request_properties))
    }

    #[tokio::test]
    async fn the_template_and_the_files_below_files() {
        let files = DriverFilesBuilder::new()
            .file("heat.yaml", "resources: {}")
            .file("files/user_data.conf", "#!/bin/sh")
            .file(
                "files/apache/router.yaml",
                "heat_template_version: 2021-04-16",
            )
            .file("tosca.yaml", "ignored")
            .file("other/files/x", "ignored");
        let package = read(files, json!({})).await.unwrap();
        assert_eq!(package.template_path, "heat.yaml");
        assert_eq!(package.template, "resources: {}");
        assert_eq!(
            Value::Object(package.files),
            json!({"user_data.conf": "#!/bin/sh",
                   "apache/router.yaml": "heat_template_version: 2021-04-16"})
        );
    }

    #[tokio::test]
    async fn heat_yml_when_there_is_no_heat_yaml_and_heat_yaml_first() {
        let package = read(
            DriverFilesBuilder::new().file("heat.yml", "a: 1"),
            json!({}),
        )
        .await
        .unwrap();
        assert_eq!(
            (package.template_path.as_str(), package.template.as_str()),
            ("heat.yml", "a: 1")
        );
        let both = DriverFilesBuilder::new()
            .file("heat.yml", "yml")
            .file("heat.yaml", "yaml");
        let package = read(both, json!({"template-type": "heat"})).await.unwrap();
        assert_eq!(package.template, "yaml");
        assert!(package.files.is_empty());
    }

    #[tokio::test]
    async fn the_one_template_of_a_heat_directory_when_there_is_none_at_the_top() {
        let package = read(
            DriverFilesBuilder::new()
                .file("heat/stack.yaml", "a: 1")
                .file("heat/README", "not a template")
                .file("heat/nested/x.yaml", "not this one"),
            json!({}),
        )
        .await
        .unwrap();
        assert_eq!(
            (package.template_path.as_str(), package.template.as_str()),
            ("heat/stack.yaml", "a: 1")
        );
        let top_wins = DriverFilesBuilder::new()
            .file("heat/stack.yaml", "dir")
            .file("heat.yaml", "top");
        assert_eq!(read(top_wins, json!({})).await.unwrap().template, "top");
        let err = read(
            DriverFilesBuilder::new()
                .file("heat/a.yaml", "a: 1")
                .file("heat/b.yml", "b: 1"),
            json!({}),
        )
        .await
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("more than one Heat template in 'heat/' ('heat/a.yaml', 'heat/b.yml')"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn no_template_is_invalid_driver_files_naming_it() {
        let err = read(
            DriverFilesBuilder::new().file("templates/stack.yaml", "a: 1"),
            json!({}),
        )
        .await
        .unwrap_err();
        assert_eq!(
            err,
            ResourceDriverError::InvalidDriverFiles(
                "driverFiles: no Heat template: missing 'heat.yaml' or 'heat.yml' at the top \
                 of the driver files (or one 'heat/*.yaml') (found: 'templates/stack.yaml')"
                    .into()
            )
        );
        let err = read(DriverFilesBuilder::new(), json!({}))
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("(the driver files are empty)"),
            "{err}"
        );
        let many = (0..7).fold(DriverFilesBuilder::new(), |b, n| {
            b.file(format!("f{n}"), "x")
        });
        let err = read(many, json!({})).await.unwrap_err();
        assert!(err.to_string().contains("'f4' and 2 more)"), "{err}");
    }

    #[tokio::test]
    async fn a_template_type_other_than_heat_is_invalid_driver_files() {
        let files = || DriverFilesBuilder::new().file("heat.yaml", "a: 1");
        let err = read(files(), json!({"template-type": "TOSCA"}))
            .await
            .unwrap_err();
        assert!(
            matches!(&err, ResourceDriverError::InvalidDriverFiles(m) if m.contains("does not translate TOSCA")),
            "{err:?}"
        );
        let err = read(files(), json!({"template-type": "ARM"}))
            .await
            .unwrap_err();
        assert_eq!(
            err,
            ResourceDriverError::InvalidDriverFiles(
                "cannot create using a template of type 'ARM': this driver takes 'HEAT'".into()
            )
        );
    }

    #[tokio::test]
    async fn a_file_that_is_not_text_is_invalid_driver_files_naming_it() {
        let files = DriverFilesBuilder::new()
            .file("heat.yaml", "a: 1")
            .file("files/blob.bin", [0xff, 0xfe, 0x00]);
        let err = read(files, json!({})).await.unwrap_err();
        assert!(
            matches!(&err, ResourceDriverError::InvalidDriverFiles(m) if m.contains("files/blob.bin")),
            "{err:?}"
        );
    }
}
