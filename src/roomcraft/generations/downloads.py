"""Fetching provider outputs: allow-listed hosts only, a size cap and timeouts (no SSRF)."""

from urllib.parse import urlsplit

import httpx

from roomcraft.kit.errors import AppError


class DownloadRefused(AppError):
    """The image could not be downloaded from the provider."""

    code = "PROVIDER_UNAVAILABLE"
    status_code = 503


def host_allowed(url: str, allowed_hosts: list[str]) -> bool:
    """Whether `url` is http(s) on an allowed host or one of its subdomains."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in {"http", "https"} or not host:
        return False
    return any(host == allowed or host.endswith("." + allowed) for allowed in allowed_hosts)


async def download(
    http: httpx.AsyncClient, url: str, *, allowed_hosts: list[str], max_bytes: int
) -> bytes:
    """The body at `url`, refusing other hosts, redirects elsewhere and bodies over `max_bytes`."""
    if not host_allowed(url, allowed_hosts):
        raise DownloadRefused(f"Refusing to download from {urlsplit(url).hostname!r}.")
    chunks: list[bytes] = []
    size = 0
    try:
        async with http.stream("GET", url, follow_redirects=False) as response:
            if response.status_code != 200:
                raise DownloadRefused(f"The provider answered {response.status_code}.")
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise DownloadRefused("The provider's image is larger than allowed.")
                chunks.append(chunk)
    except httpx.HTTPError as exc:
        raise DownloadRefused("The provider's image could not be fetched in time.") from exc
    return b"".join(chunks)
