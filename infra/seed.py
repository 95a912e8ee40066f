#!/usr/bin/env python3
"""Creates logalert's AWS resources in a moto server, as template.yaml creates them in AWS.

    AWS_ENDPOINT_URL=http://127.0.0.1:PORT python3 infra/seed.py --sink-url http://127.0.0.1:SINK \
        [--prefix NAME] [--channel NAME=PATH ...] [--destination NAME=JSON ...]
        [--rules-file rules.yaml] [--env-file FILE]

Creates (every name starts with --prefix, default "logalert-<random>", so parallel tests sharing one
moto server never collide):
  - the alerts topic, and an SQS queue subscribed to it (envelope delivery) that sns_bridge.py
    polls to invoke the notifier;
  - the state table (partition key pk S, TTL on expires_at);
  - the dead-letter queues (log-filter, notifier);
  - the webhook secret: JSON map channel -> URL on the Slack sink. Default channels:
      default         -> /hooks/default
      payments-oncall -> /hooks/payments-oncall
    plus any --channel NAME=PATH (e.g. archived=/fail/410/channel_is_archived), and any
    --destination NAME=JSON: a typed entry (docs/destinations.md) whose "url" / "api_url" may be a
    sink path, e.g. oncall={"type":"pagerduty","routing_key":"RK","url":"/pagerduty/v2/enqueue"};
  - logalert's own log groups, and (with --rules-file) the rules override SSM parameter.
Prints the environment both functions need (the runtime contracts of BRIEF/template.yaml) as
shell-quoted KEY=VALUE lines, also written to --env-file.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import uuid

DEFAULT_CHANNELS = {"default": "/hooks/default", "payments-oncall": "/hooks/payments-oncall"}


def on_sink(sink_url: str, entry):
    """A channel's secret entry with sink paths made URLs: "/hooks/x" or {"url": "/teams/x", …}."""
    base = sink_url.rstrip("/")
    if isinstance(entry, str):
        return base + entry
    out = dict(entry)
    for key in ("url", "api_url"):
        if isinstance(out.get(key), str) and out[key].startswith("/"):
            out[key] = base + out[key]
    return out


def seed(prefix: str, sink_url: str, channels: dict, rules_file: str | None) -> dict:
    import boto3

    sns = boto3.client("sns")
    sqs = boto3.client("sqs")
    ddb = boto3.client("dynamodb")
    secrets = boto3.client("secretsmanager")
    logs = boto3.client("logs")

    topic_arn = sns.create_topic(Name=f"{prefix}-alerts")["TopicArn"]

    def queue(name: str) -> tuple[str, str]:
        url = sqs.create_queue(QueueName=f"{prefix}-{name}")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return url, arn

    bridge_url, bridge_arn = queue("notifier-bridge")
    # Envelope (not raw) delivery: the bridge needs MessageId, Subject, attributes, timestamp.
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=bridge_arn,
                  Attributes={"RawMessageDelivery": "false"})
    log_filter_dlq_url, _ = queue("log-filter-dlq")
    notifier_dlq_url, _ = queue("notifier-dlq")

    table = f"{prefix}-state"
    # As template.yaml's StateTable: pk, TTL on expires_at, and the sparse due index the tick queries.
    ddb.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                           {"AttributeName": "due_shard", "AttributeType": "S"},
                                           {"AttributeName": "due_at", "AttributeType": "N"}],
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                     GlobalSecondaryIndexes=[{
                         "IndexName": "due",
                         "KeySchema": [{"AttributeName": "due_shard", "KeyType": "HASH"},
                                       {"AttributeName": "due_at", "KeyType": "RANGE"}],
                         "Projection": {"ProjectionType": "INCLUDE",
                                        "NonKeyAttributes": ["expires_at"]}}])
    ddb.get_waiter("table_exists").wait(TableName=table)
    ddb.update_time_to_live(TableName=table, TimeToLiveSpecification={
        "Enabled": True, "AttributeName": "expires_at"})

    webhooks = {name: on_sink(sink_url, entry) for name, entry in channels.items()}
    secret_arn = secrets.create_secret(Name=f"{prefix}/webhooks",
                                       SecretString=json.dumps(webhooks))["ARN"]

    log_filter_group = f"/logalert/{prefix}/log-filter"
    notifier_group = f"/logalert/{prefix}/slack-notifier"
    for group in (log_filter_group, notifier_group):
        logs.create_log_group(logGroupName=group)

    env = {
        "LOCAL_STACK_PREFIX": prefix,
        # log-filter
        "ALERTS_TOPIC_ARN": topic_arn,
        "STATE_TABLE": table,
        "IGNORE_LOG_GROUPS": f"{log_filter_group},{notifier_group}",
        "METRICS_NAMESPACE": "logalert",
        # slack-notifier
        "WEBHOOKS_SECRET_ID": secret_arn,
        "SLACK_TIMEOUT_MS": "5000",
        # glue
        "BRIDGE_QUEUE_URL": bridge_url,
        "LOG_FILTER_DLQ_URL": log_filter_dlq_url,
        "NOTIFIER_DLQ_URL": notifier_dlq_url,
        "WEBHOOKS_JSON": json.dumps(webhooks, separators=(",", ":")),
    }
    if rules_file:
        ssm = boto3.client("ssm")
        name = f"/{prefix}/rules"
        with open(rules_file, encoding="utf-8") as f:
            ssm.put_parameter(Name=name, Type="String", Value=f.read(), Overwrite=True)
        env["RULES_SSM_PARAMETER"] = name
    return env


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sink-url", required=True, help="Slack sink base URL, http://127.0.0.1:PORT")
    ap.add_argument("--prefix", default=f"logalert-{uuid.uuid4().hex[:8]}")
    ap.add_argument("--channel", action="append", default=[], metavar="NAME=PATH",
                    help="extra channel -> sink path (repeatable)")
    ap.add_argument("--destination", action="append", default=[], metavar="NAME=JSON",
                    help="extra channel -> typed destination entry (repeatable)")
    ap.add_argument("--rules-file", help="rules.yaml to store as the rules override SSM parameter")
    ap.add_argument("--env-file", help="also write the KEY=VALUE lines here")
    args = ap.parse_args(argv)
    if not os.environ.get("AWS_ENDPOINT_URL", "").startswith("http://127.0.0.1:"):
        ap.error("AWS_ENDPOINT_URL must point at a local moto server (http://127.0.0.1:PORT)")

    channels = dict(DEFAULT_CHANNELS)
    for item in args.channel:
        name, sep, path = item.partition("=")
        if not sep or not name or not path.startswith("/"):
            ap.error(f"--channel expects NAME=/path, got {item!r}")
        channels[name] = path
    for item in args.destination:
        name, sep, entry = item.partition("=")
        try:
            parsed = json.loads(entry) if sep and name else None
        except ValueError as e:
            ap.error(f"--destination {name}: not JSON: {e}")
        if not isinstance(parsed, dict) or "type" not in parsed:
            ap.error(f"--destination expects NAME={{\"type\": …}}, got {item!r}")
        channels[name] = parsed
    env = seed(args.prefix, args.sink_url, channels, args.rules_file)
    lines = "".join(f"{k}={shlex.quote(v)}\n" for k, v in env.items())
    sys.stdout.write(lines)
    if args.env_file:
        with open(args.env_file, "a", encoding="utf-8") as f:
            f.write(lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
