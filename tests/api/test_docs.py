"""The API docs pages load every asset from the server itself: they work offline."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

ASSET_ATTRIBUTES = {"script": "src", "link": "href", "img": "src"}


class AssetLinks(HTMLParser):
    """Collects the URLs a page makes the browser fetch (scripts, styles, icons, images)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        wanted = ASSET_ATTRIBUTES.get(tag)
        self.urls.extend(value for name, value in attrs if name == wanted and value)


def asset_urls(page: str) -> list[str]:
    parser = AssetLinks()
    parser.feed(page)
    return parser.urls


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_docs_page_serves_every_asset_itself(live, path):
    with live.http(None) as http:
        page = http.get(path)
        assert page.status_code == 200
        urls = asset_urls(page.text)
        assert any(url.endswith(".js") for url in urls)
        assert re.findall(r"(?:https?:)?//[\w.-]+", page.text) == []  # nothing external
        for url in urls:
            assert url.startswith("/") and not url.startswith("//"), url
            assert http.get(url).status_code == 200, url


def test_swagger_ui_reads_the_schema_from_the_server(live):
    with live.http(None) as http:
        page = http.get("/docs").text
        assert "/docs-assets/swagger-ui.css" in asset_urls(page)
        schema_url = re.search(r"url: '([^']+)'", page).group(1)
        assert http.get(schema_url).json()["info"]["title"] == "memos"
