//! Integration tests of Ignition for Rust, in one binary: real servers on 127.0.0.1,
//! real HTTP requests, the embedded default's real job queue and bus.

mod config;
mod custom_errors;
mod deployment;
mod example;
mod example_lifecycle;
mod extension_points;
mod hostile;
mod http;
mod kafka;
mod logs;
mod metrics;
mod monitoring;
mod openapi;
mod testing;
mod tls;
