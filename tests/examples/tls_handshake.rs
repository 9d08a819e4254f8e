//! What a new HTTPS connection costs: requests in a row to `/management/health`, each on a
//! new connection (TCP + full TLS 1.3 handshake; or resumed), against the same requests on
//! one kept-alive connection, and the same over plain HTTP. Not a test (no bound asserted):
//!
//! ```text
//! cargo run --release -p ignition-tests --example tls_handshake [-- REQUESTS RUNS]
//! ```
//!
//! Prints, per mode, the median over RUNS of the mean time per request (µs), and the
//! handshake cost derived from them. Client and server run in this one process, so the
//! figures include both sides' work (on loopback, one request at a time).

use std::future::Future;
use std::net::SocketAddr;
use std::time::Instant;

use ignition::RunningApp;
use ignition_tests::scripted_app;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    SignatureAlgorithm, PKCS_ECDSA_P256_SHA256, PKCS_RSA_SHA256,
};
use rcgen14 as rcgen;
use tokio::io::{AsyncRead, AsyncWrite};

#[path = "../tests/integration/tls/client.rs"]
mod client;
use client::{tls_config, Conn};

/// A CA and a server certificate for `localhost` with a key of `algorithm`: (CA PEM,
/// certificate PEM, key PEM).
fn certificates(algorithm: &'static SignatureAlgorithm) -> (String, String, String) {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(DnType::CommonName, "bench CA");
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign];
    let ca_key = KeyPair::generate_for(algorithm).unwrap();
    let ca_pem = params.self_signed(&ca_key).unwrap().pem();
    let issuer = Issuer::new(params, ca_key);
    let key = KeyPair::generate_for(algorithm).unwrap();
    let mut params = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    let cert = params.signed_by(&key, &issuer).unwrap().pem();
    (ca_pem, cert, key.serialize_pem())
}

/// Mean time per request (µs) of `requests` requests in a row, each on a new connection
/// made by `connect` (or all on one when `fresh` is false), after a warm-up.
async fn mean_us<S, F, C>(connect: C, fresh: bool, requests: u32) -> f64
where
    S: AsyncRead + AsyncWrite + Unpin,
    F: Future<Output = Result<Conn<S>, String>>,
    C: Fn() -> F,
{
    let mut conn = connect().await.expect("connects");
    let mut run = async |count: u32| {
        for _ in 0..count {
            if fresh {
                conn = connect().await.expect("connects");
            }
            let (status, _) = conn
                .request("GET", "/management/health", None)
                .await
                .expect("answers");
            assert_eq!(status, 200);
        }
    };
    run(20).await;
    let started = Instant::now();
    run(requests).await;
    started.elapsed().as_secs_f64() * 1e6 / requests as f64
}

/// What a handshake with the server negotiates: version, cipher suite, key exchange.
async fn negotiated(address: SocketAddr, config: std::sync::Arc<rustls::ClientConfig>) -> String {
    let tcp = tokio::net::TcpStream::connect(address).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let tls = tokio_rustls::TlsConnector::from(config)
        .connect(name, tcp)
        .await
        .unwrap();
    let session = tls.get_ref().1;
    format!(
        "{:?}, {:?}, key exchange {:?}",
        session.protocol_version().unwrap(),
        session.negotiated_cipher_suite().unwrap().suite(),
        session.negotiated_key_exchange_group().unwrap().name(),
    )
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

async fn start(tls: Option<&std::path::Path>) -> RunningApp {
    let (app, _) = scripted_app();
    let app = app.property("application.host", "127.0.0.1");
    let app = match tls {
        Some(dir) => app
            .property("application.ssl.enabled", true)
            .property("application.ssl.cert_dir", dir.to_str().unwrap()),
        None => app,
    };
    app.start().await.expect("starts")
}

#[tokio::main]
async fn main() {
    let args: Vec<u32> = std::env::args()
        .skip(1)
        .map(|arg| arg.parse().expect("REQUESTS RUNS"))
        .collect();
    let requests = args.first().copied().unwrap_or(500);
    let runs = args.get(1).copied().unwrap_or(7) as usize;
    println!("{requests} requests in a row per run, median of {runs} runs, µs per request");

    let plain = start(None).await;
    let http = SocketAddr::from(([127, 0, 0, 1], plain.local_addr().port()));
    let (mut http_keepalive, mut http_fresh) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        http_keepalive.push(mean_us(|| Conn::http(http), false, requests).await);
        http_fresh.push(mean_us(|| Conn::http(http), true, requests).await);
    }
    let (http_keepalive, http_fresh) = (median(http_keepalive), median(http_fresh));
    println!("HTTP  kept alive              {http_keepalive:8.1}");
    println!("HTTP  new connection          {http_fresh:8.1}");
    plain.shutdown().await;

    for (name, algorithm) in [
        ("ECDSA P-256", &PKCS_ECDSA_P256_SHA256),
        ("RSA 2048", &PKCS_RSA_SHA256),
    ] {
        let (ca, cert, key) = certificates(algorithm);
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("tls.crt"), cert).unwrap();
        std::fs::write(dir.path().join("tls.key"), key).unwrap();
        let app = start(Some(dir.path())).await;
        let address = SocketAddr::from(([127, 0, 0, 1], app.local_addr().port()));
        let (full_config, resumed_config) = (tls_config(&ca, false), tls_config(&ca, true));
        println!("{name}: {}", negotiated(address, full_config.clone()).await);
        let full_handshake = || Conn::https(address, "localhost", full_config.clone());
        let resumed_handshake = || Conn::https(address, "localhost", resumed_config.clone());
        let (mut kept, mut full, mut resumed) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..runs {
            kept.push(mean_us(full_handshake, false, requests).await);
            full.push(mean_us(full_handshake, true, requests).await);
            resumed.push(mean_us(resumed_handshake, true, requests).await);
        }
        let (kept, full, resumed) = (median(kept), median(full), median(resumed));
        println!("HTTPS kept alive              {kept:8.1}   ({name})");
        println!("HTTPS new connection, full    {full:8.1}   ({name})");
        println!("HTTPS new connection, resumed {resumed:8.1}   ({name})");
        println!(
            "  => a new connection costs {:.0} µs more than a kept-alive one (full handshake), {:.0} µs (resumed); the TLS part of it {:.0} µs (full) / {:.0} µs (resumed) over a new plain HTTP connection",
            full - kept,
            resumed - kept,
            full - http_fresh,
            resumed - http_fresh,
        );
        app.shutdown().await;
    }
}
