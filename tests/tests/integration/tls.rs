//! HTTPS (`application.ssl.*`) over real TLS with certificates made here (rcgen), on
//! both loopbacks by default. (The addresses over plain HTTP: `bind.rs`.)

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ignition::{BootError, ListenError, RunningApp, TlsError};
use ignition_tests::log_capture::Logs;
use ignition_tests::{create_body, scripted_app, RawClient};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    PKCS_ECDSA_P256_SHA256, PKCS_RSA_SHA256,
};
use rcgen14 as rcgen;
use serde_json::Value;
use tempfile::TempDir;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

use crate::bind::{v4, v6};
use client::Conn;

mod client;

/// The names the server's certificates are for.
const NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];
/// Long enough for the server to have read the files again at least twice (it reads them
/// once a second); a wait, not a bound on how fast anything must be.
const RELOAD_WAIT: Duration = Duration::from_millis(3500);
/// How long a test waits for a rotated certificate to be served.
const ROTATION_DEADLINE: Duration = Duration::from_secs(15);

/// A certificate authority made for one test.
struct Ca {
    issuer: Issuer<'static, KeyPair>,
    pem: String,
}

impl Ca {
    fn new(name: &str) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
        let pem = params.self_signed(&key).unwrap().pem();
        Self {
            issuer: Issuer::new(params, key),
            pem,
        }
    }

    /// An intermediate CA signed by this one: (the intermediate, its certificate's PEM).
    fn intermediate(&self, name: &str) -> (Ca, String) {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
        let pem = params.signed_by(&key, &self.issuer).unwrap().pem();
        (
            Ca {
                issuer: Issuer::new(params, key),
                pem: pem.clone(),
            },
            pem,
        )
    }

    /// A server certificate for [`NAMES`] with an ECDSA P-256 key: (certificate PEM,
    /// PKCS#8 key PEM).
    fn server_pair(&self) -> (String, String) {
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
        (self.server_cert(&key), key.serialize_pem())
    }

    /// A server certificate for [`NAMES`] for `key`.
    fn server_cert(&self, key: &KeyPair) -> String {
        let mut params =
            CertificateParams::new(NAMES.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        params.signed_by(key, &self.issuer).unwrap().pem()
    }
}

/// Writes `tls.crt` and `tls.key` in `dir`, each rewritten in place (truncated, then
/// written), certificate first, as a tool updating a mounted directory does.
fn write_pair(dir: &Path, cert: &str, key: &str) {
    std::fs::write(dir.join("tls.crt"), cert).unwrap();
    std::fs::write(dir.join("tls.key"), key).unwrap();
}

/// A temporary directory holding `tls.crt` and `tls.key` (removed when dropped).
fn cert_dir(cert: &str, key: &str) -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_pair(dir.path(), cert, key);
    dir
}

/// Starts the scripted app with HTTPS from `dir`.
async fn start_https(dir: &Path) -> Result<RunningApp, BootError> {
    let (app, _scripts) = scripted_app();
    app.property("application.ssl.enabled", true)
        .property("application.ssl.cert_dir", dir.to_str().unwrap())
        .start()
        .await
}

/// An HTTPS client whose only root is `ca_pem`.
fn client(ca_pem: &str) -> Arc<rustls::ClientConfig> {
    client::tls_config(ca_pem, true)
}

/// Where a client connects, and the name it expects in the certificate.
struct Target {
    address: SocketAddr,
    name: String,
}

/// The app's HTTPS port on 127.0.0.1, for the name `localhost`.
fn https(app: &RunningApp) -> Target {
    Target {
        address: v4(app.local_addr().port()),
        name: "localhost".into(),
    }
}

/// A new connection (TCP and TLS handshake) to `target`.
async fn connect(
    client: &Arc<rustls::ClientConfig>,
    target: &Target,
) -> Result<Conn<TlsStream<TcpStream>>, String> {
    Conn::https(target.address, &target.name, client.clone()).await
}

/// `GET /management/health` on a new connection: the status, or why it failed.
async fn health(client: &Arc<rustls::ClientConfig>, target: &Target) -> Result<u16, String> {
    let mut conn = connect(client, target).await?;
    let (status, _) = conn.request("GET", "/management/health", None).await?;
    Ok(status)
}

/// Waits until `client` gets 200 from the health endpoint on a new connection; panics
/// with the last error after [`ROTATION_DEADLINE`].
async fn wait_until_trusted(client: &Arc<rustls::ClientConfig>, target: &Target) {
    let started = Instant::now();
    loop {
        let last = health(client, target).await;
        if last == Ok(200) {
            return;
        }
        if started.elapsed() > ROTATION_DEADLINE {
            panic!("the rotated certificate is not served after {ROTATION_DEADLINE:?}: {last:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn https_serves_the_api_the_spec_swagger_ui_and_management() {
    let ca = Ca::new("test CA");
    let (cert, key) = ca.server_pair();
    let dir = cert_dir(&cert, &key);
    let app = start_https(dir.path()).await.expect("starts with HTTPS");
    let mut conn = connect(&client(&ca.pem), &https(&app)).await.unwrap();

    let create = create_body("COMPLETE").to_string();
    let (status, body) = conn
        .request("POST", "/api/infrastructure/create", Some(&create))
        .await
        .expect("create over HTTPS");
    assert_eq!(status, 202, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["infrastructureId"], "inf-0", "{body}");

    for (path, needle) in [
        ("/management/health", "vitals"),
        ("/api/infrastructure/openapi.json", "\"openapi\""),
        ("/api/infrastructure/openapi.yaml", "openapi:"),
        ("/api/infrastructure/ui", "swagger"),
    ] {
        let (status, body) = conn.request("GET", path, None).await.unwrap();
        assert_eq!(status, 200, "{path}");
        assert!(body.contains(needle), "{path}: {body}");
    }
    app.shutdown().await;
}

#[tokio::test]
async fn plain_http_to_the_https_port_gets_no_answer() {
    let ca = Ca::new("test CA");
    let (cert, key) = ca.server_pair();
    let dir = cert_dir(&cert, &key);
    let app = start_https(dir.path()).await.unwrap();
    let port = app.local_addr().port();

    let plain = RawClient::on_port(port)
        .health(Duration::from_secs(10))
        .await;
    assert!(
        plain.is_err(),
        "plain HTTP must not be served: {:?}",
        plain.map(|(status, _)| status)
    );
    // Byte for byte: what comes back is no HTTP response.
    let mut conn = Conn::http(v4(port)).await.unwrap();
    let answer = tokio::time::timeout(
        Duration::from_secs(10),
        conn.request("GET", "/management/health", None),
    )
    .await;
    assert!(!matches!(answer, Ok(Ok(_))), "{answer:?}");
    // The server still serves HTTPS.
    assert_eq!(health(&client(&ca.pem), &https(&app)).await, Ok(200));
    app.shutdown().await;
}

#[tokio::test]
async fn a_client_that_does_not_trust_the_ca_fails_the_handshake() {
    let (ca, other) = (Ca::new("test CA"), Ca::new("another CA"));
    let (cert, key) = ca.server_pair();
    let dir = cert_dir(&cert, &key);
    let app = start_https(dir.path()).await.unwrap();

    let err = health(&client(&other.pem), &https(&app))
        .await
        .expect_err("the handshake must fail");
    assert!(err.contains("UnknownIssuer"), "{err}");
    assert_eq!(health(&client(&ca.pem), &https(&app)).await, Ok(200));
    app.shutdown().await;
}

#[tokio::test]
async fn a_chain_in_tls_crt_is_served_whole() {
    let root = Ca::new("test root CA");
    let (intermediate, intermediate_pem) = root.intermediate("test intermediate CA");
    let (leaf, key) = intermediate.server_pair();
    let dir = cert_dir(&format!("{leaf}{intermediate_pem}"), &key);
    let app = start_https(dir.path()).await.unwrap();
    // The client knows only the root: it needs the intermediate from the server.
    assert_eq!(health(&client(&root.pem), &https(&app)).await, Ok(200));
    app.shutdown().await;
}

/// The PKCS#1 (`RSA PRIVATE KEY`) or SEC1 (`EC PRIVATE KEY`) key inside a PKCS#8 key's DER:
/// PrivateKeyInfo ::= SEQUENCE { version INTEGER, algorithm SEQUENCE, privateKey OCTET
/// STRING (the key in its own format), ... }.
fn inner_key(pkcs8: &[u8]) -> Vec<u8> {
    fn tlv(der: &[u8]) -> (u8, &[u8], &[u8]) {
        let (tag, first) = (der[0], der[1] as usize);
        let (len, start) = if first < 0x80 {
            (first, 2)
        } else {
            let n = first & 0x7f;
            let len = der[2..2 + n]
                .iter()
                .fold(0usize, |len, b| len << 8 | *b as usize);
            (len, 2 + n)
        };
        (tag, &der[start..start + len], &der[start + len..])
    }
    let (tag, info, _) = tlv(pkcs8);
    assert_eq!(tag, 0x30);
    let (_, _version, rest) = tlv(info);
    let (_, _algorithm, rest) = tlv(rest);
    let (tag, key, _) = tlv(rest);
    assert_eq!(tag, 0x04);
    key.to_vec()
}

/// PEM with this label (base64, 64 columns).
fn pem(label: &str, der: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut base64 = String::new();
    for chunk in der.chunks(3) {
        let bytes = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (bytes[0] as u32) << 16 | (bytes[1] as u32) << 8 | bytes[2] as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                base64.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                base64.push('=');
            }
        }
    }
    let lines: Vec<&str> = base64
        .as_bytes()
        .chunks(64)
        .map(|line| std::str::from_utf8(line).unwrap())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

#[tokio::test]
async fn pkcs1_and_sec1_keys_are_served() {
    let ca = Ca::new("test CA");
    let rsa = KeyPair::generate_for(&PKCS_RSA_SHA256).unwrap();
    let ec = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
    for (what, key, key_pem) in [
        (
            "PKCS#1",
            &rsa,
            pem("RSA PRIVATE KEY", &inner_key(rsa.serialized_der())),
        ),
        (
            "SEC1",
            &ec,
            pem("EC PRIVATE KEY", &inner_key(ec.serialized_der())),
        ),
        ("PKCS#8 RSA", &rsa, rsa.serialize_pem()),
    ] {
        let dir = cert_dir(&ca.server_cert(key), &key_pem);
        let app = start_https(dir.path())
            .await
            .unwrap_or_else(|err| panic!("{what}: {err}"));
        assert_eq!(
            health(&client(&ca.pem), &https(&app)).await,
            Ok(200),
            "{what}"
        );
        app.shutdown().await;
    }
}

#[tokio::test]
async fn a_certificate_rotated_in_place_is_served_to_new_connections() {
    let logs = Logs::capture(tracing::Level::INFO);
    let (first_ca, second_ca) = (Ca::new("first CA"), Ca::new("second CA"));
    let (cert, key) = first_ca.server_pair();
    let dir = cert_dir(&cert, &key);
    let app = start_https(dir.path()).await.unwrap();
    let started = Instant::now();
    let base = https(&app);
    let (first, second) = (client(&first_ca.pem), client(&second_ca.pem));
    assert_eq!(health(&first, &base).await, Ok(200));
    assert!(health(&second, &base).await.is_err());
    // A connection kept open across the rotation.
    let mut kept = connect(&first, &base).await.unwrap();
    let (status, _) = kept
        .request("GET", "/management/health", None)
        .await
        .unwrap();
    assert_eq!(status, 200);

    // Rewritten in place, the key 0.9 s after the certificate, around the server's read
    // of the files 2 s after start (it reads them every second): that read finds a pair
    // that does not match, which is no reason for a warning while the next one finds
    // it whole.
    let (cert, key) = second_ca.server_pair();
    tokio::time::sleep_until((started + Duration::from_millis(1550)).into()).await;
    std::fs::write(dir.path().join("tls.crt"), &cert).unwrap();
    tokio::time::sleep(Duration::from_millis(900)).await;
    std::fs::write(dir.path().join("tls.key"), &key).unwrap();
    wait_until_trusted(&second, &base).await;
    assert_eq!(logs.matching("HTTPS certificate reloaded").len(), 1);
    assert_eq!(logs.matching("not reloaded"), Vec::<String>::new());
    let err = health(&first, &base)
        .await
        .expect_err("a new connection gets the new certificate");
    assert!(err.contains("UnknownIssuer"), "{err}");
    // The connection made before the rotation still works.
    let (status, _) = kept
        .request("GET", "/management/health", None)
        .await
        .unwrap();
    assert_eq!(status, 200);
    app.shutdown().await;
}

#[cfg(unix)]
#[tokio::test]
async fn a_kubernetes_secret_update_is_served_to_new_connections() {
    // A secret volume: tls.crt -> ..data/tls.crt, ..data -> ..<timestamp>; kubelet writes
    // a new timestamped directory and swaps the `..data` link with a rename.
    use std::os::unix::fs::symlink;
    let (first_ca, second_ca) = (Ca::new("first CA"), Ca::new("second CA"));
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let version = |name: &str, ca: &Ca| {
        let (cert, key) = ca.server_pair();
        std::fs::create_dir(root.join(name)).unwrap();
        write_pair(&root.join(name), &cert, &key);
    };
    version("..2025_01_01_00_00_00.1", &first_ca);
    symlink("..2025_01_01_00_00_00.1", root.join("..data")).unwrap();
    symlink("..data/tls.crt", root.join("tls.crt")).unwrap();
    symlink("..data/tls.key", root.join("tls.key")).unwrap();
    let app = start_https(root).await.unwrap();
    let base = https(&app);
    assert_eq!(health(&client(&first_ca.pem), &base).await, Ok(200));

    version("..2025_01_02_00_00_00.2", &second_ca);
    symlink("..2025_01_02_00_00_00.2", root.join("..data_tmp")).unwrap();
    std::fs::rename(root.join("..data_tmp"), root.join("..data")).unwrap();
    std::fs::remove_dir_all(root.join("..2025_01_01_00_00_00.1")).unwrap();
    wait_until_trusted(&client(&second_ca.pem), &base).await;
    app.shutdown().await;
}

#[tokio::test]
async fn a_broken_rewrite_keeps_the_old_certificate_and_says_why_once() {
    let logs = Logs::capture(tracing::Level::INFO);
    let (first_ca, second_ca) = (Ca::new("first CA"), Ca::new("second CA"));
    let (cert, key) = first_ca.server_pair();
    let dir = cert_dir(&cert, &key);
    let app = start_https(dir.path()).await.unwrap();
    let base = https(&app);
    let first = client(&first_ca.pem);
    assert_eq!(health(&first, &base).await, Ok(200));
    let not_reloaded = "HTTPS certificate not reloaded, still serving the previous one";

    // 1. tls.crt is no certificate.
    std::fs::write(dir.path().join("tls.crt"), "not a certificate\n").unwrap();
    tokio::time::sleep(RELOAD_WAIT).await;
    assert_eq!(
        health(&first, &base).await,
        Ok(200),
        "the old one is served"
    );
    let warnings = logs.matching(not_reloaded);
    assert_eq!(warnings.len(), 1, "once per change: {warnings:#?}");
    assert!(warnings[0].contains("WARN"), "{}", warnings[0]);
    assert!(
        warnings[0].contains("tls.crt") && warnings[0].contains("application.ssl.cert_dir"),
        "{}",
        warnings[0]
    );
    assert!(
        warnings[0].contains("no PEM certificate"),
        "{}",
        warnings[0]
    );

    // 2. A good certificate, but for another key than tls.key's.
    let (other_cert, _other_key) = second_ca.server_pair();
    std::fs::write(dir.path().join("tls.crt"), &other_cert).unwrap();
    tokio::time::sleep(RELOAD_WAIT).await;
    assert_eq!(
        health(&first, &base).await,
        Ok(200),
        "the old one is served"
    );
    let warnings = logs.matching(not_reloaded);
    assert_eq!(warnings.len(), 2, "once per change: {warnings:#?}");
    assert!(warnings[1].contains("does not match"), "{}", warnings[1]);

    // 3. A whole new pair: served.
    let (cert, key) = second_ca.server_pair();
    write_pair(dir.path(), &cert, &key);
    wait_until_trusted(&client(&second_ca.pem), &base).await;
    assert_eq!(logs.matching("HTTPS certificate reloaded").len(), 1);
    assert_eq!(logs.matching(not_reloaded).len(), 2);
    app.shutdown().await;
}

/// The start-up error of HTTPS from `dir`, as (its text, the error).
async fn start_error(dir: &Path) -> (String, BootError) {
    let err = start_https(dir).await.expect_err("start-up must stop");
    (err.to_string(), err)
}

#[tokio::test]
async fn start_up_stops_on_a_missing_tls_key() {
    let ca = Ca::new("test CA");
    let (cert, _key) = ca.server_pair();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tls.crt"), cert).unwrap();
    let (text, err) = start_error(dir.path()).await;
    assert!(
        matches!(
            err,
            BootError::Listen(ListenError::Tls(TlsError::Read { .. }))
        ),
        "{err:?}"
    );
    let key_path = dir.path().join("tls.key");
    assert!(text.contains("application.ssl.cert_dir"), "{text}");
    assert!(text.contains(&key_path.display().to_string()), "{text}");
    assert!(text.contains("No such file"), "{text}");
}

#[tokio::test]
async fn start_up_stops_on_a_key_that_is_not_the_certificates() {
    let ca = Ca::new("test CA");
    let (cert, _) = ca.server_pair();
    let (_, other_key) = ca.server_pair();
    let dir = cert_dir(&cert, &other_key);
    let (text, err) = start_error(dir.path()).await;
    assert!(
        matches!(
            err,
            BootError::Listen(ListenError::Tls(TlsError::KeyMismatch { .. }))
        ),
        "{err:?}"
    );
    assert!(text.contains("application.ssl.cert_dir"), "{text}");
    assert!(
        text.contains("tls.key") && text.contains("tls.crt"),
        "{text}"
    );
    assert!(text.contains("does not match"), "{text}");
}

#[tokio::test]
async fn start_up_stops_on_files_that_do_not_parse() {
    let ca = Ca::new("test CA");
    let (cert, key) = ca.server_pair();
    let cases = [
        (
            "tls.crt",
            "no PEM certificate",
            "not a certificate".to_string(),
            key.clone(),
        ),
        // The key where the certificate belongs.
        ("tls.crt", "no PEM certificate", key.clone(), key.clone()),
        ("tls.key", "no PEM private key", cert.clone(), cert.clone()),
        (
            "tls.crt",
            "not an X.509 certificate",
            pem("CERTIFICATE", b"not DER at all"),
            key.clone(),
        ),
        (
            "tls.key",
            "not a supported key",
            cert.clone(),
            pem("PRIVATE KEY", b"not DER at all"),
        ),
        (
            "tls.crt",
            "bad PEM",
            "-----BEGIN CERTIFICATE-----\nAAAA\n".into(),
            key.clone(),
        ),
    ];
    for (file, reason, cert, key) in cases {
        let dir = cert_dir(&cert, &key);
        let (text, err) = start_error(dir.path()).await;
        assert!(
            matches!(err, BootError::Listen(ListenError::Tls(_))),
            "{err:?}"
        );
        assert!(text.contains("application.ssl.cert_dir"), "{text}");
        assert!(
            text.contains(&dir.path().join(file).display().to_string()),
            "{file}: {text}"
        );
        assert!(text.contains(reason), "{reason}: {text}");
    }
}

#[tokio::test]
async fn https_by_default_answers_on_ipv6_and_ipv4_loopback() {
    let ca = Ca::new("test CA");
    let (cert, key) = ca.server_pair();
    let dir = cert_dir(&cert, &key);
    let app = start_https(dir.path()).await.unwrap();
    let port = app.local_addr().port();
    let client = client(&ca.pem);
    for (address, name) in [
        (v6(port), "::1"),
        (v4(port), "127.0.0.1"),
        (v6(port), "localhost"),
        (v4(port), "localhost"),
    ] {
        let target = Target {
            address,
            name: name.into(),
        };
        assert_eq!(
            health(&client, &target).await,
            Ok(200),
            "{address} as {name}"
        );
    }
    app.shutdown().await;
}

/// A TLS handshake with the server at `port` of a client trusting `ca_pem`, made as soon
/// as the port accepts connections (it retries until then).
async fn handshake_when_up(port: u16, ca_pem: &str) -> Result<(), String> {
    let connector = tokio_rustls::TlsConnector::from(client(ca_pem));
    let stream = loop {
        match tokio::net::TcpStream::connect(("127.0.0.1", port)).await {
            Ok(stream) => break stream,
            Err(_) => tokio::task::yield_now().await,
        }
    };
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let mut tls = connector
        .connect(name, stream)
        .await
        .map_err(|err| err.to_string())?;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    tls.write_all(
        b"GET /management/health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    )
    .await
    .map_err(|err| err.to_string())?;
    let mut answer = Vec::new();
    let _ = tls.read_to_end(&mut answer).await;
    match answer.starts_with(b"HTTP/1.1 200") {
        true => Ok(()),
        false => Err(String::from_utf8_lossy(&answer).into_owned()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_waiting_when_https_starts_is_served() {
    // A client (a probe) connects the moment the port is open, before the server has
    // taken its first certificate: its connection must wait for it, not be dropped.
    let ca = Ca::new("test CA");
    let (cert, key) = ca.server_pair();
    let dir = cert_dir(&cert, &key);
    for round in 0..20 {
        let (client, app) = loop {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let client = tokio::spawn({
                let ca = ca.pem.clone();
                async move { handshake_when_up(port, &ca).await }
            });
            let (app, _) = scripted_app();
            let started = app
                .property("application.ssl.enabled", true)
                .property("application.ssl.cert_dir", dir.path().to_str().unwrap())
                .property("application.host", "127.0.0.1")
                .property("application.port", port)
                .start()
                .await;
            match started {
                Ok(app) => break (client, app),
                // The free port was taken meanwhile: another one.
                Err(BootError::Listen(ListenError::Bind { .. })) => client.abort(),
                Err(err) => panic!("{err}"),
            }
        };
        let served = tokio::time::timeout(Duration::from_secs(10), client).await;
        assert!(
            matches!(served, Ok(Ok(Ok(())))),
            "round {round}: {served:?}"
        );
        app.shutdown().await;
    }
}
