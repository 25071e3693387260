"""An OpenAI-compatible model provider for OpenWebUI in the tests: OpenWebUI itself is real, this
stands in for the LLM behind it (there is no model to run offline). Models `primary` and
`fallback` (and `slow`, whose streamed answers start after 1.5 s); the ones named in FAILING
answer 503 like an overloaded provider. `"stream": true` answers as OpenAI does: server-sent
events of `chat.completion.chunk`s, then `data: [DONE]`.

Usage: llm_upstream.py PORT [FAILING,MODELS]
"""
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT = int(sys.argv[1])
FAILING = set(filter(None, (sys.argv[2] if len(sys.argv) > 2 else "").split(",")))
MODELS = ["primary", "fallback", "slow"]


class Handler(BaseHTTPRequestHandler):
    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path.rstrip("/").endswith("/models"):
            self.reply(200, {"object": "list", "data": [{"id": m, "object": "model", "created": 0, "owned_by": "test"} for m in MODELS]})
        else:
            self.reply(404, {"error": {"message": "not found"}})

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("content-length") or 0)) or b"{}")
        model = body.get("model")
        if not self.path.rstrip("/").endswith("/chat/completions"):
            return self.reply(404, {"error": {"message": "not found"}})
        if model in FAILING or model not in MODELS:
            return self.reply(503, {"error": {"message": f"model {model} is overloaded", "type": "server_error"}})
        if body.get("stream"):
            return self.stream(model)
        self.reply(200, {"id": "cmpl-1", "object": "chat.completion", "created": int(time.time()), "model": model,
                         "choices": [{"index": 0, "message": {"role": "assistant", "content": "pong"}, "finish_reason": "stop"}],
                         "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6}})

    def stream(self, model):
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.end_headers()
        time.sleep(1.5 if model == "slow" else 0.05)
        for piece in ["po", "ng", "!"]:
            chunk = {"id": "cmpl-s", "object": "chat.completion.chunk", "created": int(time.time()), "model": model,
                     "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.flush()
            time.sleep(0.05)
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()
        self.close_connection = True

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
