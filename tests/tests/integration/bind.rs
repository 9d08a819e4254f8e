//! The addresses the server listens on (`application.host`): both loopbacks by default
//! (IPv6 and IPv4), exactly the one configured otherwise, and a host that is not an IP
//! address stops start-up. (The same over HTTPS: `tls.rs`.)

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use ignition::{BootError, ListenError};
use ignition_tests::{scripted_app, RawClient};

/// Whether a plain HTTP health request to `address` answers 200.
async fn answers(address: SocketAddr) -> bool {
    let client = RawClient::new(format!("http://{address}"));
    matches!(client.health(Duration::from_secs(5)).await, Ok((200, _)))
}

/// `127.0.0.1:port`
pub(crate) fn v4(port: u16) -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, port))
}

/// `[::1]:port`
pub(crate) fn v6(port: u16) -> SocketAddr {
    SocketAddr::from((Ipv6Addr::LOCALHOST, port))
}

#[tokio::test]
async fn by_default_the_server_answers_on_ipv6_and_ipv4_loopback() {
    if std::net::TcpListener::bind(v6(0)).is_err() {
        panic!(
            "this machine has no IPv6 loopback (::1): the dual-stack default cannot be tested here"
        );
    }
    let (app, _) = scripted_app();
    let app = app.start().await.unwrap();
    let port = app.local_addr().port();
    assert!(
        app.local_addr().ip().is_unspecified(),
        "{}",
        app.local_addr()
    );
    assert!(answers(v6(port)).await, "[::1]:{port}");
    assert!(answers(v4(port)).await, "127.0.0.1:{port}");
    app.shutdown().await;
}

#[tokio::test]
async fn application_host_picks_the_address() {
    for (host, listens_on, on_v6, on_v4) in [
        ("::1", "::1", true, false),
        ("[::1]", "::1", true, false),
        ("127.0.0.1", "127.0.0.1", false, true),
        ("::", "::", true, true),
        ("0.0.0.0", "0.0.0.0", false, true),
    ] {
        let (app, _) = scripted_app();
        let app = app
            .property("application.host", host)
            .start()
            .await
            .unwrap_or_else(|err| panic!("{host}: {err}"));
        assert_eq!(app.local_addr().ip().to_string(), listens_on, "{host}");
        let port = app.local_addr().port();
        assert_eq!(answers(v6(port)).await, on_v6, "{host} on [::1]:{port}");
        assert_eq!(answers(v4(port)).await, on_v4, "{host} on 127.0.0.1:{port}");
        app.shutdown().await;
    }
}

#[tokio::test]
async fn application_host_that_is_not_an_address_stops_start_up() {
    let (app, _) = scripted_app();
    let err = app
        .property("application.host", "my-host")
        .start()
        .await
        .expect_err("not an IP address");
    assert!(
        matches!(err, BootError::Listen(ListenError::Host { .. })),
        "{err:?}"
    );
    assert!(err.to_string().contains("application.host"), "{err}");
}
