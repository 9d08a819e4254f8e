"""One OpenStack Heat process for the tests: the engine and the v1 API in one interpreter.

Heat 27 ships no `heat-all`, and oslo.service's launcher forks its workers, after which
the in-memory `fake:/` message transport never reaches the engine (MessagingTimeout). So
this file does what `heat-engine` and the `heat-api` WSGI script do, in one process: it
parses heat.conf, sets up messaging, starts `EngineService` directly (no launcher), and
serves the `heat-api` paste app with a threading WSGI server on 127.0.0.1.

Run by scripts/heat (`start`): python heat-all.py --config-file heat.conf PORT
"""

import sys

from oslo_service import backend

backend.init_backend(backend.BackendType.THREADING)

import socketserver  # noqa: E402
from wsgiref import simple_server  # noqa: E402

from oslo_config import cfg  # noqa: E402
from oslo_log import log as logging  # noqa: E402

from heat.common import config  # noqa: E402
from heat.common import messaging  # noqa: E402
from heat.rpc import api as rpc_api  # noqa: E402
from heat import version  # noqa: E402


class ThreadingWSGIServer(socketserver.ThreadingMixIn, simple_server.WSGIServer):
    """A request per thread: the driver polls while it creates."""

    daemon_threads = True


class QuietHandler(simple_server.WSGIRequestHandler):
    """One access-log line per request on stderr, as wsgiref does, without DNS lookups."""

    def address_string(self):
        return self.client_address[0]


def main():
    port = int(sys.argv.pop())
    logging.register_options(cfg.CONF)
    cfg.CONF(sys.argv[1:], project="heat", prog="heat-all",
             version=version.version_info.version_string())
    logging.setup(cfg.CONF, "heat-all")
    config.set_config_defaults()
    messaging.setup()
    from heat.engine import service as engine  # registers the engine's options

    config.startup_sanity_check()
    engine.EngineService(cfg.CONF.host, rpc_api.ENGINE_TOPIC).start()
    app = config.load_paste_app("heat-api")
    server = simple_server.make_server("127.0.0.1", port, app,
                                       server_class=ThreadingWSGIServer,
                                       handler_class=QuietHandler)
    print(f"heat-all: the engine runs; the API listens on 127.0.0.1:{port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
