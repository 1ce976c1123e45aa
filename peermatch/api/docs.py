"""The API reference at /schema: Swagger UI from this site's own static files (installed from
npm by ``make assets``), started by a script file, so it runs under the strict CSP with no
inline script and nothing from another origin. The schema stays at /schema/openapi.json."""

from __future__ import annotations

from html import escape
from typing import Any

from litestar import Request
from litestar.openapi.plugins import OpenAPIRenderPlugin

SWAGGER = "/static/vendor/swagger"


class LocalSwaggerRenderPlugin(OpenAPIRenderPlugin):
    """Swagger UI served from /static; no CDN."""

    def __init__(self, path: str | list[str] = "/") -> None:
        super().__init__(path=path)

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        schema_url = escape(self.get_openapi_json_route(request), quote=True)
        title = escape(str(openapi_schema.get("info", {}).get("title", "API")))
        return f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{title} reference</title>
  <link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
  <link rel="stylesheet" href="{SWAGGER}/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui" data-schema-url="{schema_url}"></div>
  <script src="{SWAGGER}/swagger-ui-bundle.js"></script>
  <script src="/static/api-docs.js"></script>
</body>
</html>
""".encode()
