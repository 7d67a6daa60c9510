"""A loopback Stripe: the part of its API that Roomcraft's SDK calls, and signed events.

    with FakeStripe(prices={"price_pro"}) as stripe_api:   # or .start() ... .stop()
        settings = settings.model_copy(update={"stripe_api_base": stripe_api.base_url, ...})

A real HTTP server on 127.0.0.1 (a free port; `tests/fakes/loopback.py`); `base_url` is Stripe's
API base (`STRIPE_API_BASE`: the paths start with `/v1`). It speaks Stripe's wire protocol:
form-encoded bodies with bracketed keys (`line_items[0][price]`), `Authorization: Bearer
<api_key>`, `Idempotency-Key` (a repeated key answers the first response again), JSON objects,
and errors as `{"error": {"type", "code"?, "message", "param"?}}` with Stripe's statuses.

- `POST /v1/customers` (`email`, `metadata`) → a customer.
- `POST /v1/checkout/sessions`: `mode`, `customer` (must exist), `line_items` (each price must be
  one of `prices`: otherwise 400 `resource_missing`, "No such price"), `success_url`,
  `cancel_url`, `client_reference_id`, `metadata`, `subscription_data[metadata]` → an open session
  whose `url` is `{base_url}/pay/{id}`.
- `POST /v1/billing_portal/sessions` (`customer` must exist, `return_url`) → `{url}`.
- `GET /v1/subscriptions/{id}` → the subscription as it is now (API version 2026-10-28: the
  price and the current period on its first item); 404 `resource_missing` when unknown.

What a customer would do on Stripe's pages, a test does with a method that changes the state and
returns the event Stripe would send (a dict; it is not sent anywhere):
`complete_checkout(session_id)` (a new active subscription, `checkout.session.completed`),
`change_subscription(id, ...)` (price, status, period, cancel at period end:
`customer.subscription.updated`), `cancel_subscription(id, reason)` (`...deleted`),
`invoice_event(type, id)` (`invoice.paid` / `invoice.payment_failed`), or `event(type, object)`
for any other. `sign(payload)` makes its `Stripe-Signature` header with `webhook_secret` (or
another secret, or an old timestamp). `fail_next(n, status, message)` refuses the next API
requests with a Stripe error. Records: `requests` (method, path, lower-case headers, decoded
form), `customers`, `sessions`, `subscriptions`.
"""

import hashlib
import hmac
import itertools
import json
import re
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.loopback import LoopbackServer

API_VERSION = "2026-10-28.endive"
PERIOD_SECONDS = 30 * 86400


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    form: dict[str, Any]  # the decoded body (or query), nested as Stripe's keys say


@dataclass(frozen=True)
class _Fault:
    status: int
    type: str
    message: str
    code: str | None


def _decode(raw: str) -> dict[str, Any]:
    """Stripe's form encoding: `a[b][0][c]=v` → `{"a": {"b": [{"c": "v"}]}}`."""
    root: dict[str, Any] = {}
    for key, value in parse_qsl(raw, keep_blank_values=True):
        parts = re.findall(r"[^\[\]]+", key)
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    listed: dict[str, Any] = _lists(root)
    return listed


def _lists(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    if node and all(key.isdigit() for key in node):
        return [_lists(node[key]) for key in sorted(node, key=int)]
    return {key: _lists(value) for key, value in node.items()}


def _error(
    status: int,
    message: str,
    *,
    code: str | None = None,
    param: str | None = None,
    type: str = "invalid_request_error",
) -> JSONResponse:
    body: dict[str, Any] = {"type": type, "message": message}
    if code is not None:
        body["code"] = code
    if param is not None:
        body["param"] = param
    return JSONResponse({"error": body}, status_code=status)


class FakeStripe(LoopbackServer):
    label = "Stripe"

    def __init__(
        self,
        *,
        prices: set[str] | frozenset[str] = frozenset({"price_starter", "price_pro"}),
        api_key: str = "sk_test_fake",
        webhook_secret: str | None = None,
    ) -> None:
        super().__init__()
        self.prices = set(prices)
        self.api_key = api_key
        self.webhook_secret = webhook_secret or "whsec_" + secrets.token_hex(24)
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self.customers: dict[str, dict[str, Any]] = {}
        self.sessions: dict[str, dict[str, Any]] = {}
        self.subscriptions: dict[str, dict[str, Any]] = {}
        self._idempotent: dict[str, tuple[int, Any]] = {}
        self._faults: deque[_Fault] = deque()
        self._requests: list[RecordedRequest] = []

    def reset(self) -> None:
        with self._lock:
            self.customers.clear()
            self.sessions.clear()
            self.subscriptions.clear()
            self._idempotent.clear()
            self._faults.clear()
            self._requests.clear()

    # Switches and records

    def fail_next(
        self,
        n: int = 1,
        *,
        status: int = 400,
        message: str = "The request is invalid.",
        type: str = "invalid_request_error",
        code: str | None = None,
    ) -> None:
        with self._lock:
            self._faults.extend(_Fault(status, type, message, code) for _ in range(n))

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def requests_to(self, method: str, path: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.method == method and r.path == path]

    # What a customer does on Stripe's pages, and the events Stripe sends for it

    def complete_checkout(
        self, session_id: str, *, start: datetime | None = None
    ) -> dict[str, Any]:
        """The customer paid: an active subscription on the session's price, from `start` (now)
        for 30 days; returns the `checkout.session.completed` event."""
        now = int((start or datetime.now()).timestamp())
        with self._lock:
            session = self.sessions[session_id]
            subscription_id = self._new_id("sub")
            self.subscriptions[subscription_id] = {
                "id": subscription_id,
                "object": "subscription",
                "customer": session["customer"],
                "status": "active",
                "cancel_at_period_end": False,
                "cancel_at": None,
                "canceled_at": None,
                "cancellation_details": {"comment": None, "feedback": None, "reason": None},
                "created": now,
                "livemode": False,
                "metadata": dict(session["_subscription_metadata"]),
                "items": {
                    "object": "list",
                    "data": [self._item(session["_price"], now, now + PERIOD_SECONDS)],
                    "has_more": False,
                    "url": f"/v1/subscription_items?subscription={subscription_id}",
                },
            }
            session.update(status="complete", payment_status="paid", subscription=subscription_id)
            public = {k: v for k, v in session.items() if not k.startswith("_")}
        return self.event("checkout.session.completed", public)

    def change_subscription(
        self,
        subscription_id: str,
        *,
        price: str | None = None,
        status: str | None = None,
        period_end: datetime | None = None,
        cancel_at_period_end: bool | None = None,
    ) -> dict[str, Any]:
        """Change the subscription as the portal or a renewal would; the `updated` event."""
        with self._lock:
            subscription = self.subscriptions[subscription_id]
            item = subscription["items"]["data"][0]
            if price is not None:
                item["price"] = self._price(price)
            if status is not None:
                subscription["status"] = status
            if period_end is not None:
                item["current_period_end"] = int(period_end.timestamp())
            if cancel_at_period_end is not None:
                subscription["cancel_at_period_end"] = cancel_at_period_end
                subscription["cancellation_details"]["reason"] = (
                    "cancellation_requested" if cancel_at_period_end else None
                )
            snapshot = json.loads(json.dumps(subscription))
        return self.event("customer.subscription.updated", snapshot)

    def cancel_subscription(
        self, subscription_id: str, *, reason: str = "cancellation_requested"
    ) -> dict[str, Any]:
        """End the subscription now (`canceled`, the period it was in is left as it was); the
        `customer.subscription.deleted` event."""
        with self._lock:
            subscription = self.subscriptions[subscription_id]
            subscription["status"] = "canceled"
            subscription["canceled_at"] = int(time.time())
            subscription["cancellation_details"]["reason"] = reason
            snapshot = json.loads(json.dumps(subscription))
        return self.event("customer.subscription.deleted", snapshot)

    def subscription_snapshot(self, subscription_id: str) -> dict[str, Any]:
        """The subscription as it is now, as an event would carry it."""
        with self._lock:
            snapshot: dict[str, Any] = json.loads(json.dumps(self.subscriptions[subscription_id]))
        return snapshot

    def invoice_event(self, type: str, subscription_id: str) -> dict[str, Any]:
        """`invoice.paid` or `invoice.payment_failed` for the subscription's invoice."""
        with self._lock:
            subscription = self.subscriptions[subscription_id]
            invoice = {
                "id": self._new_id("in"),
                "object": "invoice",
                "customer": subscription["customer"],
                "status": "paid" if type == "invoice.paid" else "open",
                "parent": {
                    "type": "subscription_details",
                    "quote_details": None,
                    "subscription_details": {
                        "metadata": dict(subscription["metadata"]),
                        "subscription": subscription_id,
                    },
                },
            }
        return self.event(type, invoice)

    def event(self, type: str, data_object: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            event_id = self._new_id("evt")
        return {
            "id": event_id,
            "object": "event",
            "api_version": API_VERSION,
            "created": int(time.time()),
            "data": {"object": data_object},
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": type,
        }

    def sign(
        self, payload: bytes, *, timestamp: int | None = None, secret: str | None = None
    ) -> str:
        """The `Stripe-Signature` header of a delivery: `t=<unix time>,v1=<HMAC-SHA256 hex>` of
        `"{t}.{payload}"`, keyed with the endpoint's secret."""
        signed_at = int(time.time()) if timestamp is None else timestamp
        key = (secret or self.webhook_secret).encode()
        message = f"{signed_at}.".encode() + payload
        return f"t={signed_at},v1={hmac.new(key, message, hashlib.sha256).hexdigest()}"

    # The API (runs in the server's thread)

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}_fake{next(self._ids):06d}{secrets.token_hex(4)}"

    def _price(self, price_id: str) -> dict[str, Any]:
        return {"id": price_id, "object": "price", "currency": "usd", "type": "recurring"}

    def _item(self, price_id: str, start: int, end: int) -> dict[str, Any]:
        return {
            "id": self._new_id("si"),
            "object": "subscription_item",
            "price": self._price(price_id),
            "quantity": 1,
            "current_period_start": start,
            "current_period_end": end,
        }

    def _app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/v1/customers", self._endpoint(self._create_customer), methods=["POST"]),
                Route(
                    "/v1/checkout/sessions", self._endpoint(self._create_session), methods=["POST"]
                ),
                Route(
                    "/v1/billing_portal/sessions",
                    self._endpoint(self._create_portal_session),
                    methods=["POST"],
                ),
                Route(
                    "/v1/subscriptions/{id}",
                    self._endpoint(self._get_subscription),
                    methods=["GET"],
                ),
            ]
        )

    def _endpoint(self, handler: Any) -> Any:
        """Record, play the next fault, check the key and the idempotency key, then answer."""

        async def endpoint(request: Request) -> Response:
            raw = (await request.body()).decode() if request.method == "POST" else ""
            form = _decode(raw or request.url.query)
            headers = {name.lower(): value for name, value in request.headers.items()}
            with self._lock:
                self._requests.append(
                    RecordedRequest(request.method, request.url.path, headers, form)
                )
                fault = self._faults.popleft() if self._faults else None
            if fault is not None:
                return _error(fault.status, fault.message, code=fault.code, type=fault.type)
            if headers.get("authorization") != f"Bearer {self.api_key}":
                return _error(401, f"Invalid API Key provided: {self.api_key[:8]}****")
            key = headers.get("idempotency-key")
            with self._lock:
                replay = self._idempotent.get(key) if key and request.method == "POST" else None
            if replay is not None:
                return JSONResponse(replay[1], status_code=replay[0])
            status, body = handler(request, form)
            if key and request.method == "POST":
                with self._lock:
                    self._idempotent[key] = (status, body)
            return JSONResponse(body, status_code=status)

        return endpoint

    def _missing(self, kind: str, value: str, param: str) -> tuple[int, Any]:
        error = {"type": "invalid_request_error", "code": "resource_missing", "param": param}
        return 400, {"error": error | {"message": f"No such {kind}: '{value}'"}}

    def _create_customer(self, request: Request, form: dict[str, Any]) -> tuple[int, Any]:
        customer_id = self._new_id("cus")
        with self._lock:
            customer = {
                "id": customer_id,
                "object": "customer",
                "email": form.get("email"),
                "metadata": form.get("metadata") or {},
                "created": int(time.time()),
                "livemode": False,
            }
            self.customers[customer_id] = customer
        return 200, customer

    def _create_session(self, request: Request, form: dict[str, Any]) -> tuple[int, Any]:
        for required in ("mode", "success_url", "line_items"):
            if not form.get(required):
                message = f"Missing required param: {required}."
                error = {"type": "invalid_request_error", "message": message, "param": required}
                return 400, {"error": error | {"code": "parameter_missing"}}
        customer = form.get("customer")
        with self._lock:
            known_customer = customer in self.customers
        if not known_customer:
            return self._missing("customer", str(customer), "customer")
        price = form["line_items"][0].get("price")
        if price not in self.prices:
            return self._missing("price", str(price), "line_items[0][price]")
        with self._lock:
            session_id = self._new_id("cs_test")
            session = {
                "id": session_id,
                "object": "checkout.session",
                "mode": form["mode"],
                "status": "open",
                "payment_status": "unpaid",
                "customer": customer,
                "client_reference_id": form.get("client_reference_id"),
                "metadata": form.get("metadata") or {},
                "success_url": form["success_url"],
                "cancel_url": form.get("cancel_url"),
                "subscription": None,
                "url": f"{self.base_url}/pay/{session_id}",
                "livemode": False,
                "_price": price,
                "_subscription_metadata": (form.get("subscription_data") or {}).get("metadata")
                or {},
            }
            self.sessions[session_id] = session
        return 200, {k: v for k, v in session.items() if not k.startswith("_")}

    def _create_portal_session(self, request: Request, form: dict[str, Any]) -> tuple[int, Any]:
        customer = form.get("customer")
        with self._lock:
            known_customer = customer in self.customers
            portal_id = self._new_id("bps")
        if not known_customer:
            return self._missing("customer", str(customer), "customer")
        return 200, {
            "id": portal_id,
            "object": "billing_portal.session",
            "customer": customer,
            "return_url": form.get("return_url"),
            "url": f"{self.base_url}/portal/{portal_id}",
            "livemode": False,
        }

    def _get_subscription(self, request: Request, form: dict[str, Any]) -> tuple[int, Any]:
        subscription_id = request.path_params["id"]
        with self._lock:
            subscription = self.subscriptions.get(subscription_id)
            snapshot = json.loads(json.dumps(subscription)) if subscription else None
        if snapshot is None:
            return 404, self._missing("subscription", subscription_id, "id")[1]
        return 200, snapshot
