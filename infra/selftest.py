#!/usr/bin/env python3
"""Tests of the local-stack glue (infra/*.py) against a real moto server and real HTTP servers.

    scripts/with-moto .venv/bin/python infra/selftest.py

Needs AWS_ENDPOINT_URL (moto on loopback; scripts/with-moto sets it). The Lambda side is a small
HTTP server speaking the Invoke API (POST /2015-03-31/functions/NAME/invocations), standing in for
`cargo lambda watch` so the glue can be tested before and independently of the functions; the
end-to-end tests with the real functions live in tests/. Ends with "N passed, N failed".
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import fault_proxy  # noqa: E402
import lambda_local  # noqa: E402
import replay_dead_letters  # noqa: E402
import seed  # noqa: E402
import slack_sink  # noqa: E402

if not os.environ.get("AWS_ENDPOINT_URL"):
    raise SystemExit("AWS_ENDPOINT_URL is unset: run through scripts/with-moto or scripts/test")

import boto3  # noqa: E402
import botocore.config  # noqa: E402
import botocore.exceptions  # noqa: E402


class FakeFunctions:
    """Invoke API on 127.0.0.1: records each event per function; answers with a function error when
    the event's JSON contains "FAIL" or the function is in `failing`."""

    def __init__(self):
        self.events: dict[str, list] = {}
        self.failing: set[str] = set()
        outer = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                name = self.path.split("/")[3]
                outer.events.setdefault(name, []).append(json.loads(raw))
                if b"FAIL" in raw or name in outer.failing:
                    body = json.dumps({"errorType": "Boom", "errorMessage": "failed on purpose"})
                    self.send_response(200)
                    self.send_header("X-Amz-Function-Error", "Unhandled")
                else:
                    body = "null"
                    self.send_response(200)
                data = body.encode()
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def drain(queue_url: str) -> list[dict]:
    sqs = boto3.client("sqs")
    out = []
    while True:
        msgs = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10,
                                   WaitTimeSeconds=0).get("Messages", [])
        if not msgs:
            return out
        for m in msgs:
            out.append(json.loads(m["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])


def post(url: str, body: dict) -> tuple[int, str, dict]:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read().decode(), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(), dict(e.headers)


class SlackSinkTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp()
        cls.record = os.path.join(cls.dir, "slack.jsonl")
        cls.sink = slack_sink.Sink(cls.record)
        cls.server = ThreadingHTTPServer(("127.0.0.1", 0), slack_sink.make_handler(cls.sink))
        cls.url = f"http://127.0.0.1:{cls.server.server_address[1]}"
        threading.Thread(target=cls.server.serve_forever, daemon=True).start()

    @classmethod
    def tearDownClass(cls):
        cls.server.shutdown()
        cls.server.server_close()

    def test_records_json_and_answers_ok(self):
        status, text, _ = post(self.url + "/hooks/default", {"text": "db down <!channel>"})
        self.assertEqual((status, text), (200, "ok"))
        with open(self.record, encoding="utf-8") as f:
            lines = [json.loads(x) for x in f]
        self.assertIn({"text": "db down <!channel>"}, [x["body"] for x in lines])

    def test_permanent_failures_answer_like_slack(self):
        self.assertEqual(post(self.url + "/fail/410/channel_is_archived", {})[:2],
                         (410, "channel_is_archived"))
        self.assertEqual(post(self.url + "/fail/404/no_service", {})[:2], (404, "no_service"))
        self.assertEqual(post(self.url + "/unknown", {})[:2], (404, "no_service"))

    def test_rate_limit_then_ok(self):
        path = f"/ratelimit/2/{uuid.uuid4().hex}"
        first = post(self.url + path, {})
        self.assertEqual(first[:2], (429, "rate_limited"))
        self.assertEqual(first[2].get("Retry-After"), "1")
        self.assertEqual(post(self.url + path, {})[0], 429)
        self.assertEqual(post(self.url + path, {})[:2], (200, "ok"))


    def slack_api(self, method: str, body: dict, token: str | None = "xoxb-selftest") -> dict:
        req = urllib.request.Request(self.url + "/slack-api/" + method, data=json.dumps(body).encode(),
                                     method="POST", headers={"Content-Type": "application/json"})
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        with urllib.request.urlopen(req, timeout=10) as r:
            self.assertEqual(r.status, 200)  # the Web API says how it went in `ok`
            return json.loads(r.read())

    def test_slack_web_api_threads_and_updates(self):
        parent = self.slack_api("chat.postMessage", {"channel": "C0SELFTEST", "text": "first"})
        self.assertTrue(parent["ok"], parent)
        reply = self.slack_api("chat.postMessage", {"channel": "C0SELFTEST", "text": "again",
                                                    "thread_ts": parent["ts"]})
        self.assertTrue(reply["ok"], reply)
        self.assertNotEqual(reply["ts"], parent["ts"])
        updated = self.slack_api("chat.update", {"channel": "C0SELFTEST", "ts": parent["ts"],
                                                 "text": "edited"})
        self.assertEqual((updated["ok"], updated["ts"]), (True, parent["ts"]))
        self.assertEqual(self.sink.slack_messages[parent["ts"]]["body"]["text"], "edited")
        self.assertEqual(self.sink.slack_messages[reply["ts"]]["thread_ts"], parent["ts"])
        # What Slack refuses.
        self.assertEqual(self.slack_api("chat.postMessage", {"channel": "C0SELFTEST"}, token=None)
                         ["error"], "not_authed")
        self.assertEqual(self.slack_api("chat.postMessage", {"channel": "C1"}, token="xoxp-user")
                         ["error"], "invalid_auth")
        self.assertEqual(self.slack_api("chat.postMessage", {"channel": "#general"})["error"],
                         "channel_not_found")
        self.assertEqual(self.slack_api("chat.postMessage", {"channel": "C0SELFTEST",
                                                             "thread_ts": "1.2"})["error"],
                         "thread_not_found")
        self.assertEqual(self.slack_api("chat.update", {"channel": "C0OTHER", "ts": parent["ts"]})
                         ["error"], "message_not_found")
        # Recorded with the path, the answer, and the token cut to its prefix.
        with open(self.record, encoding="utf-8") as f:
            rec = [json.loads(x) for x in f if "C0SELFTEST" in x][0]
        self.assertEqual(rec["path"], "/slack-api/chat.postMessage")
        self.assertEqual(rec["response"]["ts"], parent["ts"])
        self.assertEqual(rec["headers"]["authorization"], "Bearer xoxb-…")

    def test_teams_pagerduty_and_webhook_answer_as_they_do(self):
        card = {"type": "message", "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "content": {}}]}
        self.assertEqual(post(self.url + "/teams/ops", card)[0], 202)
        self.assertEqual(post(self.url + "/teams/ops", {"text": "connector-style"})[0], 400)
        status, text, _ = post(self.url + "/pagerduty/v2/enqueue",
                               {"routing_key": "RK", "event_action": "trigger", "dedup_key": "i-1"})
        self.assertEqual((status, json.loads(text)["dedup_key"]), (202, "i-1"))
        self.assertEqual(post(self.url + "/pagerduty/v2/enqueue", {"event_action": "trigger"})[0],
                         400)
        self.assertEqual(post(self.url + "/pagerduty/v2/enqueue",
                              {"routing_key": "RK", "event_action": "resolve"})[0], 400)
        req = urllib.request.Request(self.url + "/webhook/archive", data=b'{"a":1}', method="POST",
                                     headers={"Content-Type": "application/json",
                                              "Logalert-Alert-Id": "a-1",
                                              "Logalert-Signature": "v1=00"})
        with urllib.request.urlopen(req, timeout=10) as r:
            self.assertEqual(r.status, 200)
        with open(self.record, encoding="utf-8") as f:
            rec = [json.loads(x) for x in f if "/webhook/archive" in x][-1]
        self.assertEqual((rec["headers"]["logalert-alert-id"], rec["raw"]), ("a-1", '{"a":1}'))


class SeedTest(unittest.TestCase):
    def test_creates_what_the_functions_need(self):
        prefix = f"selftest-{uuid.uuid4().hex[:8]}"
        env = seed.seed(prefix, "http://127.0.0.1:9", {"default": "/hooks/default",
                                                       "gone": "/fail/404/no_service"}, None)
        secret = boto3.client("secretsmanager").get_secret_value(SecretId=env["WEBHOOKS_SECRET_ID"])
        self.assertEqual(json.loads(secret["SecretString"]),
                         {"default": "http://127.0.0.1:9/hooks/default",
                          "gone": "http://127.0.0.1:9/fail/404/no_service"})
        table = boto3.client("dynamodb").describe_table(TableName=env["STATE_TABLE"])["Table"]
        self.assertEqual(table["KeySchema"], [{"AttributeName": "pk", "KeyType": "HASH"}])
        [due] = table["GlobalSecondaryIndexes"]
        self.assertEqual((due["IndexName"], [k["AttributeName"] for k in due["KeySchema"]]),
                         ("due", ["due_shard", "due_at"]))
        ttl = boto3.client("dynamodb").describe_time_to_live(TableName=env["STATE_TABLE"])
        self.assertEqual(ttl["TimeToLiveDescription"]["AttributeName"], "expires_at")
        # The topic reaches the bridge queue.
        boto3.client("sns").publish(TopicArn=env["ALERTS_TOPIC_ARN"], Message="hello")
        bodies = drain(env["BRIDGE_QUEUE_URL"])
        self.assertEqual([b["Message"] for b in bodies], ["hello"])
        typed = seed.seed(f"selftest-{uuid.uuid4().hex[:8]}", "http://127.0.0.1:9", {
            "default": "/hooks/default",
            "ops": {"type": "teams", "url": "/teams/ops"},
            "app": {"type": "slack-app", "token": "xoxb-1", "channel": "C1", "api_url": "/slack-api"},
            "pd": {"type": "pagerduty", "routing_key": "RK", "url": "https://events.example/v2"}},
            None)
        secret = boto3.client("secretsmanager").get_secret_value(SecretId=typed["WEBHOOKS_SECRET_ID"])
        self.assertEqual(json.loads(secret["SecretString"]), {
            "default": "http://127.0.0.1:9/hooks/default",
            "ops": {"type": "teams", "url": "http://127.0.0.1:9/teams/ops"},
            "app": {"type": "slack-app", "token": "xoxb-1", "channel": "C1",
                    "api_url": "http://127.0.0.1:9/slack-api"},
            "pd": {"type": "pagerduty", "routing_key": "RK", "url": "https://events.example/v2"}})
        self.assertEqual(env["IGNORE_LOG_GROUPS"],
                         f"/logalert/{prefix}/log-filter,/logalert/{prefix}/slack-notifier")


class BridgeTest(unittest.TestCase):
    def setUp(self):
        self.fn = FakeFunctions()
        self.env = seed.seed(f"selftest-{uuid.uuid4().hex[:8]}", "http://127.0.0.1:9",
                             {"default": "/hooks/default"}, None)
        self.log = tempfile.mktemp(suffix=".jsonl")

    def tearDown(self):
        self.fn.close()

    def run_bridge(self):
        subprocess.run([sys.executable, os.path.join(HERE, "sns_bridge.py"),
                        "--queue-url", self.env["BRIDGE_QUEUE_URL"], "--endpoint", self.fn.url,
                        "--dlq-url", self.env["NOTIFIER_DLQ_URL"], "--retry-delay", "0.05",
                        "--idle-exit", "2", "--log", self.log], check=True, timeout=60,
                       capture_output=True)

    def test_delivers_sns_event_the_notifier_can_read(self):
        boto3.client("sns").publish(
            TopicArn=self.env["ALERTS_TOPIC_ARN"], Subject="rule fired", Message='{"version":1}',
            MessageAttributes={"severity": {"DataType": "String", "StringValue": "error"}})
        self.run_bridge()
        [event] = self.fn.events["slack-notifier"]
        [record] = event["Records"]
        self.assertEqual(record["EventSource"], "aws:sns")
        sns = record["Sns"]
        self.assertEqual((sns["Subject"], sns["Message"]), ("rule fired", '{"version":1}'))
        self.assertEqual(sns["MessageAttributes"], {"severity": {"Type": "String", "Value": "error"}})
        for key in ("MessageId", "TopicArn", "Timestamp", "SigningCertUrl", "UnsubscribeUrl"):
            self.assertTrue(sns[key], key)
        self.assertEqual(drain(self.env["BRIDGE_QUEUE_URL"]), [])  # deleted once delivered
        self.assertEqual(drain(self.env["NOTIFIER_DLQ_URL"]), [])

    def test_function_error_is_retried_then_dead_lettered(self):
        boto3.client("sns").publish(TopicArn=self.env["ALERTS_TOPIC_ARN"], Message="FAIL me")
        self.run_bridge()
        self.assertEqual(len(self.fn.events["slack-notifier"]), 3)  # 1 + 2 retries
        [dead] = drain(self.env["NOTIFIER_DLQ_URL"])
        self.assertEqual(dead["requestContext"]["condition"], "RetriesExhausted")
        self.assertEqual(dead["requestContext"]["approximateInvokeCount"], 3)
        self.assertEqual(dead["requestPayload"]["Records"][0]["Sns"]["Message"], "FAIL me")
        self.assertEqual(dead["responsePayload"]["errorMessage"], "failed on purpose")
        self.assertEqual(drain(self.env["BRIDGE_QUEUE_URL"]), [])
        with open(self.log, encoding="utf-8") as f:
            log = [json.loads(x) for x in f]
        self.assertEqual([(e["ok"], e["dead_lettered"]) for e in log], [(False, True)])

    def test_unreachable_function_keeps_the_message(self):
        self.fn.close()
        boto3.client("sns").publish(TopicArn=self.env["ALERTS_TOPIC_ARN"], Message="later")
        subprocess.run([sys.executable, os.path.join(HERE, "sns_bridge.py"),
                        "--queue-url", self.env["BRIDGE_QUEUE_URL"], "--endpoint", self.fn.url,
                        "--dlq-url", self.env["NOTIFIER_DLQ_URL"], "--retries", "0",
                        "--idle-exit", "1.5"], check=True, timeout=60, capture_output=True)
        self.fn = FakeFunctions()  # tearDown closes it
        self.assertEqual(drain(self.env["NOTIFIER_DLQ_URL"]), [])
        time.sleep(10.5)  # the bridge's visibility timeout
        self.assertEqual([b["Message"] for b in drain(self.env["BRIDGE_QUEUE_URL"])], ["later"])


def subscription_payload(group: str, messages: list[str]) -> dict:
    data = {"messageType": "DATA_MESSAGE", "owner": "123456789012", "logGroup": group,
            "logStream": "s", "subscriptionFilters": ["f"],
            "logEvents": [{"id": str(i), "timestamp": 1763780000000 + i, "message": m}
                          for i, m in enumerate(messages)]}
    return {"awslogs": {"data": base64.b64encode(gzip.compress(json.dumps(data).encode())).decode()}}


class FaultProxyTest(unittest.TestCase):
    """infra/fault_proxy.py in front of moto's SNS: a lost answer still publishes."""

    def setUp(self):
        upstream = urllib.parse.urlsplit(os.environ["AWS_ENDPOINT_URL"])
        self.server = ThreadingHTTPServer(
            ("127.0.0.1", 0), fault_proxy.make_handler(upstream, fault_proxy.Faults(None)))
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.sns = boto3.client("sns", endpoint_url=self.url, region_name="us-east-1")
        self.sqs = boto3.client("sqs", region_name="us-east-1")
        self.topic = self.sns.create_topic(Name=f"fault-{uuid.uuid4().hex[:8]}")["TopicArn"]
        self.queue = self.sqs.create_queue(QueueName=f"fault-{uuid.uuid4().hex[:8]}")["QueueUrl"]
        arn = self.sqs.get_queue_attributes(
            QueueUrl=self.queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.sns.subscribe(TopicArn=self.topic, Protocol="sqs", Endpoint=arn)

    def tearDown(self):
        self.server.shutdown()

    def control(self, body=None):
        req = urllib.request.Request(f"{self.url}/__fault__",
                                     data=None if body is None else json.dumps(body).encode(),
                                     method="GET" if body is None else "POST")
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())

    def received(self):
        out = []
        for _ in range(5):
            got = self.sqs.receive_message(QueueUrl=self.queue, MaxNumberOfMessages=10,
                                           WaitTimeSeconds=1).get("Messages", [])
            out += [json.loads(m["Body"])["Message"] for m in got]
            if not got:
                break
        return out

    def test_a_lost_answer_is_an_error_to_the_caller_and_a_message_to_subscribers(self):
        self.assertEqual(self.control({"lose_publish_answers": 1})["lose_publish_answers"], 1)
        no_retry = boto3.client("sns", endpoint_url=self.url, region_name="us-east-1",
                                config=botocore.config.Config(retries={"total_max_attempts": 1}))
        with self.assertRaises(botocore.exceptions.BotoCoreError):
            no_retry.publish(TopicArn=self.topic, Message="first")
        self.sns.publish(TopicArn=self.topic, Message="second")
        self.assertEqual(sorted(self.received()), ["first", "second"])
        state = self.control()
        self.assertEqual((state["lost"], state["lose_publish_answers"]), (1, 0))

    def test_other_calls_pass_through_while_armed(self):
        self.control({"lose_publish_answers": 5})
        topics = self.sns.list_topics()["Topics"]
        self.assertIn(self.topic, [t["TopicArn"] for t in topics])
        self.assertEqual(self.control()["lost"], 0)

    def test_a_bad_control_body_is_refused(self):
        req = urllib.request.Request(f"{self.url}/__fault__", data=b"[1]", method="POST")
        with self.assertRaises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(req, timeout=10)
        self.assertEqual(e.exception.code, 400)


class AsyncInvokeAndReplayTest(unittest.TestCase):
    def setUp(self):
        self.fn = FakeFunctions()
        self.env = seed.seed(f"selftest-{uuid.uuid4().hex[:8]}", "http://127.0.0.1:9",
                             {"default": "/hooks/default"}, None)
        self.dir = tempfile.mkdtemp()

    def tearDown(self):
        self.fn.close()

    def test_log_filter_failure_dead_letters_then_replays_unchanged(self):
        payload = subscription_payload("/app/payments", ["ERROR one"])
        path = os.path.join(self.dir, "p.json")
        json.dump(payload, open(path, "w"))
        self.fn.failing.add("log-filter")
        out = subprocess.run([sys.executable, os.path.join(HERE, "lambda_local.py"), "invoke",
                              "--endpoint", self.fn.url, "--function", "log-filter", "--async",
                              "--retry-delay", "0.05", "--dlq-url", self.env["LOG_FILTER_DLQ_URL"],
                              path], capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)  # handled: dead-lettered
        self.assertEqual(self.fn.events["log-filter"], [payload] * 3)
        # The fault is fixed; replay hands the same event back and empties the queue.
        self.fn.failing.clear()
        rc = replay_dead_letters.main(["--queue-url", self.env["LOG_FILTER_DLQ_URL"], "--function",
                                       "log-filter", "--lambda-endpoint", self.fn.url])
        self.assertEqual(rc, 0)
        self.assertEqual(self.fn.events["log-filter"], [payload] * 4)
        self.assertEqual(drain(self.env["LOG_FILTER_DLQ_URL"]), [])

    def test_failed_replay_leaves_the_dead_letter(self):
        payload = subscription_payload("/app/payments", ["ERROR one"])
        record = lambda_local.destination_record(
            "log-filter", payload,
            lambda_local.InvokeResult(False, 200, {"errorType": "X"}, "Unhandled"), 3)
        boto3.client("sqs").send_message(QueueUrl=self.env["LOG_FILTER_DLQ_URL"],
                                         MessageBody=json.dumps(record))
        self.fn.failing.add("log-filter")
        rc = replay_dead_letters.main(["--queue-url", self.env["LOG_FILTER_DLQ_URL"], "--function",
                                       "log-filter", "--lambda-endpoint", self.fn.url])
        self.assertEqual(rc, 1)
        time.sleep(0.1)
        sqs = boto3.client("sqs")
        sqs_msgs = sqs.get_queue_attributes(
            QueueUrl=self.env["LOG_FILTER_DLQ_URL"],
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])
        counts = sqs_msgs["Attributes"]
        self.assertEqual(int(counts["ApproximateNumberOfMessages"])
                         + int(counts["ApproximateNumberOfMessagesNotVisible"]), 1)

    def test_replay_redelivers_and_deletes(self):
        good = subscription_payload("/app/ok", ["ERROR one"])
        record = lambda_local.destination_record(
            "log-filter", good, lambda_local.InvokeResult(False, 200, {"errorType": "X"}, "Unhandled"), 3)
        boto3.client("sqs").send_message(QueueUrl=self.env["LOG_FILTER_DLQ_URL"],
                                         MessageBody=json.dumps(record))
        envelope = {"Type": "Notification", "MessageId": "m-1", "TopicArn": self.env["ALERTS_TOPIC_ARN"],
                    "Subject": "s", "Message": '{"version":1}', "Timestamp": "2026-11-22T00:00:00.000Z"}
        boto3.client("sqs").send_message(QueueUrl=self.env["NOTIFIER_DLQ_URL"],
                                         MessageBody=json.dumps(envelope))
        for queue, fn in ((self.env["LOG_FILTER_DLQ_URL"], "log-filter"),
                          (self.env["NOTIFIER_DLQ_URL"], "slack-notifier")):
            rc = replay_dead_letters.main(["--queue-url", queue, "--function", fn,
                                           "--lambda-endpoint", self.fn.url])
            self.assertEqual(rc, 0)
            self.assertEqual(drain(queue), [])
        self.assertEqual(self.fn.events["log-filter"], [good])
        [sns_event] = self.fn.events["slack-notifier"]
        self.assertEqual(sns_event["Records"][0]["Sns"]["MessageId"], "m-1")

    def test_replay_reads_failed_kinesis_batch_back_from_the_stream(self):
        kinesis = boto3.client("kinesis")
        name = f"selftest-{uuid.uuid4().hex[:8]}"
        kinesis.create_stream(StreamName=name, ShardCount=1)
        arn = kinesis.describe_stream(StreamName=name)["StreamDescription"]["StreamARN"]
        seqs = [kinesis.put_record(StreamName=name, Data=f"rec-{i}".encode(), PartitionKey="k")
                ["SequenceNumber"] for i in range(4)]
        batch = {"KinesisBatchInfo": {"shardId": "shardId-000000000000", "streamArn": arn,
                                      "startSequenceNumber": seqs[1], "endSequenceNumber": seqs[2],
                                      "batchSize": 2}}
        kind, event = replay_dead_letters.event_for(batch, lambda: kinesis)
        self.assertEqual(kind, "kinesis-batch")
        self.assertEqual([base64.b64decode(r["kinesis"]["data"]) for r in event["Records"]],
                         [b"rec-1", b"rec-2"])

    def test_unknown_dead_letter_is_left_in_the_queue(self):
        sqs = boto3.client("sqs")
        sqs.send_message(QueueUrl=self.env["LOG_FILTER_DLQ_URL"], MessageBody='{"what": 1}')
        rc = replay_dead_letters.main(["--queue-url", self.env["LOG_FILTER_DLQ_URL"], "--function",
                                       "log-filter", "--lambda-endpoint", self.fn.url])
        self.assertEqual(rc, 1)
        self.assertEqual(self.fn.events.get("log-filter"), None)


if __name__ == "__main__":
    result = unittest.main(exit=False, verbosity=2).result
    failed = len(result.failures) + len(result.errors)
    print(f"{result.testsRun - failed} passed, {failed} failed")
    sys.exit(1 if failed or not result.wasSuccessful() else 0)
