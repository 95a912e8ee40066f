#!/usr/bin/env python3
"""A local stand-in for every destination the notifier delivers to: Slack incoming webhooks, the
Slack Web API (chat.postMessage / chat.update), Teams Workflows, PagerDuty Events v2 and signed
webhooks. Records every request it receives.

    python3 infra/slack_sink.py --port 0 --record sink.jsonl --port-file sink.port

Listens on 127.0.0.1 only. Every POST is appended to the --record file as one JSON line:

    {"seq": 1, "time": 1763780000.123, "path": "/hooks/default", "status": 200,
     "content_type": "application/json", "body": {...parsed JSON...} | null, "raw": "...",
     "headers": {"authorization": "Bearer xoxb-…", "logalert-alert-id": "…", ...},
     "response": {...the JSON answer...} | "ok"}

("headers": the request's Authorization (a bearer token cut to "Bearer xoxb-…"), Content-Type,
Idempotency-Key and Logalert-* headers, names in lower case) and answered the way the destination answers, chosen by the URL path, so one webhook map can
exercise every outcome the notifier must handle:

    /hooks/<anything>           200 "ok"                       (a working webhook)
    /fail/<status>/<error>      <status> "<error>"             e.g. /fail/404/no_service,
                                                               /fail/410/channel_is_archived,
                                                               /fail/400/invalid_payload, /fail/500/rollup_error
    /flaky/<n>/<status>/<error> the first n requests to this path get <status> "<error>",
                                later ones 200 "ok"   (e.g. /flaky/1/500/rollup_error)
    /ratelimit/<n>/<anything>   the first n requests to this path get 429 "rate_limited" with
                                Retry-After: 1, later ones 200 "ok"
    /slow/<ms>/<anything>       waits <ms> milliseconds, then 200 "ok" (client timeouts)
    /slack-api/chat.postMessage the Slack Web API, as Slack answers it: HTTP 200 and
    /slack-api/chat.update      {"ok": true, "channel": …, "ts": "…"} (a new ts per posted message;
                                `thread_ts` must name a posted message, chat.update's `ts` too), or
                                {"ok": false, "error": "not_authed" | "invalid_auth" |
                                "channel_not_found" | "thread_not_found" | "message_not_found"}.
                                The bot token must be "Bearer xoxb-…"; the channel an id (C…).
    /teams/<anything>           202 "" (a Teams Workflow accepts the card; "type" must be "message"
                                with an Adaptive Card attachment, else 400)
    /pagerduty/v2/enqueue       PagerDuty Events v2: 202 {"status":"success","dedup_key":…}, or 400
                                {"status":"invalid event",…} without routing_key/event_action
    /webhook/<anything>         200 "ok" (a receiver; verify the signature from the record)

GET /records returns every recorded request as a JSON list (handy for tests);
GET /health returns 200 "ok". Standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Sink:
    """Recorded requests and per-path counters, shared by the handler threads."""

    def __init__(self, record_path: str | None):
        self.lock = threading.Lock()
        self.records: list[dict] = []
        self.hits: dict[str, int] = {}
        # The fake Slack workspace: ts -> {"channel", "thread_ts", "body"} of every posted message.
        self.slack_messages: dict[str, dict] = {}
        self.record_path = record_path
        if record_path:
            # Truncate: one sink run, one record file.
            open(record_path, "w", encoding="utf-8").close()

    def count_hit(self, path: str) -> int:
        with self.lock:
            self.hits[path] = self.hits.get(path, 0) + 1
            return self.hits[path]

    def record(self, entry: dict) -> None:
        with self.lock:
            entry["seq"] = len(self.records) + 1
            self.records.append(entry)
            if self.record_path:
                with open(self.record_path, "a", encoding="utf-8") as f:
                    f.write(json.dumps(entry, ensure_ascii=False) + "\n")


def respond_for(path: str, hit: int) -> tuple[int, str, dict[str, str], float]:
    """(status, body, extra headers, delay seconds) for a request to `path`, the `hit`-th one."""
    parts = [p for p in path.split("?", 1)[0].split("/") if p]
    if len(parts) >= 3 and parts[0] == "fail" and parts[1].isdigit():
        return int(parts[1]), parts[2], {}, 0.0
    if len(parts) >= 4 and parts[0] == "flaky" and parts[1].isdigit() and parts[2].isdigit():
        if hit <= int(parts[1]):
            return int(parts[2]), parts[3], {}, 0.0
        return 200, "ok", {}, 0.0
    if len(parts) >= 2 and parts[0] == "ratelimit" and parts[1].isdigit():
        if hit <= int(parts[1]):
            return 429, "rate_limited", {"Retry-After": "1"}, 0.0
        return 200, "ok", {}, 0.0
    if len(parts) >= 2 and parts[0] == "slow" and parts[1].isdigit():
        return 200, "ok", {}, int(parts[1]) / 1000.0
    if parts and parts[0] == "hooks":
        return 200, "ok", {}, 0.0
    # Slack answers unknown webhook paths like this.
    return 404, "no_service", {}, 0.0


RECORDED_HEADERS = ("authorization", "idempotency-key", "content-type")


def recorded_headers(headers) -> dict[str, str]:
    """The headers worth asserting on; a bearer token is cut to its scheme and prefix."""
    out = {}
    for k, v in headers.items():
        k = k.lower()
        if k in RECORDED_HEADERS or k.startswith("logalert-"):
            if k == "authorization" and v.startswith("Bearer "):
                v = v[: len("Bearer xoxb-")] + "…"
            out[k] = v
    return out


def slack_web_api(sink: Sink, method: str, headers, body) -> dict:
    """chat.postMessage / chat.update as Slack answers them (HTTP 200, `ok` says how it went)."""
    auth = headers.get("Authorization") or ""
    if not auth:
        return {"ok": False, "error": "not_authed"}
    if not auth.startswith("Bearer xoxb-"):
        return {"ok": False, "error": "invalid_auth"}
    if not isinstance(body, dict):
        return {"ok": False, "error": "invalid_json"}
    channel = body.get("channel")
    if not isinstance(channel, str) or channel[:1] not in ("C", "G", "D"):
        return {"ok": False, "error": "channel_not_found"}
    with sink.lock:
        if method == "chat.postMessage":
            thread_ts = body.get("thread_ts")
            if thread_ts is not None and sink.slack_messages.get(thread_ts, {}).get("channel") != channel:
                return {"ok": False, "error": "thread_not_found"}
            ts = f"{1700000000 + len(sink.slack_messages)}.{len(sink.slack_messages) + 1:06d}"
            sink.slack_messages[ts] = {"channel": channel, "thread_ts": thread_ts, "body": body}
            return {"ok": True, "channel": channel, "ts": ts}
        if method == "chat.update":
            ts = body.get("ts")
            if sink.slack_messages.get(ts, {}).get("channel") != channel:
                return {"ok": False, "error": "message_not_found"}
            sink.slack_messages[ts]["body"] = body
            return {"ok": True, "channel": channel, "ts": ts}
    return {"ok": False, "error": "unknown_method"}


def teams_answer(body) -> tuple[int, str]:
    """A Teams Workflow ("Post to a channel when a webhook request is received")."""
    attachments = body.get("attachments") if isinstance(body, dict) else None
    if (not isinstance(body, dict) or body.get("type") != "message" or not attachments
            or attachments[0].get("contentType") != "application/vnd.microsoft.card.adaptive"):
        return 400, "InvalidRequestContent"
    return 202, ""


def pagerduty_answer(body) -> tuple[int, dict]:
    """PagerDuty Events API v2 (/v2/enqueue)."""
    if not isinstance(body, dict) or not body.get("routing_key"):
        return 400, {"status": "invalid event", "message": "Event object is invalid",
                     "errors": ["'routing_key' is missing."]}
    if body.get("event_action") not in ("trigger", "acknowledge", "resolve"):
        return 400, {"status": "invalid event", "message": "Event object is invalid",
                     "errors": ["'event_action' is invalid."]}
    if body["event_action"] != "trigger" and not body.get("dedup_key"):
        return 400, {"status": "invalid event", "message": "Event object is invalid",
                     "errors": ["'dedup_key' is required for resolve."]}
    return 202, {"status": "success", "message": "Event processed",
                 "dedup_key": body.get("dedup_key") or "generated"}


def make_handler(sink: Sink):
    class Handler(BaseHTTPRequestHandler):
        server_version = "logalert-slack-sink/1"

        def log_message(self, fmt, *args):  # keep stderr quiet; the record file is the log
            pass

        def _send(self, status: int, body: str, headers: dict[str, str] | None = None,
                  content_type: str = "text/plain; charset=utf-8") -> None:
            data = body.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            if self.path == "/health":
                self._send(200, "ok")
            elif self.path == "/records":
                with sink.lock:
                    body = json.dumps(sink.records, ensure_ascii=False)
                self._send(200, body, content_type="application/json")
            else:
                self._send(404, "not found")

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode("utf-8", errors="replace")
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
            hit = sink.count_hit(self.path)
            parts = [p for p in self.path.split("?", 1)[0].split("/") if p]
            content_type = "text/plain; charset=utf-8"
            headers: dict[str, str] = {}
            if parts[:1] == ["slack-api"] and len(parts) == 2:
                status, content_type = 200, "application/json; charset=utf-8"
                text = json.dumps(slack_web_api(sink, parts[1], self.headers, body))
            elif parts[:1] == ["teams"]:
                status, text = teams_answer(body)
            elif parts[:1] == ["pagerduty"]:
                status, answer = pagerduty_answer(body)
                text, content_type = json.dumps(answer), "application/json"
            elif parts[:1] == ["webhook"]:
                status, text = 200, "ok"
            else:
                status, text, headers, delay = respond_for(self.path, hit)
                if delay:
                    time.sleep(delay)
            sink.record({
                "time": time.time(),
                "path": self.path,
                "status": status,
                "content_type": self.headers.get("Content-Type"),
                "headers": recorded_headers(self.headers),
                "body": body,
                "raw": raw,
                "response": json.loads(text) if content_type.startswith("application/json") else text,
            })
            self._send(status, text, headers, content_type)

    return Handler


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0 = any free port)")
    ap.add_argument("--record", help="append each request as a JSON line to this file")
    ap.add_argument("--port-file", help="write the bound port to this file once listening")
    args = ap.parse_args(argv)

    sink = Sink(args.record)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(sink))
    port = server.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(f"{port}\n")
        os.replace(tmp, args.port_file)  # readers never see a half-written file
    print(f"slack sink listening on http://127.0.0.1:{port}", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
