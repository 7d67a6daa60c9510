"""Links between pages."""

from urllib.parse import urlencode


def page_url(path: str, **params: str | None) -> str:
    """`path` with the given query parameters; empty and missing values are left out."""
    query = urlencode({key: value for key, value in params.items() if value})
    return f"{path}?{query}" if query else path
