# edgefront's Lambda@Edge worker for Python: loads one handler and runs it
# for each request edgefront sends. The protocol is newline-delimited JSON:
# requests arrive on fd 3, results leave on fd 4, so that the handler's own
# print output (fd 1 and 2) goes to edgefront's log untouched.
#
# argv: codeDir handler functionName functionArn
import importlib
import json
import os
import sys
import time
import traceback

code_dir, handler_spec, function_name, function_arn = sys.argv[1:5]
requests = os.fdopen(3, "r", encoding="utf-8")
results = os.fdopen(4, "w", encoding="utf-8")


def send(msg):
    results.write(json.dumps(msg, separators=(",", ":")) + "\n")
    results.flush()


def error_of(e):
    return {"errorType": type(e).__name__, "errorMessage": str(e)}


class Context:
    def __init__(self, request_id, timeout_ms):
        self._deadline = time.monotonic() + timeout_ms / 1000
        self.function_name = function_name
        parts = function_arn.split(":")
        self.function_version = parts[7] if len(parts) > 7 else "$LATEST"
        self.invoked_function_arn = function_arn
        self.aws_request_id = request_id
        self.memory_limit_in_mb = "128"
        self.log_group_name = "/aws/lambda/us-east-1." + function_name

    def get_remaining_time_in_millis(self):
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def load():
    module, _, fn = handler_spec.rpartition(".")
    sys.path.insert(0, code_dir)
    mod = importlib.import_module(module.replace("/", "."))
    h = getattr(mod, fn, None)
    if not callable(h):
        raise AttributeError("module %s has no function %s" % (module, fn))
    return h


try:
    handler = load()
except Exception as e:  # the load failure is edgefront's to report
    send({"ready": False, "error": error_of(e)})
    sys.exit(1)
send({"ready": True})

for line in requests:
    req = json.loads(line)
    try:
        result = handler(req["event"], Context(req["requestId"], req["timeoutMs"]))
        send({"id": req["id"], "result": result})
    except Exception as e:
        traceback.print_exc()
        send({"id": req["id"], "error": error_of(e)})
