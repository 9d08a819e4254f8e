//! An HTTPS client for the HTTPS tests (and the handshake measurement in
//! `examples/tls_handshake.rs`): rustls with only the test's CA as root, HTTP/1.1 written
//! by hand. Not reqwest's rustls: its no-provider feature makes every `reqwest::Client`
//! of the test binary (the plain HTTP ones of the other tests included) panic unless a
//! process-wide crypto provider was installed first, and its other rustls features
//! build ring next to the aws-lc-rs the server uses.

use std::net::SocketAddr;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

/// A rustls client config whose only root is `ca_pem` (aws-lc-rs, like the server);
/// `resumption: false` makes every handshake a full one.
pub fn tls_config(ca_pem: &str, resumption: bool) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(cert.expect("CA PEM")).expect("CA certificate");
    }
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("TLS versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    if !resumption {
        config.resumption = rustls::client::Resumption::disabled();
    }
    Arc::new(config)
}

/// One HTTP/1.1 connection (kept alive between requests).
pub struct Conn<S> {
    stream: S,
    buf: Vec<u8>,
}

impl Conn<TlsStream<TcpStream>> {
    /// A new TCP connection to `address` and a TLS handshake for `name` (a DNS name or
    /// an IP address) trusting what `config` trusts; the error's text on failure.
    pub async fn https(
        address: SocketAddr,
        name: &str,
        config: Arc<rustls::ClientConfig>,
    ) -> Result<Self, String> {
        let tcp = TcpStream::connect(address)
            .await
            .map_err(|err| format!("connect {address}: {err}"))?;
        tcp.set_nodelay(true).unwrap();
        let name = ServerName::try_from(name.to_string()).expect("server name");
        let stream = tokio_rustls::TlsConnector::from(config)
            .connect(name, tcp)
            .await
            .map_err(|err| format!("TLS handshake: {err}"))?;
        Ok(Self {
            stream,
            buf: Vec::new(),
        })
    }
}

impl Conn<TcpStream> {
    /// A new plain TCP connection to `address`.
    pub async fn http(address: SocketAddr) -> Result<Self, String> {
        let tcp = TcpStream::connect(address)
            .await
            .map_err(|err| format!("connect {address}: {err}"))?;
        tcp.set_nodelay(true).unwrap();
        Ok(Self {
            stream: tcp,
            buf: Vec::new(),
        })
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Conn<S> {
    /// Sends `method path` (with a JSON body if given) and reads the response: its
    /// status and body.
    pub async fn request(
        &mut self,
        method: &str,
        path: &str,
        json: Option<&str>,
    ) -> Result<(u16, String), String> {
        let body = json.unwrap_or("");
        let content_type = if json.is_some() {
            "Content-Type: application/json\r\n"
        } else {
            ""
        };
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: localhost\r\n{content_type}Content-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let io = |err: std::io::Error| err.to_string();
        self.stream
            .write_all(request.as_bytes())
            .await
            .map_err(io)?;
        let head_end = loop {
            if let Some(at) = find(&self.buf, b"\r\n\r\n") {
                break at;
            }
            self.fill().await?;
        };
        let head = String::from_utf8_lossy(&self.buf[..head_end]).into_owned();
        self.buf.drain(..head_end + 4);
        let status = head
            .strip_prefix("HTTP/1.1 ")
            .and_then(|rest| rest.get(..3))
            .and_then(|code| code.parse().ok())
            .ok_or_else(|| format!("not an HTTP response: {head:?}"))?;
        let header = |name: &str| {
            head.lines().find_map(|line| {
                let (key, value) = line.split_once(':')?;
                key.eq_ignore_ascii_case(name)
                    .then(|| value.trim().to_string())
            })
        };
        let body = if let Some(length) = header("content-length") {
            let length: usize = length.parse().map_err(|_| format!("bad length: {head}"))?;
            while self.buf.len() < length {
                self.fill().await?;
            }
            self.buf.drain(..length).collect::<Vec<u8>>()
        } else if header("transfer-encoding").is_some_and(|te| te.contains("chunked")) {
            let mut body = Vec::new();
            loop {
                let line_end = loop {
                    if let Some(at) = find(&self.buf, b"\r\n") {
                        break at;
                    }
                    self.fill().await?;
                };
                let size = String::from_utf8_lossy(&self.buf[..line_end]).into_owned();
                let size = usize::from_str_radix(size.split(';').next().unwrap().trim(), 16)
                    .map_err(|_| format!("bad chunk size {size:?}"))?;
                self.buf.drain(..line_end + 2);
                while self.buf.len() < size + 2 {
                    self.fill().await?;
                }
                body.extend(self.buf.drain(..size));
                self.buf.drain(..2);
                if size == 0 {
                    break body;
                }
            }
        } else {
            Vec::new()
        };
        Ok((status, String::from_utf8_lossy(&body).into_owned()))
    }

    async fn fill(&mut self) -> Result<(), String> {
        let mut chunk = [0u8; 16 * 1024];
        match self.stream.read(&mut chunk).await {
            Ok(0) => Err("connection closed".into()),
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                Ok(())
            }
            Err(err) => Err(err.to_string()),
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}
