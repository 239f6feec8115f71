#!/usr/bin/env python3
"""TLS peers on loopback for the alert notifiers' tests (alert_tls_test.cpp).

https PORT CERT KEY LOG             an HTTPS server: answers 200 to every POST, appends each
                                    request's body to LOG, one line each
smtp PORT CERT KEY LOG [--no-tls]   an SMTP server offering STARTTLS (unless --no-tls) and AUTH;
                                    appends each command it reads to LOG as "clear: …" or "tls: …"

Python's ssl module does the TLS: the client under test meets a real handshake, certificate
chain and host name, not a mock.
"""
import http.server
import socket
import ssl
import sys


def context(cert, key):
    c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    c.load_cert_chain(cert, key)
    return c


def log(path, line):
    with open(path, "a", encoding="utf-8") as f:
        f.write(line + "\n")


def https(port, cert, key, path):
    class Hook(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            log(path, body.decode("utf-8"))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", port), Hook)
    server.socket = context(cert, key).wrap_socket(server.socket, server_side=True)
    print("ready", flush=True)
    server.serve_forever()


def smtp_session(conn, tls, path):
    """Serves one connection; whether the client sent anything."""
    stream = conn.makefile("rb")
    kind = "new"  # "clear" from the first command on: a probe of the port that says nothing is no session

    def reply(text):
        conn.sendall((text + "\r\n").encode())

    reply("220 test ESMTP")
    while True:
        line = stream.readline()
        if not line:
            return kind != "new"
        command = line.decode().rstrip("\r\n")
        kind = "clear" if kind == "new" else kind
        log(path, kind + ": " + command)
        verb = command.split(" ")[0].upper()
        if verb in ("EHLO", "HELO"):
            reply("250-test" + ("\r\n250-STARTTLS" if tls and kind == "clear" else "") + "\r\n250 AUTH PLAIN")
        elif verb == "STARTTLS":
            reply("220 go ahead")
            conn = tls.wrap_socket(conn, server_side=True)
            stream = conn.makefile("rb")
            kind = "tls"
        elif verb == "AUTH":
            reply("235 ok")
        elif verb == "DATA":
            reply("354 go on")
            while True:
                data = stream.readline().decode().rstrip("\r\n")
                if data == ".":
                    break
                log(path, kind + " data: " + data)
            reply("250 queued")
        elif verb == "QUIT":
            reply("221 bye")
            return True
        else:
            reply("250 ok")


def smtp(port, cert, key, path, offer_tls):
    tls = context(cert, key) if offer_tls else None
    listener = socket.create_server(("127.0.0.1", port))
    print("ready", flush=True)
    while True:
        conn, _ = listener.accept()
        said_something = True
        try:
            said_something = smtp_session(conn, tls, path)
        except (OSError, ssl.SSLError) as e:
            log(path, "error: " + str(e))
        finally:
            conn.close()
            if said_something:
                log(path, "closed")


if __name__ == "__main__":
    mode, port, cert, key, path = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
    if mode == "https":
        https(port, cert, key, path)
    else:
        smtp(port, cert, key, path, "--no-tls" not in sys.argv[6:])
