"""A FAKE OpenAI-compatible chat endpoint on loopback, for served tests and ``bench serve``
(the server's plumbing under load), where runs must finish quickly and exercise no model:
every request asking for JSON gets ``{}`` (each schema the agent decodes has defaults for
all its fields), every other request gets ``REPLY``, or what the ``reply`` given makes of
the text of the request's last message; streamed or not, as asked. Requests are counted,
nothing else is kept."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

REPLY = "Noted."


def _last_text(request: dict[str, Any]) -> str:
    content = (request.get("messages") or [{}])[-1].get("content") or ""
    if isinstance(content, str):
        return content
    return " ".join(str(part.get("text", "")) for part in content if isinstance(part, dict))


def _completion(text: str) -> dict[str, Any]:
    return {"id": "fake", "object": "chat.completion", "created": 0, "model": "fake",
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": text}}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}


def _chunks(text: str) -> Iterator[dict[str, Any]]:
    base = {"id": "fake", "object": "chat.completion.chunk", "created": 0, "model": "fake"}
    yield {**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": text},
                                "finish_reason": None}]}
    yield {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
           "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        request = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
        self.server.requests += 1
        text = "{}" if request.get("response_format") else self.server.reply(
            _last_text(request))
        if not request.get("stream"):
            self._send(json.dumps(_completion(text)).encode(), "application/json")
            return
        body = b"".join(f"data: {json.dumps(chunk)}\n\n".encode() for chunk in _chunks(text))
        self._send(body + b"data: [DONE]\n\n", "text/event-stream")

    def _send(self, body: bytes, content_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    requests = 0
    reply: Callable[[str], str] = staticmethod(lambda said: REPLY)


@contextmanager
def fake_openai(reply: Callable[[str], str] | None = None) -> Iterator[str]:
    """Serve the fake endpoint on a free loopback port; yields its base URL (``…/v1``).
    ``reply`` turns the text of a request's last message into the reply (else ``REPLY``)."""
    server = _Server(("127.0.0.1", 0), _Handler)
    if reply is not None:
        server.reply = reply
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()
