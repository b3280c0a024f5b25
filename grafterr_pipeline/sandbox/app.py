"""The sandbox's HTTP API: a Starlette app implementing ``docs/grafterr-api.md`` exactly.

Routes (optionally under ``SandboxConfig.base_path``)::

    POST /auth/token          client credentials -> bearer token
    GET  /orders              a window of orders, paged
    GET  /orders/{order_id}   one order

Before any route, :class:`~grafterr_pipeline.sandbox.gateway.GatewayMiddleware` checks the API
key and the rate limit, and the fault injector (when any fault is on) may fail the request.
"""

from __future__ import annotations

import json
import logging
import math
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from grafterr_pipeline.sandbox.auth import TokenIssuer, bearer_token
from grafterr_pipeline.sandbox.config import SandboxConfig
from grafterr_pipeline.sandbox.data import OrderBook
from grafterr_pipeline.sandbox.drift import Drift
from grafterr_pipeline.sandbox.faults import FaultMiddleware
from grafterr_pipeline.sandbox.gateway import GatewayMiddleware
from grafterr_pipeline.sandbox.liberties import Liberties
from grafterr_pipeline.sandbox.params import ListingQuery, parse_listing_query
from grafterr_pipeline.sandbox.ratelimit import RateLimiter

__all__ = ["SandboxApi", "build_app"]

logger = logging.getLogger(__name__)

_UNAUTHORIZED = {"message": "Unauthorized"}


class SandboxApi:
    """The endpoints of one sandbox, sharing its order book, tokens and clock."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.book = OrderBook.from_config(config)
        self.tokens = TokenIssuer(config.token_ttl)
        self.drift = Drift(config)
        self.liberties = Liberties(config)

    async def token(self, request: Request) -> Response:
        """``POST /auth/token``: exchange client credentials for a bearer token."""
        try:
            body = json.loads(await request.body())
        except ValueError:
            return _error(400, "Request body must be JSON with client_id and client_secret")
        if not isinstance(body, dict):
            return _error(400, "Request body must be a JSON object")
        credentials = (body.get("client_id"), body.get("client_secret"))
        if credentials != (self.config.client_id, self.config.client_secret):
            return _error(401, "Invalid client credentials")
        token = self.tokens.issue()
        ttl = self.config.token_ttl
        expires_in = int(ttl) if ttl == int(ttl) else ttl  # the contract shows whole seconds
        return JSONResponse(
            {"access_token": token, "token_type": "Bearer", "expires_in": expires_in}
        )

    def orders(self, request: Request) -> Response:
        """``GET /orders``: one page of the orders in a window, sorted and counted."""
        if not self._authorised(request):
            return JSONResponse(_UNAUTHORIZED, status_code=401)
        query = parse_listing_query(request.query_params)
        if isinstance(query, dict):
            return JSONResponse(
                {"message": "Invalid query parameters", "errors": query}, status_code=400
            )
        return JSONResponse(self.page(query))

    def page(self, query: ListingQuery) -> dict[str, Any]:
        """Return the response body for ``query`` as the sandbox sees its orders right now."""
        listed = self.book.listing(
            query.start,
            query.end,
            clock=self.config.clock(),
            date_field=query.date_field,
            channel=query.channel,
            store_id=query.store_id,
        )
        listed = self.drift.visible(query, listed)
        first = (query.page - 1) * query.page_size
        chosen = listed[first : first + query.page_size]
        logger.debug("page %d of %s: %d of %d orders", query.page, query, len(chosen), len(listed))
        meta = {
            "page": query.page,
            "page_size": query.page_size,
            "total": len(listed),
            "total_pages": math.ceil(len(listed) / query.page_size),
        }
        data = [self.liberties.order(x.version.body) for x in chosen]
        return self.liberties.envelope({"data": data, "meta": meta})

    def order(self, request: Request) -> Response:
        """``GET /orders/{order_id}``: one order in its current version, or 404."""
        if not self._authorised(request):
            return JSONResponse(_UNAUTHORIZED, status_code=401)
        version = self.book.find(request.path_params["order_id"], self.config.clock())
        if version is None:
            return _error(404, "Order not found")
        return JSONResponse(self.liberties.order(version.body))

    def _authorised(self, request: Request) -> bool:
        token = bearer_token(request.headers.get("authorization"))
        return token is not None and self.tokens.is_valid(token)

    def routes(self) -> list[BaseRoute]:
        """Return the routes, mounted under ``base_path`` when one is configured."""
        routes: list[BaseRoute] = [
            Route("/auth/token", self.token, methods=["POST"]),
            Route("/orders", self.orders, methods=["GET"]),
            Route("/orders/{order_id}", self.order, methods=["GET"]),
        ]
        if self.config.base_path:
            return [Mount(self.config.base_path, routes=routes)]
        return routes


def build_app(config: SandboxConfig) -> Starlette:
    """Return the ASGI app of a sandbox configured by ``config``."""
    api = SandboxApi(config)
    limiter = RateLimiter(config.rate_limit, config.burst)
    middleware = [
        Middleware(FaultMiddleware, config=config),
        Middleware(GatewayMiddleware, config=config, limiter=limiter),
    ]
    app = Starlette(
        routes=api.routes(),
        middleware=middleware,
        exception_handlers={HTTPException: _http_exception},
    )
    app.state.sandbox = api
    return app


async def _http_exception(request: Request, exc: Exception) -> Response:
    """Answer routing errors (404, 405) with the JSON body API Gateway uses."""
    assert isinstance(exc, HTTPException)
    return JSONResponse({"message": exc.detail}, status_code=exc.status_code, headers=exc.headers)


def _error(status: int, message: str) -> Response:
    return JSONResponse({"message": message}, status_code=status)
