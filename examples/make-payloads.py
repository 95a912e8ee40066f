#!/usr/bin/env python3
"""Regenerates examples/payloads/* (deterministic). Run from the repository root."""
import base64, gzip, json, os

OUT = "examples/payloads"
T0 = 1795600800000  # 2026-11-25T10:00:00Z


def payload(group, stream, events, owner="123456789012"):
    return {"messageType": "DATA_MESSAGE", "owner": owner, "logGroup": group, "logStream": stream,
            "subscriptionFilters": ["logalert"],
            "logEvents": [{"id": str(36000000000000000000000000000000000000000000000000000000 + i + base),
                           "timestamp": ts, "message": msg} for i, (ts, msg) in enumerate(events)
                          for base in [sum(group.encode()) * 10**6]]}


def encode(obj):
    return base64.b64encode(gzip.compress(json.dumps(obj).encode(), mtime=0)).decode()


def write(name, obj):
    with open(os.path.join(OUT, name), "w") as f:
        json.dump(obj, f, indent=1)
        f.write("\n")


# 1. payments API (JSON logs), direct subscription delivery.
pay = []
for i in range(12):
    ts = T0 + i * 4000
    if i in (2, 3, 7, 9, 10):
        code = "CARD_DECLINED" if i != 9 else "GATEWAY_TIMEOUT"
        pay.append((ts, json.dumps({"level": "ERROR", "errorCode": code, "user": f"u-{100 + i}",
                                    "requestId": f"req-{i:04d}", "errorMessage": f"charge failed: {code.lower()}",
                                    "amount": 1999 + i})))
    else:
        pay.append((ts, json.dumps({"level": "INFO", "msg": "charge ok", "requestId": f"req-{i:04d}",
                                    "latencyMs": 80 + i})))
pay.append((T0 + 50000, "2026-11-25T10:00:50.000Z\treq-0099\tTask timed out after 6.00 seconds"))
write("01-payments-api.direct.json",
      {"awslogs": {"data": encode(payload("/aws/lambda/payments-api", "2026/11/25/[$LATEST]a1b2c3", pay))}})

# 2. auth service (JSON logs), already-decoded payload: 6 failed logins for alice in 40 s, 2 for bob.
auth = []
for i in range(6):
    auth.append((T0 + 10000 + i * 7000, json.dumps({"event": "login_failed", "user": "alice", "ip": "203.0.113.7"})))
for i in range(2):
    auth.append((T0 + 12000 + i * 9000, json.dumps({"event": "login_failed", "user": "bob", "ip": "198.51.100.4"})))
auth.append((T0 + 30000, json.dumps({"event": "login_ok", "user": "carol"})))
auth.sort()
write("02-auth.decoded.json", payload("/aws/lambda/auth-service", "2026/11/25/[$LATEST]d4e5f6", auth))

# 3. orders worker (text logs) through Kinesis: two records from two streams.
recs = []
for n, stream in enumerate(["orders-worker/app/7f1e", "orders-worker/app/9c2a"]):
    lines = [
        (T0 + 60000 + n * 1000, "2026-11-25 10:01:00 INFO processing order 5512"),
        (T0 + 61000 + n * 1000, "2026-11-25 10:01:01 ERROR db connection reset, retrying"),
        (T0 + 62000 + n * 1000, f"2026-11-25 10:01:02 ERROR order {5512 + n} failed: inventory service returned 503"),
        (T0 + 63000 + n * 1000, "2026-11-25 10:01:03 WARN slow query 2300ms"),
    ]
    if n == 1:
        lines.append((T0 + 64000 + n * 1000, "java.lang.OutOfMemoryError: Java heap space"))
    data = encode(payload("/ecs/orders-worker", stream, lines))
    recs.append({"kinesis": {"kinesisSchemaVersion": "1.0", "partitionKey": stream,
                             "sequenceNumber": f"4959000000000000000000000000000000000000000000000000000{n}",
                             "data": data, "approximateArrivalTimestamp": (T0 + 70000) / 1000},
                 "eventSource": "aws:kinesis", "eventVersion": "1.0",
                 "eventID": f"shardId-000000000000:4959{n}", "eventName": "aws:kinesis:record",
                 "awsRegion": "us-east-1",
                 "eventSourceARN": "arn:aws:kinesis:us-east-1:123456789012:stream/logalert-logs"})
write("03-orders-worker.kinesis.json", {"Records": recs})

# 4. a CONTROL_MESSAGE (acknowledged, ignored).
write("04-control-message.json", {"awslogs": {"data": encode({
    "messageType": "CONTROL_MESSAGE", "owner": "CloudwatchLogs", "logGroup": "", "logStream": "",
    "subscriptionFilters": [], "logEvents": [{"id": "", "timestamp": T0,
                                              "message": "CWL CONTROL MESSAGE: Checking health of destination Kinesis stream."}]})}})
