"""The API's documentation page, `/docs`, served with Swagger UI's own files from the package
`swagger-ui-bundle` instead of FastAPI's default CDN links: the page works on a treasury network
without internet access, like the console (FastAPI's "self-hosting JavaScript and CSS for docs")."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

DOCS_PATH = "/docs"
ASSETS_PATH = "/docs-assets"


def install_docs(app: FastAPI) -> None:
    """`/docs` and its assets; the app must be made with `docs_url=None` (no CDN page)."""
    assert app.docs_url is None and app.openapi_url, "the default /docs page links to a CDN"
    app.mount(ASSETS_PATH, StaticFiles(directory=swagger_ui_path), name="docs-assets")
    openapi_url = app.openapi_url
    title = f"{app.title} — API docs"

    @app.get(DOCS_PATH, include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url=openapi_url, title=title,
                                   swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
                                   swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
                                   swagger_favicon_url=f"{ASSETS_PATH}/favicon-32x32.png")
