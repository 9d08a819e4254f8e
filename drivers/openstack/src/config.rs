//! The driver's own configuration: the `openstack:` section of the YAML file.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

/// The `openstack:` section (every key optional).
///
/// ```yaml
/// openstack:
///   request_timeout: 30s        # one call to Heat or Keystone, connection included
///   connect_timeout: 5s         # opening a connection
///   token_refresh_margin: 60s   # a Keystone token is fetched again this long before it expires
///   disable_rollback: true      # Heat's own default: a failed create keeps its stack
///   stack_timeout_mins: 60      # Heat's create timeout (unset: Heat's default)
///   ca_file: /etc/ovd/ca.pem    # CA certificates (PEM) trusted besides the system's
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OpenStackConfig {
    /// How long one call to Heat or Keystone may take.
    #[serde(with = "humantime_serde")]
    pub request_timeout: Duration,
    /// How long opening a connection may take.
    #[serde(with = "humantime_serde")]
    pub connect_timeout: Duration,
    /// How long before its expiry a cached Keystone token is replaced.
    #[serde(with = "humantime_serde")]
    pub token_refresh_margin: Duration,
    /// Heat's `disable_rollback` for every create: `false` makes Heat roll a failed
    /// create back (the task then fails with Heat's reason).
    pub disable_rollback: bool,
    /// Heat's `timeout_mins` for every create (at least 1); unset: Heat's default.
    pub stack_timeout_mins: Option<u32>,
    /// A PEM file of CA certificates trusted for `https://` endpoints besides the
    /// system's roots (a cloud whose Keystone and Heat have a private CA).
    pub ca_file: Option<PathBuf>,
}

impl Default for OpenStackConfig {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(5),
            token_refresh_margin: Duration::from_secs(60),
            disable_rollback: true,
            stack_timeout_mins: None,
            ca_file: None,
        }
    }
}
