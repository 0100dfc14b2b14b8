"""The image's example WSGI app: echoes the path and the size of the request body as JSON."""

import json


def app(environ, start_response):
    size = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(size) if size else b""
    out = json.dumps({"path": environ["PATH_INFO"], "received": len(body)}).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(out)))])
    return [out]
