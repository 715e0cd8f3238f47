"""Swagger UI and ReDoc pages whose scripts and styles the server itself serves.

The assets come from the ``fastapi-offline`` package (Swagger UI and ReDoc builds, MIT), so the
pages work on a machine without internet, as everything else in memos does.
"""

from __future__ import annotations

from importlib.resources import files

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS_URL = "/docs-assets"
ASSETS_DIR = files("fastapi_offline") / "static"
# The validator badge would fetch an image from swagger.io; nothing else leaves the machine.
SWAGGER_PARAMETERS = {"validatorUrl": None}


def install_offline_docs(app: FastAPI) -> None:
    """Serve ``/docs`` and ``/redoc`` with assets from the package (build the app without
    FastAPI's own docs pages: ``docs_url=None, redoc_url=None``)."""
    app.mount(ASSETS_URL, StaticFiles(directory=str(ASSETS_DIR)), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        root = _root(request)
        return get_swagger_ui_html(
            openapi_url=root + app.openapi_url, title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{root}{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
            swagger_ui_parameters=SWAGGER_PARAMETERS)

    @app.get("/redoc", include_in_schema=False)
    def redoc(request: Request) -> HTMLResponse:
        root = _root(request)
        return get_redoc_html(
            openapi_url=root + app.openapi_url, title=f"{app.title} - ReDoc",
            redoc_js_url=f"{root}{ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{ASSETS_URL}/favicon.png", with_google_fonts=False)


def _root(request: Request) -> str:
    return request.scope.get("root_path", "").rstrip("/")
