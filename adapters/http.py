"""The HTTP half every adapters/*/http.py shares: a bearer key, a timeout, and every failure
(unreachable, timeout, non-2xx, no JSON object) as the adapter's own "unavailable" error."""

from __future__ import annotations

from typing import Any

import httpx


class JsonApi:
    """One external system's JSON API; `name` starts the (secret-free) error texts."""

    def __init__(
        self, base_url: str, api_key: str, timeout_seconds: float, name: str,
        unavailable: type[Exception],
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._timeout = timeout_seconds
        self._name = name
        self.unavailable = unavailable

    async def send(
        self, method: str, path: str, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> httpx.Response:
        """The raw answer, whatever its status; `unavailable` if there is none."""
        try:
            async with httpx.AsyncClient(timeout=self._timeout) as client:
                return await client.request(method, self._base_url + path,
                                            headers={**self._headers, **(headers or {})},
                                            **kwargs)
        except httpx.HTTPError as error:
            raise self.unavailable(f"{self._name} unreachable: {type(error).__name__}") from None

    async def call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """The JSON object of a 2xx answer; `unavailable` for anything else."""
        response = await self.send(method, path, **kwargs)
        if not response.is_success:
            raise self.unavailable(f"{self._name} answered {response.status_code}")
        return self.json_object(response)

    def json_object(self, response: httpx.Response) -> dict[str, Any]:
        try:
            data = response.json()
        except ValueError:
            raise self.unavailable(f"{self._name} answered with no JSON") from None
        if not isinstance(data, dict):
            raise self.unavailable(f"{self._name} answered with no JSON object")
        return data
