"""The OGC API's answers: exception bodies, JSON and HTML responses, CORS, links."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from flask import Response, render_template, request, url_for
from werkzeug.exceptions import HTTPException

from spacematch.web.ogc import openapi

JSON = "application/json"
HTML = "text/html"
SCHEMA_JSON = "application/schema+json"


def exception_body(status: int, description: str, errors: dict[str, str]) -> dict[str, Any]:
    code = {400: "InvalidParameterValue", 404: "NotFound", 405: "MethodNotAllowed"}.get(
        status, "ServerError" if status >= 500 else "InvalidRequest"
    )
    return {"code": code, "description": description, "errors": errors}


def exception_response(err: HTTPException) -> Response:
    """An HTTP error under /ogc (also one raised before routing) as OGC exception JSON."""
    status = err.code or 500
    description = err.description or ""
    if status == 404:
        description = f"{request.path} names no resource of this API"
    response = _json(exception_body(status, description, {"path": description}))
    response.status_code = status
    for name, value in err.get_headers():
        if name.lower() == "allow":
            response.headers["Allow"] = value
    return _cors(response)


def _cors(response: Response) -> Response:
    """Public, read-only, no credentials: any web page may read it (a web map, a notebook)."""
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = "Content-Crs"
    return response


def wants_html() -> bool:
    fmt = request.args.get("f", "")
    if fmt:
        return fmt == "html"
    if not request.accept_mimetypes:
        return False
    best = request.accept_mimetypes.best_match([JSON, openapi.GEOJSON, HTML], default=JSON)
    return best == HTML


def _json(body: dict[str, Any], mimetype: str = JSON) -> Response:
    """JSON in the order built (Flask's jsonify sorts keys; QGIS then lists columns a-z)."""
    return Response(json.dumps(body, ensure_ascii=False, separators=(",", ":")), mimetype=mimetype)


def _html(kind: str, body: dict[str, Any], **extra: Any) -> Response:
    json_url = _alternate("json")
    markup = render_template(f"ogc/{kind}.html", body=body, json_url=json_url, **extra)
    return Response(markup, mimetype=HTML)


def _alternate(fmt: str) -> str:
    """This request's URL in another format (every other parameter kept)."""
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "f"] + [("f", fmt)]
    endpoint = request.endpoint
    assert endpoint is not None  # a routed request always has one
    return _url(endpoint, **(request.view_args or {})) + "?" + urlencode(args)


def _link(href: str, rel: str, media: str = JSON, title: str | None = None) -> dict[str, str]:
    link = {"href": href, "rel": rel, "type": media}
    if title:
        link["title"] = title
    return link


def _url(endpoint: str, **values: Any) -> str:
    return url_for(endpoint, _external=True, **values)


def _self_links(endpoint: str, media: str = JSON, **values: Any) -> list[dict[str, str]]:
    """``self`` and its ``alternate`` in the other format (the HTML conformance class asks)."""
    url = _url(endpoint, **values)
    html = wants_html()
    return [
        _link(url + ("?f=html" if html else ""), "self", HTML if html else media),
        _link(url + ("" if html else "?f=html"), "alternate", media if html else HTML),
    ]
