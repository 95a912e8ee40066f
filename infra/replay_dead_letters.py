#!/usr/bin/env python3
"""Replays logalert's dead letters: takes each message off a dead-letter queue and hands the event
inside it back to the function that failed, deleting the message only once that hand-over worked.

    python3 infra/replay_dead_letters.py --queue-url URL --function NAME [--dry-run] [--max N]
        [--lambda-endpoint http://127.0.0.1:PORT]

Understands the three kinds of message logalert's queues hold (docs/deploy.md, "Dead letters"):
  - Lambda on-failure destination records ({"requestContext": ..., "requestPayload": EVENT, ...},
    log-filter and slack-notifier DLQs): EVENT is invoked again, unchanged;
  - SNS subscription redrive messages (an SNS notification envelope, the notifier subscription
    DLQ): the notifier is invoked with the SNS event SNS would have sent;
  - Kinesis event source mapping failure records ({"KinesisBatchInfo": {...}}, log-filter DLQ in
    Kinesis mode): the records between startSequenceNumber and endSequenceNumber are read back from
    the shard (possible while the stream still retains them, 24 h by default) and invoked as a
    Kinesis event.
Against AWS the function is invoked asynchronously (InvocationType=Event): it gets Lambda's
retries and on-failure destination again, so nothing is lost if it fails again. With
--lambda-endpoint (the local stack's `cargo lambda watch`) it is invoked synchronously.
--dry-run prints what would be replayed and leaves the queue untouched.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lambda_local import invoke, sns_event_from_envelope  # noqa: E402


def kinesis_event(batch: dict, kinesis) -> dict:
    """Rebuild the Kinesis event for a failed batch from the stream itself."""
    stream_arn, shard = batch["streamArn"], batch["shardId"]
    start, end = int(batch["startSequenceNumber"]), int(batch["endSequenceNumber"])
    it = kinesis.get_shard_iterator(StreamARN=stream_arn, ShardId=shard,
                                    ShardIteratorType="AT_SEQUENCE_NUMBER",
                                    StartingSequenceNumber=str(start))["ShardIterator"]
    records = []
    region = stream_arn.split(":")[3]
    for _ in range(10_000):  # bounded: a batch is at most 10,000 records
        resp = kinesis.get_records(ShardIterator=it, Limit=1000, StreamARN=stream_arn)
        for r in resp["Records"]:
            if int(r["SequenceNumber"]) > end:
                return {"Records": records}
            records.append({
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": r["PartitionKey"],
                    "sequenceNumber": r["SequenceNumber"],
                    "data": base64.b64encode(r["Data"]).decode("ascii"),
                    "approximateArrivalTimestamp": r["ApproximateArrivalTimestamp"].timestamp(),
                },
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": f"{shard}:{r['SequenceNumber']}",
                "eventName": "aws:kinesis:record",
                "invokeIdentityArn": "",
                "awsRegion": region,
                "eventSourceARN": stream_arn,
            })
        it = resp.get("NextShardIterator")
        if not it or (not resp["Records"] and resp.get("MillisBehindLatest", 0) == 0):
            break
    return {"Records": records}


def event_for(body: dict, kinesis_client) -> tuple[str, dict]:
    """(kind, event to invoke) for one dead letter."""
    if "requestPayload" in body and "requestContext" in body:
        return "lambda-destination", body["requestPayload"]
    if body.get("Type") == "Notification" and "Message" in body and "MessageId" in body:
        return "sns-redrive", sns_event_from_envelope(body, "replay")
    if "KinesisBatchInfo" in body:
        return "kinesis-batch", kinesis_event(body["KinesisBatchInfo"], kinesis_client())
    raise ValueError("not a logalert dead letter (no requestPayload, SNS envelope or KinesisBatchInfo)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--queue-url", required=True)
    ap.add_argument("--function", required=True, help="function name or ARN to hand events back to")
    ap.add_argument("--lambda-endpoint", help="local cargo lambda watch URL (synchronous invoke)")
    ap.add_argument("--dry-run", action="store_true")
    ap.add_argument("--max", type=int, default=0, help="stop after N messages (0 = until empty)")
    args = ap.parse_args(argv)

    import boto3

    sqs = boto3.client("sqs")
    lam = None if args.lambda_endpoint else boto3.client("lambda")
    kinesis_client = lambda: boto3.client("kinesis")  # noqa: E731 - only built when needed
    done = failed = 0
    seen = set()
    while not args.max or done + failed < args.max:
        msgs = sqs.receive_message(QueueUrl=args.queue_url, MaxNumberOfMessages=1,
                                   WaitTimeSeconds=1, VisibilityTimeout=60).get("Messages", [])
        if not msgs:
            break
        msg = msgs[0]
        if msg["MessageId"] in seen:  # came back around (dry run, or a failed replay)
            break
        seen.add(msg["MessageId"])
        try:
            kind, event = event_for(json.loads(msg["Body"]), kinesis_client)
        except (ValueError, KeyError) as e:
            print(f"skip {msg['MessageId']}: {e}", file=sys.stderr)
            failed += 1
            continue
        if args.dry_run:
            print(json.dumps({"message_id": msg["MessageId"], "kind": kind, "event": event})[:2000])
            done += 1
            continue
        if args.lambda_endpoint:
            result = invoke(args.lambda_endpoint, args.function, event)
            ok = result.ok
            detail = f"{result.function_error}: {json.dumps(result.payload)[:300]}"
        else:
            resp = lam.invoke(FunctionName=args.function, InvocationType="Event",
                              Payload=json.dumps(event).encode("utf-8"))
            ok = resp["StatusCode"] == 202
            detail = f"status {resp['StatusCode']}"
        if ok:
            sqs.delete_message(QueueUrl=args.queue_url, ReceiptHandle=msg["ReceiptHandle"])
            print(f"replayed {msg['MessageId']} ({kind})", file=sys.stderr)
            done += 1
        else:
            print(f"replay of {msg['MessageId']} ({kind}) failed, left in the queue: {detail}",
                  file=sys.stderr)
            failed += 1
    print(f"{done} replayed, {failed} not replayed", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
