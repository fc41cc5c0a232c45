"""`/docs` works offline: Swagger UI's files come from this server, nothing from a CDN."""

from __future__ import annotations

import re


def test_the_docs_page_loads_its_assets_from_this_server(client) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    sources = re.findall(r"""(?:src|href)=['"]([^'"]+)['"]""", page.text)
    assert any(s.endswith("swagger-ui-bundle.js") for s in sources), sources
    assert all(s.startswith("/") for s in sources), f"a source from elsewhere: {sources}"
    assert "/openapi.json" in page.text
    for source in sources:
        asset = client.get(source)
        assert asset.status_code == 200 and asset.content, source
    assert client.get("/redoc").status_code == 404  # the CDN-only ReDoc page is not offered
