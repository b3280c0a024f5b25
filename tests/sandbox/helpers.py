"""A minimal HTTP caller for the sandbox tests: real requests over loopback, no client code."""

from __future__ import annotations

from typing import Any

import requests

from grafterr_pipeline.sandbox import SandboxServer

TIMEOUT = (2.0, 10.0)


class Caller:
    """Sends requests to one sandbox with its API key and, once logged in, a bearer token."""

    def __init__(self, sandbox: SandboxServer) -> None:
        self.sandbox = sandbox
        self.session = requests.Session()
        self.session.headers["x-api-key"] = sandbox.config.api_key

    def login(self) -> Caller:
        """Fetch a token with the sandbox's credentials and send it from now on."""
        response = self.post_token()
        response.raise_for_status()
        self.session.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
        return self

    def post_token(self, **credentials: str) -> requests.Response:
        """``POST auth/token`` with the sandbox's credentials unless others are given."""
        body = {
            "client_id": self.sandbox.config.client_id,
            "client_secret": self.sandbox.config.client_secret,
            **credentials,
        }
        return self.session.post(self.url("auth/token"), json=body, timeout=TIMEOUT)

    def get(self, path: str, **params: Any) -> requests.Response:
        """``GET path`` with ``params`` as the query string."""
        return self.session.get(self.url(path), params=params, timeout=TIMEOUT)

    def url(self, path: str) -> str:
        """Return the absolute URL of ``path`` on the sandbox."""
        return self.sandbox.base_url + path

    def all_orders(self, **params: Any) -> list[dict[str, Any]]:
        """Read every page of ``GET orders`` with ``params`` and return the orders in order."""
        orders: list[dict[str, Any]] = []
        page = 1
        while True:
            body = self.get("orders", page=page, **params).json()
            orders += body["data"]
            if page >= body["meta"]["total_pages"]:
                return orders
            page += 1
