//! HTTPS (`application.ssl.*`): the certificate and key of a Kubernetes TLS secret
//! (`cert_dir/tls.crt`, `cert_dir/tls.key`), checked at start-up and read again when they
//! change, fed to poem's rustls listener as a stream of configs.
//!
//! The files are polled (contents compared once a second) rather than watched with
//! inotify: Kubernetes updates a secret volume by swapping a `..data` symlink, which a
//! watch on the two files misses unless it follows the directory, while reading two small
//! files once a second catches every kind of update (in place, rename, symlink swap).

use std::path::{Path, PathBuf};
use std::time::Duration;

use futures_util::stream::{self, BoxStream, StreamExt};
use poem::listener::{
    Acceptor, AcceptorExt, IntoTlsConfigStream, RustlsAcceptor, RustlsCertificate, RustlsConfig,
    TcpAcceptor,
};
use poem::web::{LocalAddr, RemoteAddr};
use rustls::crypto::aws_lc_rs::sign::any_supported_type;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::CertifiedKey;

/// The certificate file in `application.ssl.cert_dir` (a Kubernetes TLS secret's key).
pub(crate) const CERT_FILE: &str = "tls.crt";
/// The private key file in `application.ssl.cert_dir`.
pub(crate) const KEY_FILE: &str = "tls.key";
/// How often the files are read again to see whether they changed.
const RELOAD_INTERVAL: Duration = Duration::from_secs(1);

/// Why the HTTPS certificate or key cannot be used. At start-up this stops the app
/// (inside [`ListenError::Tls`](crate::ListenError::Tls)); after a change of the files it
/// is logged and the certificate served so far stays.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// `application.ssl.enabled` is true but no directory is given.
    #[error("`application.ssl.enabled` is true but `application.ssl.cert_dir` is not set (the directory holding tls.crt and tls.key)")]
    NoCertDir,
    /// A file is missing or cannot be read.
    #[error("cannot read {} (`application.ssl.cert_dir`: {}): {source}", path.display(), dir(path))]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// `tls.crt` holds no usable certificate.
    #[error("{} (`application.ssl.cert_dir`: {}) is not a usable certificate: {reason}", path.display(), dir(path))]
    Certificate {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// `tls.key` holds no usable private key.
    #[error("{} (`application.ssl.cert_dir`: {}) is not a usable private key: {reason}", path.display(), dir(path))]
    Key {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The private key is not the one of the certificate.
    #[error("the private key in {} does not match the certificate in {} (`application.ssl.cert_dir`: {}): they are not a pair", key.display(), cert.display(), dir(cert))]
    KeyMismatch {
        /// The key file.
        key: PathBuf,
        /// The certificate file.
        cert: PathBuf,
    },
    /// The TLS listener refused the pair.
    #[error("the certificate in {} and the key in {} (`application.ssl.cert_dir`: {}) are refused by the TLS listener: {reason}", cert.display(), key.display(), dir(cert))]
    Refused {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
        /// Why.
        reason: String,
    },
}

/// The directory of `path`, for messages.
fn dir(path: &Path) -> String {
    path.parent()
        .map(|dir| dir.display().to_string())
        .unwrap_or_default()
}

/// The two files of `application.ssl.cert_dir`.
#[derive(Debug, Clone)]
pub(crate) struct CertFiles {
    cert: PathBuf,
    key: PathBuf,
}

/// What the files held when last read: their bytes, or why they could not be read.
type Snapshot = Result<(Vec<u8>, Vec<u8>), String>;

impl CertFiles {
    /// `dir/tls.crt` and `dir/tls.key`.
    pub(crate) fn new(dir: &Path) -> Self {
        Self {
            cert: dir.join(CERT_FILE),
            key: dir.join(KEY_FILE),
        }
    }

    /// The certificate file.
    pub(crate) fn cert(&self) -> &Path {
        &self.cert
    }

    /// Reads both files.
    fn read(&self) -> Result<(Vec<u8>, Vec<u8>), TlsError> {
        let read = |path: &Path| {
            std::fs::read(path).map_err(|source| TlsError::Read {
                path: path.to_path_buf(),
                source,
            })
        };
        Ok((read(&self.cert)?, read(&self.key)?))
    }

    /// Checks a certificate and key and makes the listener's config of them: the
    /// certificate file holds at least one PEM certificate (the first is the server's, the
    /// rest its chain), the key file a PKCS#8, PKCS#1 or SEC1 key of a supported type,
    /// the key is the certificate's, and the listener accepts the pair.
    fn config(&self, cert_pem: &[u8], key_pem: &[u8]) -> Result<RustlsConfig, TlsError> {
        let bad_cert = |reason: String| TlsError::Certificate {
            path: self.cert.clone(),
            reason,
        };
        let bad_key = |reason: String| TlsError::Key {
            path: self.key.clone(),
            reason,
        };
        let chain = CertificateDer::pem_slice_iter(cert_pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|err| bad_cert(format!("bad PEM: {err}")))?;
        if chain.is_empty() {
            return Err(bad_cert(
                "no PEM certificate in it (`-----BEGIN CERTIFICATE-----`)".into(),
            ));
        }
        let key = match PrivateKeyDer::from_pem_slice(key_pem) {
            Ok(key) => key,
            Err(rustls::pki_types::pem::Error::NoItemsFound) => {
                return Err(bad_key(
                    "no PEM private key in it (PKCS#8 `BEGIN PRIVATE KEY`, PKCS#1 `BEGIN RSA PRIVATE KEY` or SEC1 `BEGIN EC PRIVATE KEY`)".into(),
                ))
            }
            Err(err) => return Err(bad_key(format!("bad PEM: {err}"))),
        };
        let signing_key = any_supported_type(&key)
            .map_err(|err| bad_key(format!("not a supported key (RSA, ECDSA, Ed25519): {err}")))?;
        match CertifiedKey::new(chain, signing_key).keys_match() {
            // Unknown: the key type cannot tell its public key; the handshake will.
            Ok(()) | Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::Unknown)) => {}
            Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch)) => {
                return Err(TlsError::KeyMismatch {
                    key: self.key.clone(),
                    cert: self.cert.clone(),
                })
            }
            Err(err) => return Err(bad_cert(format!("not an X.509 certificate: {err}"))),
        }
        let config = || {
            RustlsConfig::new().fallback(
                RustlsCertificate::new()
                    .cert(cert_pem.to_vec())
                    .key(key_pem.to_vec()),
            )
        };
        // The listener parses the PEM again with its own parser: make sure it agrees, or
        // it would refuse the config later with no certificate to serve.
        let _checked = config().into_stream().map_err(|err| TlsError::Refused {
            cert: self.cert.clone(),
            key: self.key.clone(),
            reason: err.to_string(),
        })?;
        Ok(config())
    }
}

/// The acceptor serving HTTPS on `tcp`, with the certificate and key of `files`, checked
/// now (an error stops start-up) and again whenever they change.
pub(crate) fn acceptor(tcp: TcpAcceptor, files: CertFiles) -> Result<TlsAcceptor, TlsError> {
    let (cert, key) = files.read()?;
    let initial = files.config(&cert, &key)?;
    let watch = Watch {
        files,
        applied: Ok((cert, key)),
        rejected: None,
        interval: None,
    };
    let configs = stream::once(async move { initial })
        .chain(stream::unfold(watch, Watch::next_config))
        .boxed();
    Ok(TlsTcp {
        inner: tcp,
        primed: false,
    }
    .rustls(configs))
}

/// The HTTPS acceptor.
pub(crate) type TlsAcceptor = RustlsAcceptor<TlsTcp, BoxStream<'static, RustlsConfig>>;

/// What the poll of the files knows.
struct Watch {
    files: CertFiles,
    /// The contents of the config being served.
    applied: Snapshot,
    /// Contents seen last that could not be used, why, and whether that was logged.
    rejected: Option<(Snapshot, String, bool)>,
    interval: Option<tokio::time::Interval>,
}

impl Watch {
    /// Waits until the files hold a new usable pair; returns its config.
    async fn next_config(mut self) -> Option<(RustlsConfig, Self)> {
        let interval = self.interval.get_or_insert_with(|| {
            let mut interval = tokio::time::interval_at(
                tokio::time::Instant::now() + RELOAD_INTERVAL,
                RELOAD_INTERVAL,
            );
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            interval
        });
        loop {
            interval.tick().await;
            let files = self.files.clone();
            // Small files on a secret volume, but a read may block: not on a runtime thread.
            let snapshot: Snapshot = match tokio::task::spawn_blocking(move || files.read()).await {
                Ok(read) => read.map_err(|err| err.to_string()),
                Err(err) => Err(format!("reading the certificate files failed: {err}")),
            };
            if snapshot == self.applied {
                // Unchanged, or back to what is served.
                self.rejected = None;
                continue;
            }
            if let Some((seen, reason, logged)) = &mut self.rejected {
                if *seen == snapshot {
                    // Logged once the change has held for a whole interval, so a pair
                    // caught half rewritten (the certificate written, not yet the key)
                    // says nothing when the next read finds it whole.
                    if !*logged {
                        *logged = true;
                        tracing::warn!("HTTPS certificate not reloaded, still serving the previous one: {reason}");
                    }
                    continue;
                }
            }
            let checked = match &snapshot {
                Ok((cert, key)) => self.files.config(cert, key).map_err(|err| err.to_string()),
                Err(reason) => Err(reason.clone()),
            };
            match checked {
                Ok(config) => {
                    tracing::info!(
                        "HTTPS certificate reloaded from {}: new connections get it",
                        self.files.cert.display()
                    );
                    self.applied = snapshot;
                    self.rejected = None;
                    return Some((config, self));
                }
                Err(reason) => self.rejected = Some((snapshot, reason, false)),
            }
        }
    }
}

/// The TCP acceptor under the TLS acceptor. It
/// - lets the TLS acceptor take its first config before the first connection: poem's
///   rustls acceptor waits for a config and a connection at once (in random order) and
///   drops a connection that comes before any config, so one already waiting at start
///   (a probe retrying) would be reset. The first `accept` yields once; the first config
///   is ready at once.
/// - sets `TCP_NODELAY` on every connection: after the handshake the server writes its
///   TLS 1.3 session tickets, so with Nagle's algorithm the first response waits for the
///   client's (delayed) ACK of them, 40 ms on Linux, on every new connection.
pub(crate) struct TlsTcp {
    inner: TcpAcceptor,
    primed: bool,
}

impl Acceptor for TlsTcp {
    type Io = <TcpAcceptor as Acceptor>::Io;

    fn local_addr(&self) -> Vec<LocalAddr> {
        self.inner.local_addr()
    }

    async fn accept(
        &mut self,
    ) -> std::io::Result<(Self::Io, LocalAddr, RemoteAddr, poem::http::uri::Scheme)> {
        if !self.primed {
            self.primed = true;
            tokio::task::yield_now().await;
        }
        let accepted = self.inner.accept().await?;
        if let Err(err) = accepted.0.set_nodelay(true) {
            tracing::debug!(error = %err, "cannot set TCP_NODELAY on an HTTPS connection");
        }
        Ok(accepted)
    }
}
