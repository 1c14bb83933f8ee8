"""A scripted stand-in for an OpenAI-compatible chat completions endpoint (POST /v1/chat/completions,
"stream": true), speaking the documented wire format: `data: {chat.completion.chunk}` events, a
finish chunk, a usage chunk, `data: [DONE]`. Each request plays the next script; it records the
request bodies and whether the client hung up mid-stream (and when).

By default every answer ends by closing the connection; `keep_alive=True` streams it with chunked
transfer encoding and keeps the connection for the next request, as OpenAI, Ollama and llama.cpp's
server do (a client's connection pool then reuses it)."""

import http.server
import json
import socket
import threading
import time


def chunk(delta=None, finish=None, usage=None, choices=True):
    body = {"id": "chatcmpl-stub", "object": "chat.completion.chunk", "created": int(time.time()), "model": "stub-model"}
    body["choices"] = [{"index": 0, "delta": delta or {}, "finish_reason": finish}] if choices else []
    if usage is not None:
        body["usage"] = usage
    return "data: " + json.dumps(body) + "\n\n"


class Script:
    """What one request gets: tokens (with a pause before each), then how it ends."""

    def __init__(self, tokens=(), delay=0.0, end="done", status=200, tool_calls=None, first_delay=0.0):
        self.tokens = list(tokens)
        self.delay = delay
        self.first_delay = first_delay
        self.end = end  # "done" | "die" (close mid-answer) | "hang" (stay silent)
        self.status = status
        self.tool_calls = tool_calls


class OpenAIStub:
    def __init__(self, scripts=None, default=None, keep_alive=False, keep_requests=None):
        self.keep_alive = keep_alive
        self.keep_requests = keep_requests  # how many recorded requests to keep (the latest); None: all
        self.scripts = list(scripts or [])
        self.default = default or Script(tokens=["Hello", " there"])
        self.requests = []
        self.hangups = []  # monotonic times at which a client closed before the stream ended
        self.lock = threading.Lock()
        stub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Each SSE event leaves at once, as from OpenAI's, Ollama's or uvicorn's servers (TCP_NODELAY);
            # with Nagle's algorithm a small write waits for the previous one's ACK, up to 40 ms.
            disable_nagle_algorithm = True

            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                with stub.lock:
                    stub.requests.append({"path": self.path, "body": body, "authorization": self.headers.get("Authorization")})
                    if stub.keep_requests is not None:
                        del stub.requests[:-stub.keep_requests]
                    script = stub.scripts.pop(0) if stub.scripts else stub.default
                if self.path != "/v1/chat/completions":
                    self._plain(404, '{"error":{"message":"not found"}}')
                    return
                if script.status != 200:
                    self._plain(script.status, '{"error":{"message":"scripted failure"}}')
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                if stub.keep_alive:
                    self.send_header("Transfer-Encoding", "chunked")
                else:
                    self.send_header("Connection", "close")
                self.end_headers()
                try:
                    self._write(chunk({"role": "assistant", "content": ""}))
                    time.sleep(script.first_delay)
                    for token in script.tokens:
                        time.sleep(script.delay)
                        self._write(chunk({"content": str(token)}))
                    if script.tool_calls:
                        for index, call in enumerate(script.tool_calls):
                            self._write(chunk({"tool_calls": [{"index": index, "id": call["id"], "type": "function",
                                                               "function": {"name": call["name"], "arguments": ""}}]}))
                            # The arguments' JSON text in fragments, as OpenAI streams it.
                            text = call["arguments"]
                            for start in range(0, len(text), 7):
                                self._write(chunk({"tool_calls": [{"index": index, "function": {"arguments": text[start:start + 7]}}]}))
                    if script.end == "die":
                        self.connection.shutdown(socket.SHUT_RDWR)
                        return
                    if script.end == "hang":
                        while True:
                            time.sleep(0.05)
                            self._write(": keep-alive\n\n")
                    self._write(chunk(finish="tool_calls" if script.tool_calls else "stop"))
                    self._write(chunk(usage={"prompt_tokens": 17, "completion_tokens": len(script.tokens), "total_tokens": 17 + len(script.tokens)}, choices=False))
                    self._write("data: [DONE]\n\n")
                    if stub.keep_alive:
                        self.wfile.write(b"0\r\n\r\n")
                        self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    with stub.lock:
                        stub.hangups.append(time.monotonic())

            def _write(self, text):
                data = text.encode()
                if stub.keep_alive:
                    data = b"%x\r\n" % len(data) + data + b"\r\n"
                self.wfile.write(data)
                self.wfile.flush()

            def _plain(self, status, text):
                data = text.encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self):
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
