//! Integration tests of Ignition for Rust, in one binary: real servers on 127.0.0.1,
//! real HTTP requests, the embedded default's real job queue and bus.

mod config;
mod custom_errors;
mod example;
mod http;
mod kafka;
mod monitoring;
mod openapi;
mod tls;
