#!/usr/bin/env python3
"""Invoke functions served by `cargo lambda watch` the way AWS invokes them in production.

Library (used by sns_bridge.py and replay_dead_letters.py) and a small CLI:

    python3 infra/lambda_local.py invoke --endpoint http://127.0.0.1:9000 --function log-filter \
        [--async --retries 2 --retry-delay 1 --dlq-url URL] FILE...

Each FILE is one event (JSON). Synchronous invocation prints the function's response. With --async it
behaves like Lambda's asynchronous invocation (what CloudWatch Logs and SNS use): on a function
error it retries --retries times, and after the last failure sends an on-failure destination record
(the same JSON shape Lambda sends to an SQS destination) to --dlq-url. Exit status 0 if every event
was handled or dead-lettered, 1 if one could be neither.

The watch endpoint is Lambda's Invoke API: POST /2015-03-31/functions/NAME/invocations.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
import urllib.error
import urllib.request
import uuid

ACCOUNT = "123456789012"  # moto's account id
REGION = "us-east-1"


class InvokeResult:
    """What one invocation returned: ok, HTTP status, parsed payload (or raw text), error type."""

    def __init__(self, ok: bool, status: int, payload, function_error: str | None):
        self.ok = ok
        self.status = status
        self.payload = payload
        self.function_error = function_error

    def __repr__(self) -> str:
        return f"InvokeResult(ok={self.ok}, status={self.status}, error={self.function_error!r})"


def function_arn(name: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


def invoke(endpoint: str, function: str, event, timeout: float = 300.0) -> InvokeResult:
    """Synchronous Invoke (RequestResponse). A function error (unhandled error, or the
    X-Amz-Function-Error header) and a transport error both come back as ok=False."""
    url = f"{endpoint.rstrip('/')}/2015-03-31/functions/{function}/invocations"
    data = event if isinstance(event, bytes) else json.dumps(event).encode("utf-8")
    req = urllib.request.Request(url, data=data, method="POST",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            status = resp.status
            body = resp.read().decode("utf-8", errors="replace")
            function_error = resp.headers.get("X-Amz-Function-Error")
    except urllib.error.HTTPError as e:
        status = e.code
        body = e.read().decode("utf-8", errors="replace")
        function_error = e.headers.get("X-Amz-Function-Error") or "Unhandled"
    except (urllib.error.URLError, OSError) as e:
        return InvokeResult(False, 0, {"errorType": "InvokeTransportError",
                                       "errorMessage": str(e)}, "Transport")
    try:
        payload = json.loads(body) if body else None
    except ValueError:
        payload = body
    ok = 200 <= status < 300 and not function_error
    return InvokeResult(ok, status, payload, function_error)


def destination_record(function: str, event, result: InvokeResult, attempts: int,
                       condition: str = "RetriesExhausted") -> dict:
    """The record Lambda sends to an SQS on-failure destination after an asynchronous invocation
    failed for good (see docs/deploy.md, "Dead letters")."""
    now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {
        "version": "1.0",
        "timestamp": now,
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "functionArn": function_arn(function) + ":$LATEST",
            "condition": condition,
            "approximateInvokeCount": attempts,
        },
        "requestPayload": event,
        "responseContext": {
            "statusCode": result.status or 200,
            "executedVersion": "$LATEST",
            "functionError": result.function_error or "Unhandled",
        },
        "responsePayload": result.payload,
    }


def invoke_async(endpoint: str, function: str, event, *, retries: int = 2,
                 retry_delay: float = 1.0, dlq=None, log=print) -> tuple[bool, InvokeResult]:
    """Lambda asynchronous-invocation semantics, locally: 1 + `retries` attempts, then the
    destination record goes to `dlq` (a callable taking the record dict), if given.
    Returns (handled, last result): handled is True on success or when dead-lettered."""
    attempts = 0
    result = None
    for attempt in range(retries + 1):
        attempts += 1
        result = invoke(endpoint, function, event)
        if result.ok:
            return True, result
        log(f"{function}: attempt {attempts} failed: {result.function_error}: "
            f"{json.dumps(result.payload)[:300]}")
        if attempt < retries:
            time.sleep(retry_delay)
    if result.function_error == "Transport":
        # The function could not be reached at all (watch not running). AWS keeps such events
        # queued rather than dead-lettering them; so do we: the caller leaves it for a later try.
        return False, result
    if dlq is not None:
        dlq(destination_record(function, event, result, attempts))
        log(f"{function}: dead-lettered after {attempts} attempts")
        return True, result
    return False, result


def sqs_sender(queue_url: str):
    """A dlq callable that sends the record to an SQS queue (moto, through AWS_ENDPOINT_URL)."""
    import boto3  # only needed when a queue is used

    sqs = boto3.client("sqs")

    def send(record: dict) -> None:
        sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(record))

    return send


def sns_event_from_envelope(envelope: dict, subscription_suffix: str = "local-bridge") -> dict:
    """The Lambda SNS event (as SNS builds it for a Lambda subscriber) for one SNS notification
    envelope (as SNS delivers it to an SQS subscriber without raw delivery)."""
    attrs = {}
    for name, attr in (envelope.get("MessageAttributes") or {}).items():
        attrs[name] = {"Type": attr.get("Type", "String"), "Value": attr.get("Value", "")}
    topic = envelope.get("TopicArn", "")
    return {
        "Records": [{
            "EventSource": "aws:sns",
            "EventVersion": "1.0",
            "EventSubscriptionArn": f"{topic}:{subscription_suffix}",
            "Sns": {
                "Type": envelope.get("Type", "Notification"),
                "MessageId": envelope["MessageId"],
                "TopicArn": topic,
                "Subject": envelope.get("Subject"),
                "Message": envelope["Message"],
                "Timestamp": envelope.get("Timestamp")
                or dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                "SignatureVersion": envelope.get("SignatureVersion", "1"),
                "Signature": envelope.get("Signature", "EXAMPLE"),
                "SigningCertUrl": envelope.get("SigningCertURL", "EXAMPLE"),
                "UnsubscribeUrl": envelope.get("UnsubscribeURL", "EXAMPLE"),
                "MessageAttributes": attrs,
            },
        }]
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Invoke a function under cargo lambda watch.")
    sub = ap.add_subparsers(dest="cmd", required=True)
    inv = sub.add_parser("invoke", help="invoke a function with each event file")
    inv.add_argument("--endpoint", required=True, help="cargo lambda watch URL, http://127.0.0.1:PORT")
    inv.add_argument("--function", required=True, help="function (package) name")
    inv.add_argument("--async", dest="asynchronous", action="store_true",
                     help="asynchronous-invocation semantics: retries, then --dlq-url")
    inv.add_argument("--retries", type=int, default=2)
    inv.add_argument("--retry-delay", type=float, default=1.0)
    inv.add_argument("--dlq-url", help="SQS queue for the on-failure destination record")
    inv.add_argument("files", nargs="+")
    args = ap.parse_args(argv)

    failed = 0
    dlq = sqs_sender(args.dlq_url) if args.dlq_url else None
    for path in args.files:
        with open(path, "rb") as f:
            event = json.load(f)
        if args.asynchronous:
            handled, result = invoke_async(args.endpoint, args.function, event,
                                           retries=args.retries, retry_delay=args.retry_delay,
                                           dlq=dlq, log=lambda m: print(m, file=sys.stderr))
            print(json.dumps({"file": path, "ok": result.ok, "handled": handled,
                              "response": result.payload}))
            failed += 0 if handled else 1
        else:
            result = invoke(args.endpoint, args.function, event)
            print(json.dumps({"file": path, "ok": result.ok, "status": result.status,
                              "error": result.function_error, "response": result.payload}))
            failed += 0 if result.ok else 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
