"""What the fake Graph's modules share: Graph's error answer, ids."""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid

from werkzeug.wrappers import Response

JSON_TYPE = (
    "application/json;odata.metadata=minimal;odata.streaming=true;"
    "IEEE754Compatible=false;charset=utf-8"
)


def graph_time(when: dt.datetime) -> str:
    """A DateTimeOffset as Graph answers (UTC, ``Z``, seven fraction digits)."""
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.0000000Z")


def answer(body: object, status: int = 200) -> Response:
    """A JSON answer as Graph sends it."""
    return Response(json.dumps(body), status, content_type=JSON_TYPE)


def new_guid() -> str:
    """A GUID as Graph writes them (lower case)."""
    return str(uuid.uuid4())


def b64(text: str) -> str:
    """Standard base64 of UTF-8 text, without padding (as Graph's online meeting ids)."""
    return base64.b64encode(text.encode()).decode().rstrip("=")


def error_response(status: int, code: str, message: str) -> Response:
    """Graph's error answer (NOTES §2.7)."""
    body = {
        "error": {
            "code": code,
            "message": message,
            "innerError": {
                "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S"),
                "request-id": new_guid(),
                "client-request-id": new_guid(),
            },
        }
    }
    return Response(json.dumps(body), status, content_type=JSON_TYPE)


class GraphError(Exception):
    """An error answer in Graph's shape, raised by a handler."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def response(self) -> Response:
        """The answer to send."""
        return error_response(self.status, self.code, self.message)
