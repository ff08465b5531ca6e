"""A Python handler: answers at viewer-request with what it saw."""
import json


def viewer_request(event, context):
    cf = event["Records"][0]["cf"]
    request = cf["request"]
    if request["uri"].endswith("/raise"):
        raise ValueError("python handler raised")
    print("python handler ran for", cf["config"]["requestId"])
    return {
        "status": "200",
        "statusDescription": "OK",
        "headers": {"x-runtime": [{"key": "X-Runtime", "value": "python"}]},
        "body": json.dumps({"uri": request["uri"], "function": context.function_name}),
    }
