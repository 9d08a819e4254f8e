"""Keystone's public API (v3) for the tests, served by a threading WSGI server on 127.0.0.1.

Run by scripts/heat (`start`): python heat-keystone.py KEYSTONE_CONF PORT
"""

import os
import socketserver
import sys
from wsgiref import simple_server


class ThreadingWSGIServer(socketserver.ThreadingMixIn, simple_server.WSGIServer):
    """A request per thread."""

    daemon_threads = True


class Handler(simple_server.WSGIRequestHandler):
    """wsgiref's access log on stderr, without DNS lookups."""

    def address_string(self):
        return self.client_address[0]


def main():
    conf, port = sys.argv[1], int(sys.argv[2])
    os.environ["OS_KEYSTONE_CONFIG_FILES"] = conf
    del sys.argv[1:]  # keystone parses the command line too
    from keystone.server import wsgi  # reads the configuration named above

    app = wsgi.initialize_public_application()
    server = simple_server.make_server("127.0.0.1", port, app,
                                       server_class=ThreadingWSGIServer, handler_class=Handler)
    print(f"heat-keystone: Keystone listens on 127.0.0.1:{port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
