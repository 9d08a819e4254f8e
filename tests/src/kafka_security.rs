//! Kafka security for the tests: a certificate authority made by the test, and a
//! TLS-terminating TCP proxy in front of a plain Tansu broker.
//!
//! TLS: Tansu 0.6.0's own TLS listener does not complete librdkafka's handshake, so TLS
//! ends in [`TlsProxy`] (rustls), which forwards the plain bytes to the broker; the
//! broker advertises the proxy's port ([`BrokerOptions::advertised_port`]), so every
//! connection a client makes goes through TLS.
//!
//! SASL: a Tansu started with `--authentication` ([`BrokerOptions::authentication`])
//! speaks SASL SCRAM, but Tansu 0.6.0 cannot hold a credential: its storage engine
//! (DynoStore, the only one in this build) drops every AlterUserScramCredentials and
//! finds no user, so every login is refused (`unknown-user`). Such a broker tests
//! refused credentials; a login that succeeds needs another broker.
//!
//! [`BrokerOptions::advertised_port`]: crate::kafka::BrokerOptions::advertised_port
//! [`BrokerOptions::authentication`]: crate::kafka::BrokerOptions::authentication

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::clock_driver::random_suffix;
use crate::kafka::Broker;

/// A certificate authority made for one test, with a server certificate it signed for
/// `127.0.0.1` and `localhost`; its PEM file is removed on drop.
pub struct TestCa {
    ca_pem: PathBuf,
    server_chain: Vec<CertificateDer<'static>>,
    server_key: Vec<u8>,
    /// The server certificate then the CA's, as PEM.
    server_chain_pem: String,
    /// The server key, PKCS#8 PEM.
    server_key_pem: String,
}

impl TestCa {
    /// A new CA (`name` is its common name) and a server certificate signed by it.
    pub fn new(name: &str) -> Self {
        let ca_key = rcgen::KeyPair::generate().expect("CA key");
        let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(rcgen::DnType::CommonName, name.to_string());
        ca.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::CrlSign,
            rcgen::KeyUsagePurpose::DigitalSignature,
        ];
        let ca_cert = ca.self_signed(&ca_key).expect("CA certificate");

        // "127.0.0.1" becomes an IP address SAN, "localhost" a DNS one.
        let mut server =
            rcgen::CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
                .expect("server params");
        server
            .distinguished_name
            .push(rcgen::DnType::CommonName, "127.0.0.1");
        let server_key = rcgen::KeyPair::generate().expect("server key");
        let server_cert = server
            .signed_by(&server_key, &ca_cert, &ca_key)
            .expect("server certificate");

        let ca_pem = std::env::temp_dir().join(format!(
            "ignition-test-ca-{}-{}.pem",
            std::process::id(),
            random_suffix(8)
        ));
        std::fs::write(&ca_pem, ca_cert.pem()).expect("write the CA's PEM file");
        Self {
            ca_pem,
            server_chain: vec![server_cert.der().clone(), ca_cert.der().clone()],
            server_key: server_key.serialize_der(),
            server_chain_pem: format!("{}{}", server_cert.pem(), ca_cert.pem()),
            server_key_pem: server_key.serialize_pem(),
        }
    }

    /// Writes the server certificate (with the CA's) and key into `dir` as a Kubernetes
    /// TLS secret lays them out: `tls.crt` and `tls.key` (`application.ssl.cert_dir`).
    pub fn write_cert_dir(&self, dir: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        std::fs::write(dir.join("tls.crt"), &self.server_chain_pem)?;
        std::fs::write(dir.join("tls.key"), &self.server_key_pem)
    }

    /// The CA's certificate as a PEM file, for `ssl.ca.location`.
    pub fn ca_pem(&self) -> &Path {
        &self.ca_pem
    }

    /// A rustls server configuration presenting the server certificate (and the CA).
    fn server_config(&self) -> Arc<rustls::ServerConfig> {
        // The provider is named: with several rustls providers in one build (ring here,
        // aws-lc-rs from another crate, say), rustls has no process default.
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.server_key.clone()));
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_no_client_auth()
            .with_single_cert(self.server_chain.clone(), key)
            .expect("server certificate and key");
        Arc::new(config)
    }
}

impl Drop for TestCa {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.ca_pem);
    }
}

/// A TCP relay on 127.0.0.1 in front of a broker, on a thread (and runtime) of its own;
/// stops, with every connection through it, when dropped.
struct Relay {
    port: u16,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Relay {
    /// Ends TLS with `config` on connections accepted on `listener`; relays them to
    /// `upstream`.
    fn start(
        listener: std::net::TcpListener,
        upstream: SocketAddr,
        config: Arc<rustls::ServerConfig>,
    ) -> Self {
        let port = listener.local_addr().expect("relay address").port();
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        std::thread::Builder::new()
            .name(format!("relay-{port}"))
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("relay runtime");
                runtime.block_on(async move {
                    let listener = TcpListener::from_std(listener).expect("relay listener");
                    let accepting = async {
                        loop {
                            let Ok((client, _)) = listener.accept().await else {
                                continue;
                            };
                            tokio::spawn(relay(client, upstream, config.clone()));
                        }
                    };
                    tokio::select! {
                        () = accepting => {}
                        _ = stopped => {}
                    }
                });
                // Dropping the runtime ends every connection it still carries.
            })
            .expect("relay thread");
        Self {
            port,
            stop: Some(stop),
        }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// One connection: the TLS handshake, then bytes both ways until either side closes.
/// Failures (a client that gives up its handshake, say) end the connection.
async fn relay(client: TcpStream, upstream: SocketAddr, config: Arc<rustls::ServerConfig>) {
    let Ok(mut broker) = TcpStream::connect(upstream).await else {
        return;
    };
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    let Ok(mut client) = acceptor.accept(client).await else {
        return;
    };
    let _ = tokio::io::copy_bidirectional(&mut client, &mut broker).await;
}

/// A TLS-terminating proxy on 127.0.0.1 in front of a plain broker.
pub struct TlsProxy {
    relay: Relay,
}

impl TlsProxy {
    /// A listener on a free port of 127.0.0.1, to start the broker with its port
    /// advertised before the proxy starts on it.
    pub fn listener() -> std::net::TcpListener {
        std::net::TcpListener::bind("127.0.0.1:0").expect("bind the proxy's port")
    }

    /// Ends TLS (with `ca`'s server certificate) on `listener`; forwards to `broker`.
    pub fn start(listener: std::net::TcpListener, broker: &Broker, ca: &TestCa) -> Self {
        let upstream: SocketAddr = broker.bootstrap().parse().expect("broker address");
        Self {
            relay: Relay::start(listener, upstream, ca.server_config()),
        }
    }

    /// Ends TLS (with `ca`'s server certificate) on a free port of 127.0.0.1; forwards to
    /// `upstream` (any TCP service: an HTTP server behind HTTPS, say).
    pub fn in_front_of(upstream: SocketAddr, ca: &TestCa) -> Self {
        Self {
            relay: Relay::start(Self::listener(), upstream, ca.server_config()),
        }
    }

    /// `127.0.0.1:PORT` of the proxy: the `messaging.connection_address` over TLS.
    pub fn bootstrap(&self) -> String {
        format!("127.0.0.1:{}", self.relay.port)
    }
}
