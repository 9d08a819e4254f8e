//! The HTTP server: which address it binds (`application.host`, `application.port`), HTTP
//! or HTTPS (`application.ssl.*`), and the one layer around every route (panics, errors as
//! the contract's JSON, request logs, the trace context of the operations).

use std::any::Any;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use futures_util::FutureExt;
use poem::http::uri::Scheme;
use poem::http::StatusCode;
use poem::listener::{Acceptor, TcpAcceptor};
use poem::web::{LocalAddr, RemoteAddr};
use poem::{Endpoint, IntoResponse, Request, Response, Route};
use tokio_util::either::Either;
use tokio_util::sync::{CancellationToken, WaitForCancellationFuture};

use crate::config::ApplicationProperties;
use crate::management::Vitals;
use crate::metrics::Recorder;
use crate::operations::Operation;
use crate::response::ErrorBody;
use crate::tls::{self, CertFiles, TlsError};
use crate::tracectx::{self, TraceCtx};

mod limits;

pub(crate) use limits::Limited;

/// Why the HTTP listener could not be opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ListenError {
    /// `application.host` is not an IP address.
    #[error("invalid configuration property `application.host`: `{host}` is not an IP address (e.g. `::`, `0.0.0.0`, `127.0.0.1`)")]
    Host {
        /// The configured host.
        host: String,
    },
    /// The address could not be bound (in use, not available on this machine, ...).
    #[error("cannot listen on {address} (`application.host` / `application.port`): {source}")]
    Bind {
        /// The address tried.
        address: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// `application.ssl.enabled` is true and the certificate or key in
    /// `application.ssl.cert_dir` cannot be used.
    #[error(transparent)]
    Tls(#[from] TlsError),
}

/// Binds the configured address. Without `application.host`: `[::]` as a dual-stack
/// socket (IPv6 and IPv4) where the machine has IPv6, else `0.0.0.0`. With
/// `application.ssl.enabled`: HTTPS, the certificate and key checked now. At most
/// `application.max_connections` connections are open at once, and each request header
/// must arrive within `application.header_read_timeout`.
pub(crate) fn bind(
    application: &ApplicationProperties,
) -> Result<Limited<HttpAcceptor>, ListenError> {
    let limits = limits::ConnectionLimits {
        max_connections: application.max_connections,
        header_read_timeout: application.header_read_timeout,
    };
    Ok(Limited::new(bind_unlimited(application)?, limits))
}

fn bind_unlimited(application: &ApplicationProperties) -> Result<HttpAcceptor, ListenError> {
    let port = application.port;
    let listener = match &application.host {
        Some(host) => {
            let ip: IpAddr = host
                .trim()
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse()
                .map_err(|_| ListenError::Host { host: host.clone() })?;
            listen(SocketAddr::new(ip, port))?
        }
        None => match listen(SocketAddr::new(Ipv6Addr::UNSPECIFIED.into(), port)) {
            Ok(listener) => listener,
            // No IPv6 on this machine: IPv4 only.
            Err(ListenError::Bind { source, .. })
                if source.kind() != std::io::ErrorKind::AddrInUse =>
            {
                listen(SocketAddr::new(Ipv4Addr::UNSPECIFIED.into(), port))?
            }
            Err(err) => return Err(err),
        },
    };
    let address = listener
        .local_addr()
        .unwrap_or_else(|_| SocketAddr::new(Ipv4Addr::UNSPECIFIED.into(), port));
    let tcp =
        TcpAcceptor::from_std(listener).map_err(|source| ListenError::Bind { address, source })?;
    // `[::]` is bound dual-stack (see `listen`).
    let both = if address.is_ipv6() && address.ip().is_unspecified() {
        " (IPv6 and IPv4)"
    } else {
        ""
    };
    let ssl = &application.ssl;
    if !ssl.enabled {
        tracing::info!("serving HTTP on {address}{both}");
        return Ok(HttpAcceptor::Http(tcp));
    }
    let files = CertFiles::new(ssl.cert_dir.as_deref().ok_or(TlsError::NoCertDir)?);
    let acceptor = tls::acceptor(tcp, files.clone())?;
    tracing::info!(
        "serving HTTPS on {address}{both}; certificate {} and its key, read again when they change",
        files.cert().display()
    );
    Ok(HttpAcceptor::Https(acceptor))
}

/// The listener: plain HTTP (no wrapper around the TCP stream) or HTTPS.
pub(crate) enum HttpAcceptor {
    /// `application.ssl.enabled: false`
    Http(TcpAcceptor),
    /// `application.ssl.enabled: true`
    Https(tls::TlsAcceptor),
}

impl Acceptor for HttpAcceptor {
    type Io = Either<<TcpAcceptor as Acceptor>::Io, <tls::TlsAcceptor as Acceptor>::Io>;

    fn local_addr(&self) -> Vec<LocalAddr> {
        match self {
            HttpAcceptor::Http(tcp) => tcp.local_addr(),
            HttpAcceptor::Https(tls) => tls.local_addr(),
        }
    }

    async fn accept(&mut self) -> std::io::Result<(Self::Io, LocalAddr, RemoteAddr, Scheme)> {
        Ok(match self {
            HttpAcceptor::Http(tcp) => {
                let (io, local, remote, scheme) = tcp.accept().await?;
                (Either::Left(io), local, remote, scheme)
            }
            HttpAcceptor::Https(tls) => {
                let (io, local, remote, scheme) = tls.accept().await?;
                (Either::Right(io), local, remote, scheme)
            }
        })
    }
}

/// A listening socket on `address`; an IPv6 wildcard also accepts IPv4.
fn listen(address: SocketAddr) -> Result<std::net::TcpListener, ListenError> {
    use socket2::{Domain, Protocol, Socket, Type};
    let fail = |source| ListenError::Bind { address, source };
    let socket = Socket::new(
        Domain::for_address(address),
        Type::STREAM,
        Some(Protocol::TCP),
    )
    .map_err(fail)?;
    if address.is_ipv6() && address.ip().is_unspecified() {
        socket.set_only_v6(false).map_err(fail)?;
    }
    socket.set_reuse_address(true).map_err(fail)?;
    socket.set_nonblocking(true).map_err(fail)?;
    socket.bind(&address.into()).map_err(fail)?;
    socket.listen(1024).map_err(fail)?;
    Ok(socket.into())
}

/// The whole HTTP app: `routes` (the Infrastructure API, when enabled), management
/// (with `metrics`, when recorded), and around them panic catching, error conversion and
/// request logs. Not boxed: the server boxes each request's future once more itself, and
/// every box is an allocation and a copy of the request.
///
/// A request still in flight when `hard_stop` is cancelled (`application.shutdown_timeout`
/// after the stop) is dropped, so cancelled, and answered 503 with its connection closed.
pub(crate) fn endpoint(
    routes: Route,
    vitals: Vitals,
    metrics: &Recorder,
    hard_stop: CancellationToken,
) -> impl Endpoint<Output = Response> + 'static {
    Guarded {
        inner: crate::management::routes(routes, vitals, metrics.metrics().cloned()),
        hard_stop,
    }
}

/// The one layer around every route: a panic becomes a 500 and every error the contract's
/// JSON; an operation is served in its trace context (see `tracectx`); a request is cut
/// at the shutdown's deadline. One layer instead of poem's `CatchPanic` + `around`: each
/// layer moves the request and the response, which shows in throughput.
///
/// The shutdown's deadline is kept here rather than by poem (its own timeout watches it
/// on every wake of every connection, a tenth of the framework's own CPU on a find); a
/// request that finishes at its first poll never looks at it.
struct Guarded<E> {
    inner: E,
    hard_stop: CancellationToken,
}

/// `future`'s output, or `None` when `token` is cancelled first. The token is only
/// looked at once the future is pending (see [`Guarded`]).
fn until_cancelled<'a, F: Future>(
    token: &'a CancellationToken,
    future: F,
) -> UntilCancelled<'a, F> {
    UntilCancelled {
        future,
        token,
        cancelled: None,
    }
}

pin_project_lite::pin_project! {
    /// The future of [`until_cancelled`].
    struct UntilCancelled<'a, F> {
        #[pin]
        future: F,
        token: &'a CancellationToken,
        #[pin]
        cancelled: Option<WaitForCancellationFuture<'a>>,
    }
}

impl<F: Future> Future for UntilCancelled<'_, F> {
    type Output = Option<F::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        if let Poll::Ready(output) = this.future.poll(cx) {
            return Poll::Ready(Some(output));
        }
        if this.cancelled.is_none() {
            this.cancelled.set(Some(this.token.cancelled()));
        }
        match this
            .cancelled
            .as_pin_mut()
            .map(|cancelled| cancelled.poll(cx))
        {
            Some(Poll::Ready(())) => Poll::Ready(None),
            _ => Poll::Pending,
        }
    }
}

impl<E: Endpoint> Endpoint for Guarded<E> {
    type Output = Response;

    async fn call(&self, request: Request) -> poem::Result<Response> {
        // An operation is served in its trace context (X-Tracectx-* headers), which it
        // answers with its transaction id.
        let Some(operation) = Operation::from_path(request.uri().path()) else {
            let uri = request.uri().clone();
            return self.serve(request, uri.path()).await;
        };
        // The operation's path, not a copy of the request's, for the log line.
        let path = operation.path().unwrap_or_default();
        let (ctx, transaction_id) = TraceCtx::with_response_header(request.headers());
        let mut response = tracectx::run(ctx, self.serve(request, path)).await?;
        if let Some(transaction_id) = transaction_id {
            response
                .headers_mut()
                .insert(tracectx::TRANSACTION_ID_HEADER, transaction_id);
        }
        Ok(response)
    }
}

impl<E: Endpoint> Guarded<E> {
    /// Serves the request: panics caught, errors as the contract's JSON, the log line.
    async fn serve(&self, request: Request, path: &str) -> poem::Result<Response> {
        let method = request.method().clone();
        let started = Instant::now();
        // Boxed: the route's future is large (about 2 KiB), and poem moves the whole
        // endpoint's future into a box of its own for every request: inline, it would be
        // copied with every layer around it (this showed as 8 % of the CPU of a find).
        let route = AssertUnwindSafe(Box::pin(self.inner.call(request))).catch_unwind();
        let served = until_cancelled(&self.hard_stop, route).await;
        let cut = served.is_none();
        let mut response = match served {
            Some(Ok(Ok(response))) => response.into_response(),
            Some(Ok(Err(err))) => ErrorBody::from_poem(&err).into_response(),
            Some(Err(panic)) => panic_response(panic),
            None => ErrorBody::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "the server is shutting down: the request did not finish within `application.shutdown_timeout` and was cancelled",
            )
            .into_response(),
        };
        if cut || response.status() == StatusCode::REQUEST_TIMEOUT {
            // The rest of the body may still be on its way, or the server is closing:
            // this connection is done.
            response.headers_mut().insert(
                poem::http::header::CONNECTION,
                poem::http::HeaderValue::from_static("close"),
            );
        }
        let status = response.status();
        // `elapsed` is only measured for a line that is written.
        if status.is_server_error() {
            tracing::warn!(%method, path, status = status.as_u16(), elapsed = ?started.elapsed(), "request failed");
        } else {
            tracing::debug!(%method, path, status = status.as_u16(), elapsed = ?started.elapsed(), "request");
        }
        Ok(response)
    }
}

/// Whether `path` is one of the operations of an API (the requests served in a trace
/// context).
#[cfg(test)]
fn is_operation(path: &str) -> bool {
    Operation::from_path(path).is_some()
}

fn panic_response(payload: Box<dyn Any + Send + 'static>) -> poem::Response {
    let what = crate::util::panic_message(payload.as_ref());
    tracing::error!(panic = %what, "the driver panicked while handling a request; answered 500");
    ErrorBody::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal error: the driver failed while handling the request",
    )
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_operations_get_a_context() {
        for op in ["create", "delete", "query", "find"] {
            assert!(is_operation(&format!("/api/infrastructure/{op}")), "{op}");
        }
        assert!(is_operation("/api/driver/lifecycle/execute"));
        assert!(is_operation("/api/driver/references/find"));
        for path in [
            "/management/health",
            "/api/infrastructure/openapi.json",
            "/api/infrastructure",
            "/api/infrastructure/createx",
        ] {
            assert!(!is_operation(path), "{path}");
        }
    }
}
