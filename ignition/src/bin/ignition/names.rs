//! The names a driver project is known by, all derived from the one NAME given to
//! `ignition new`: the crate, the Rust library and type, the app, the environment
//! variable, the configuration section and the Kubernetes objects.

use std::fmt;

/// Longest NAME accepted: Kubernetes object names built from it (`NAME-config`,
/// `NAME-tls`) and its label values must stay within 63 characters.
const MAX_LEN: usize = 50;

/// Names cargo refuses for a package, or that would clash with a dependency or with the
/// library name Rust derives from the crate name.
const RESERVED: &[&str] = &[
    "alloc",
    "build",
    "core",
    "deps",
    "examples",
    "ignition",
    "incremental",
    "proc-macro",
    "std",
    "test",
    "tokio",
];

/// Rust keywords: the library name (`NAME` with `-` → `_`) must not be one.
const KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate",
    "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl",
    "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref",
    "return", "self", "static", "struct", "super", "trait", "true", "try", "type", "typeof",
    "union", "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

/// Why a NAME was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidName {
    name: String,
    reason: String,
}

impl fmt::Display for InvalidName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid driver name `{}`: {}; use lower-case letters, digits and single `-` \
             between words, starting with a letter (e.g. `openstack-driver`)",
            self.name, self.reason
        )
    }
}

impl std::error::Error for InvalidName {}

/// Every name of a driver project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Names {
    /// The NAME itself: the crate, the binary, the directory, the Kubernetes objects
    /// (`openstack-driver`).
    pub crate_name: String,
    /// The Rust library name and the driver's configuration section (`openstack_driver`).
    pub snake: String,
    /// The driver's Rust type (`OpenstackDriver`).
    pub type_name: String,
    /// The app's name, as logs and the OpenAPI document show it (`Openstack Driver`).
    pub app_name: String,
    /// The environment variable naming the override configuration file
    /// (`OPENSTACK_DRIVER_CONFIG`).
    pub env_var: String,
    /// Where the container finds its configuration, TLS files and spool
    /// (`/var/openstack-driver`).
    pub var_dir: String,
}

impl Names {
    /// Checks NAME and derives the other names from it.
    pub fn new(name: &str) -> Result<Self, InvalidName> {
        validate(name).map_err(|reason| InvalidName {
            name: name.to_string(),
            reason,
        })?;
        let words: Vec<&str> = name.split('-').collect();
        let title: Vec<String> = words.iter().map(|word| capitalise(word)).collect();
        let mut type_name = title.concat();
        if !type_name.ends_with("Driver") {
            type_name.push_str("Driver");
        }
        let snake = words.join("_");
        Ok(Self {
            crate_name: name.to_string(),
            type_name,
            app_name: title.join(" "),
            env_var: format!("{}_CONFIG", snake.to_ascii_uppercase()),
            var_dir: format!("/var/{name}"),
            snake,
        })
    }
}

/// The rules for NAME: a valid cargo package name, Rust library name, Kubernetes object
/// name (DNS-1123 label) and configuration section, all at once.
fn validate(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("it is empty".to_string());
    }
    if name.len() > MAX_LEN {
        return Err(format!(
            "it is {} characters long, at most {MAX_LEN} fit in Kubernetes object names",
            name.len()
        ));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Err(format!("`{bad}` is not allowed"));
    }
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err("it must start with a letter".to_string());
    }
    if name.ends_with('-') || name.contains("--") {
        return Err("`-` must stand between two words".to_string());
    }
    let snake = name.replace('-', "_");
    if RESERVED.contains(&name) || KEYWORDS.contains(&snake.as_str()) {
        return Err("it is reserved by cargo, Rust or a dependency".to_string());
    }
    if ignition::config::is_framework_section(&snake) {
        return Err(format!(
            "`{snake}:` is a section of the framework's configuration, the driver's own \
             section must have another name"
        ));
    }
    Ok(())
}

/// `openstack` → `Openstack`, `k8s` → `K8s`.
fn capitalise(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_derives_from_the_one_given() {
        let names = Names::new("openstack-driver").unwrap();
        assert_eq!(
            names,
            Names {
                crate_name: "openstack-driver".into(),
                snake: "openstack_driver".into(),
                type_name: "OpenstackDriver".into(),
                app_name: "Openstack Driver".into(),
                env_var: "OPENSTACK_DRIVER_CONFIG".into(),
                var_dir: "/var/openstack-driver".into(),
            }
        );
    }

    #[test]
    fn the_type_name_ends_with_driver_once() {
        assert_eq!(
            Names::new("openstack").unwrap().type_name,
            "OpenstackDriver"
        );
        assert_eq!(Names::new("openstack").unwrap().app_name, "Openstack");
        assert_eq!(Names::new("k8s-2-vim").unwrap().type_name, "K8s2VimDriver");
        assert_eq!(
            Names::new("aws-ec2-driver").unwrap().type_name,
            "AwsEc2Driver"
        );
        assert_eq!(
            Names::new("aws-ec2-driver").unwrap().env_var,
            "AWS_EC2_DRIVER_CONFIG"
        );
    }

    #[test]
    fn names_that_would_break_a_tool_are_refused_with_the_reason() {
        for (name, reason) in [
            ("", "empty"),
            ("Openstack", "`O` is not allowed"),
            ("open_stack", "`_` is not allowed"),
            ("open stack", "` ` is not allowed"),
            ("../evil", "`.` is not allowed"),
            ("2cloud", "start with a letter"),
            ("-cloud", "start with a letter"),
            ("cloud-", "between two words"),
            ("cloud--vim", "between two words"),
            ("ignition", "reserved"),
            ("test", "reserved"),
            ("match", "reserved"),
            ("driver", "section of the framework"),
            ("job-queue", "section of the framework"),
            ("resource-driver", "section of the framework"),
            ("management", "section of the framework"),
            (&"a".repeat(51), "at most 50"),
        ] {
            let error = Names::new(name).expect_err(name).to_string();
            assert!(error.contains(reason), "{name:?}: {error}");
            assert!(error.contains("e.g. `openstack-driver`"), "{error}");
        }
        assert!(Names::new(&"a".repeat(50)).is_ok());
    }
}
