#!/usr/bin/env python3
"""Carries SNS messages to the notifier, locally (moto cannot invoke Lambda without Docker).

    python3 infra/sns_bridge.py --queue-url URL --endpoint http://127.0.0.1:PORT \
        [--function slack-notifier] [--dlq-url URL] [--retries 2] [--retry-delay 1] \
        [--idle-exit SECONDS] [--log FILE]

An SQS queue subscribed to the alerts topic (envelope delivery, not raw) receives what SNS would hand
to the notifier. The bridge polls it; for each SNS envelope it builds the Lambda SNS event (one
record, as SNS sends to a Lambda subscriber) and invokes the notifier under `cargo lambda watch`
with asynchronous-invocation semantics: retries on a function error, then an on-failure
destination record to --dlq-url. The SQS message is deleted once handled; a message that could be
neither delivered nor dead-lettered stays in the queue and is retried on the next poll.

Every delivery attempt outcome is appended to --log as a JSON line ({"message_id", "ok",
"dead_lettered", ...}) so tests can wait for "the notifier has seen N messages".
Stops on SIGTERM/SIGINT, or after --idle-exit seconds with an empty queue.
AWS endpoint and credentials come from the environment (AWS_ENDPOINT_URL, ...).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lambda_local import invoke_async, sns_event_from_envelope, sqs_sender  # noqa: E402

_stop = False


def _on_signal(signum, frame):
    global _stop
    _stop = True


def bridge_message(body: str, args, dlq) -> dict:
    """Handle one SQS message body. Returns the log entry; entry["handled"] says whether the
    SQS message may be deleted."""
    try:
        envelope = json.loads(body)
        event = sns_event_from_envelope(envelope)
    except (ValueError, KeyError, TypeError) as e:
        # Not an SNS envelope: nothing the notifier could do with it. Park it, never drop it.
        record = {"bridgeError": f"not an SNS envelope: {e}", "body": body}
        if dlq is not None:
            dlq(record)
        return {"message_id": None, "ok": False, "handled": dlq is not None,
                "dead_lettered": dlq is not None, "error": record["bridgeError"]}
    dead = []

    def dlq_and_note(record):
        dlq(record)
        dead.append(True)

    handled, result = invoke_async(
        args.endpoint, args.function, event, retries=args.retries, retry_delay=args.retry_delay,
        dlq=dlq_and_note if dlq is not None else None,
        log=lambda m: print(m, file=sys.stderr, flush=True))
    return {"message_id": envelope.get("MessageId"), "subject": envelope.get("Subject"),
            "ok": result.ok, "handled": handled, "dead_lettered": bool(dead),
            "status": result.status, "error": result.function_error,
            # The published body, so tests can compare what reached Slack with what was published.
            "message": envelope.get("Message")}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--queue-url", required=True, help="SQS queue subscribed to the alerts topic")
    ap.add_argument("--endpoint", required=True, help="cargo lambda watch URL, http://127.0.0.1:PORT")
    ap.add_argument("--function", default="slack-notifier")
    ap.add_argument("--dlq-url", help="on-failure destination queue (the notifier DLQ)")
    ap.add_argument("--retries", type=int, default=2, help="Lambda async retries (template: 2)")
    ap.add_argument("--retry-delay", type=float, default=1.0,
                    help="seconds between attempts (Lambda waits ~1 min, then ~2 min)")
    ap.add_argument("--idle-exit", type=float, default=0.0,
                    help="exit after this many seconds without messages (0 = run until signalled)")
    ap.add_argument("--log", help="append one JSON line per handled message")
    args = ap.parse_args(argv)

    import boto3

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    sqs = boto3.client("sqs")
    dlq = sqs_sender(args.dlq_url) if args.dlq_url else None
    idle_since = time.monotonic()
    print(f"sns bridge: {args.queue_url} -> {args.endpoint} ({args.function})",
          file=sys.stderr, flush=True)
    while not _stop:
        resp = sqs.receive_message(QueueUrl=args.queue_url, MaxNumberOfMessages=10,
                                   WaitTimeSeconds=1, VisibilityTimeout=10)
        messages = resp.get("Messages", [])
        if not messages:
            if args.idle_exit and time.monotonic() - idle_since >= args.idle_exit:
                break
            continue
        idle_since = time.monotonic()
        for msg in messages:
            entry = bridge_message(msg["Body"], args, dlq)
            if entry["handled"]:
                sqs.delete_message(QueueUrl=args.queue_url, ReceiptHandle=msg["ReceiptHandle"])
            if args.log:
                with open(args.log, "a", encoding="utf-8") as f:
                    f.write(json.dumps(entry) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
