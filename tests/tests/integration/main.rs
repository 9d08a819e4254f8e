//! Integration tests of Ignition for Rust, in one binary: real servers on 127.0.0.1,
//! real HTTP requests, the embedded default's real job queue and bus.

mod async_messaging;
mod bind;
mod config;
mod custom_errors;
mod driver_section;
mod example;
mod example_lifecycle;
mod extension_points;
mod hostile;
mod http;
mod kafka;
mod limits;
mod logs;
mod metrics;
mod monitoring;
mod openapi;
mod python_config;
mod resource;
mod swagger;
mod testing;
mod tls;
mod vitals;
