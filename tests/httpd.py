#!/usr/bin/env python3
"""httpd.py - the test suite's own loopback web server (127.0.0.1 only). Serves the files of a
folder, plus routes that misbehave the way real sites do. Prints its port on the first line of
stdout, then serves until killed.
usage: httpd.py FOLDER"""
import http.server, os, socketserver, sys, time

ROOT = sys.argv[1]


class Handler(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *a, **kw):
        super().__init__(*a, directory=ROOT, **kw)

    def log_message(self, *a):
        pass

    def send_body(self, code, ctype, body):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        p = self.path
        try:
            if p == "/endless":                     # never ends: must hit the size cap
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.end_headers()
                chunk = b"<p>" + b"endless text " * 500 + b"</p>\n"
                while True:
                    self.wfile.write(chunk)
            elif p.startswith("/loop"):             # a redirect loop
                self.send_response(302)
                self.send_header("Location", "/loop" + str(len(p)))
                self.end_headers()
            elif p == "/drip":                      # one byte at a time: must hit the time limit
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.end_headers()
                for _ in range(600):
                    self.wfile.write(b"x")
                    self.wfile.flush()
                    time.sleep(0.2)
            elif p == "/gone":
                self.send_body(404, "text/html", b"<html><body>Not found</body></html>")
            elif p == "/paper.pdf":
                self.send_body(200, "application/pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n")
            elif p == "/image.png":
                self.send_body(200, "image/png", b"\x89PNG\r\n\x1a\n" + bytes(64))
            elif p == "/to-private":                # a redirect to a private address
                self.send_response(302)
                self.send_header("Location", "http://10.0.0.1/secret")
                self.end_headers()
            else:
                super().do_GET()
        except (BrokenPipeError, ConnectionResetError):
            pass


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


srv = Server(("127.0.0.1", 0), Handler)
print(srv.server_address[1], flush=True)
srv.serve_forever()
