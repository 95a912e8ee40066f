#!/usr/bin/env python3
"""Cold start of a Lambda function binary: process start -> its first request for work.

A minimal local stand-in for the Lambda runtime API (127.0.0.1 only) records when the process asks
for its first invocation (GET /2018-06-01/runtime/invocation/next); the process is then stopped.
Usage: cold_start.py BINARY [RUNS] — prints every run and the median, in milliseconds.
The function gets dummy settings (bundled rules, no SSM parameter, no network before the first
request: AWS clients resolve credentials lazily)."""
import http.server, os, statistics, subprocess, sys, threading, time

binary = sys.argv[1]
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 20
first_request = threading.Event()
asked_at = [0]

class RuntimeApi(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path.startswith("/2018-06-01/runtime/invocation/next"):
            asked_at[0] = time.perf_counter_ns()
            first_request.set()
        # Never answer: the run ends here.
    def log_message(self, *args):
        pass

server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), RuntimeApi)
server.daemon_threads = True
threading.Thread(target=server.serve_forever, daemon=True).start()
env = dict(os.environ,
           AWS_LAMBDA_RUNTIME_API=f"127.0.0.1:{server.server_address[1]}",
           AWS_LAMBDA_FUNCTION_NAME="log-filter", AWS_LAMBDA_FUNCTION_MEMORY_SIZE="128",
           AWS_LAMBDA_FUNCTION_VERSION="$LATEST", AWS_LAMBDA_LOG_STREAM_NAME="cold-start",
           AWS_LAMBDA_LOG_GROUP_NAME="/aws/lambda/log-filter",
           AWS_REGION="us-east-1", AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
           AWS_EC2_METADATA_DISABLED="true", AWS_ENDPOINT_URL="http://127.0.0.1:9",
           ALERTS_TOPIC_ARN="arn:aws:sns:us-east-1:123456789012:alerts", STATE_TABLE="logalert-state",
           RUST_LOG="warn")
times = []
for i in range(runs):
    first_request.clear()
    start = time.perf_counter_ns()
    p = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if not first_request.wait(30):
        p.kill()
        sys.exit(f"run {i}: no request for work within 30 s (exit code {p.poll()})")
    times.append((asked_at[0] - start) / 1e6)
    p.kill()
    p.wait()
    print(f"run {i + 1}: {times[-1]:.2f} ms")
print(f"median {statistics.median(times):.2f} ms, min {min(times):.2f} ms, max {max(times):.2f} ms over {runs} runs")
