"""GET /metrics for Prometheus: open to loopback callers, or to anyone with the bearer token
of `[metrics] token` (then also from loopback only with it). `[metrics] enabled = false`
serves nothing."""

# No `from __future__ import annotations`: FastAPI reads the annotations at run time.
import ipaddress
import secrets

from fastapi import APIRouter, HTTPException, Request, Response, status
from prometheus_client import CONTENT_TYPE_LATEST

from config import MetricsSettings
from monitoring.prometheus import PrometheusMetrics


def make_metrics_router(metrics: PrometheusMetrics, settings: MetricsSettings) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/metrics")
    async def scrape(request: Request) -> Response:
        _admit(request, settings.token)
        return Response(await metrics.exposition(), media_type=CONTENT_TYPE_LATEST,
                        headers={"Cache-Control": "no-store"})

    return router


def _admit(request: Request, token: str) -> None:
    if token:
        given = request.headers.get("authorization", "")
        scheme, _, value = given.partition(" ")
        if scheme.lower() != "bearer" or not secrets.compare_digest(value.encode(),
                                                                    token.encode()):
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "a bearer token is needed",
                                headers={"WWW-Authenticate": "Bearer"})
        return
    host = request.client.host if request.client else ""
    if not _loopback(host):
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            "only loopback callers (or set [metrics] token)")


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
