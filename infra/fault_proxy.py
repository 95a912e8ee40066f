#!/usr/bin/env python3
"""A reverse proxy in front of moto that can lose an answer after the request has taken effect.

    python3 infra/fault_proxy.py --upstream http://127.0.0.1:MOTO_PORT --port 0 --port-file FILE \
        [--log FILE]

The functions under `cargo lambda watch` reach SNS through it (`AWS_ENDPOINT_URL_SNS`), so a test
can reproduce the failure no in-process mock shows honestly: SNS accepted a Publish, and the
publisher never learnt it (the connection dropped, the function timed out or crashed before it
recorded the publication as sent). To the publisher it is a failed call; to every subscriber it is
a delivered message. Whatever the publisher does next (the SDK's retry, the invocation's retry, the
next tick publishing its outbox) sends the same alert again; the notifier must post it once.

Control (on the proxy's own port, never forwarded):

    POST /__fault__  {"lose_publish_answers": N}   the next N SNS Publish requests are forwarded
                                                   to moto, and the connection is then closed
                                                   without an answer
    GET  /__fault__                                {"lose_publish_answers": left, "lost": total,
                                                    "forwarded": total}

Every other request is forwarded unchanged, its answer returned unchanged. Listens on 127.0.0.1
only. Standard library only.
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Hop-by-hop headers (RFC 9110 §7.6.1) are not forwarded.
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "te", "trailer",
              "transfer-encoding", "upgrade"}


class Faults:
    """What the proxy has been told to break, shared by the handler threads."""

    def __init__(self, log_path: str | None):
        self.lock = threading.Lock()
        self.lose_publish_answers = 0
        self.lost = 0
        self.forwarded = 0
        self.log_path = log_path

    def take_loss(self) -> bool:
        with self.lock:
            if self.lose_publish_answers > 0:
                self.lose_publish_answers -= 1
                self.lost += 1
                return True
            return False

    def state(self) -> dict:
        with self.lock:
            return {"lose_publish_answers": self.lose_publish_answers, "lost": self.lost,
                    "forwarded": self.forwarded}

    def note(self, entry: dict) -> None:
        if not self.log_path:
            return
        with self.lock, open(self.log_path, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")


def is_publish(body: bytes, headers) -> bool:
    """An SNS Publish or PublishBatch (the query protocol's form body, or the JSON protocol)."""
    target = headers.get("X-Amz-Target", "")
    if target.endswith(".Publish") or target.endswith(".PublishBatch"):
        return True
    try:
        form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
    except ValueError:
        return False
    return form.get("Action", [""])[0] in ("Publish", "PublishBatch")


def make_handler(upstream: urllib.parse.SplitResult, faults: Faults):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):  # quiet: the test reads the log file instead
            pass

        def _body(self) -> bytes:
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _answer_json(self, status: int, value) -> None:
            data = json.dumps(value).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _control(self, body: bytes) -> None:
            if self.command == "POST":
                try:
                    n = int(json.loads(body or b"{}").get("lose_publish_answers", 0))
                except (ValueError, AttributeError, TypeError) as e:
                    self._answer_json(400, {"error": f"bad control body: {e}"})
                    return
                with faults.lock:
                    faults.lose_publish_answers = max(0, n)
            self._answer_json(200, faults.state())

        def _forward(self) -> None:
            body = self._body()
            if self.path.startswith("/__fault__"):
                self._control(body)
                return
            publish = is_publish(body, self.headers)
            conn = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=60)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            try:
                conn.request(self.command, self.path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
            except OSError as e:
                self._answer_json(502, {"error": f"upstream: {e}"})
                return
            finally:
                conn.close()
            with faults.lock:
                faults.forwarded += 1
            if publish and faults.take_loss():
                # Moto has the message (its subscribers get it); the caller gets no answer.
                faults.note({"lost": True, "path": self.path, "upstream_status": resp.status})
                self.close_connection = True
                try:
                    self.connection.shutdown(2)
                except OSError:
                    pass
                return
            self.send_response(resp.status)
            for k, v in resp.getheaders():
                if k.lower() not in HOP_BY_HOP and k.lower() != "content-length":
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _forward

    return Handler


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--upstream", required=True, help="moto's URL, e.g. http://127.0.0.1:5000")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", help="write the port listened on here")
    ap.add_argument("--log", help="append one JSON line per lost answer")
    args = ap.parse_args()
    upstream = urllib.parse.urlsplit(args.upstream)
    if upstream.hostname not in ("127.0.0.1", "localhost", "::1"):
        print("fault_proxy: the upstream must be on loopback", file=sys.stderr)
        return 2
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(upstream, Faults(args.log)))
    if args.port_file:
        with open(args.port_file, "w", encoding="utf-8") as f:
            f.write(str(server.server_address[1]))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
