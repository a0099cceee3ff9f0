"""Walk every route of a shop with hostile input and collect every answer >= 500.

The promise it checks: hostile input gets a 4xx page or JSON problem, never a server error.
For each rule of the URL map and each of its methods, the walk first sends plausible values
while recording which query, form and JSON names the app looks up (an API operation's are
also read from its OpenAPI document), and keeps the fields of the forms its pages show. Then
it sends, one change at a time:

- each path argument replaced by what its converter's pattern accepts but a database
  cannot hold (``2147483648``, 20 and 5,000 digits for numbers; a NUL byte for text);
- each query parameter the route reads set to each of ``TEXT_VALUES`` (a NUL byte, integers
  past 32 and 64 bits and past Python's 4,300-digit limit, ``Infinity``, ``1e999999``);
- for unsafe methods, each form field likewise, the others left plausible so that the one bad
  value is the only reason to refuse; each JSON member the view reads set to each of
  ``JSON_VALUES`` (adding a lone surrogate and the wrong types); a form posted as JSON with
  every field of one odd type; and whole hostile JSON bodies (100,000 levels deep…).

Fields named alike but for digits (``fee_110000``, ``fee_120000``) are read by one loop: one
of each shape is probed. A name read by most routes (an attribution parameter) is probed on
the first of them only. A route that sends the client to sign in gets its path probes only.
Requests carry a valid CSRF token, so they reach the view. A plugin's tests can walk their own
routes the same way, with objects of their own seeded::

    walk = HostileWalk(app, benign={"template_id": template.id})
    walk.run(client, csrf_token=token, only=lambda rule: rule.rule.startswith("/admin/coupons"))
    assert not walk.failures, walk.report()
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from itertools import count
from typing import Any, Callable, Iterable
from urllib.parse import quote, urlencode, urljoin, urlsplit

from werkzeug.routing.converters import NumberConverter

UNSAFE = ("POST", "PUT", "PATCH", "DELETE")
MAX_INT = 2**31 - 1

#: Path arguments: numbers beyond an id column for number converters, a NUL byte for others.
PATH_NUMBERS = [str(MAX_INT + 1), "9" * 20, "9" * 5000]
PATH_TEXT = ["a\x00b"]
#: Query and form values (text on the wire).
TEXT_VALUES = ["a\x00b", str(MAX_INT + 1), "9" * 20, "9" * 5000, "Infinity", "1e999999"]
#: JSON member values, as JSON text.
JSON_VALUES = ['"a\\u0000b"', '"\\ud800"', str(MAX_INT + 1), "1" + "0" * 20, "1e999999", "[]", '{"a": 1}', "null",
               "true", "1.5"]
#: A form's fields posted as JSON, all of one type a browser never sends.
JSON_TYPES = ['"\\ud800"', "[1, 2]", '{"a": 1}', "null", "true", "1.5"]
#: Whole JSON bodies.
JSON_BODIES = ["[" * 100_000 + "]" * 100_000, '{"a": ' * 100_000 + "1" + "}" * 100_000, '"\\ud800"', "[1, 2]"]
#: Plausible values by field name, for the fields that are not the one under test.
BENIGN_FIELDS: dict[str, Any] = {
    "email": lambda n: f"probe{n}@example.com", "password": "probe-password-2026", "name": "Probe",
    "currency": "CNY", "quantity": "1", "amount": "1", "price": "1", "sku": lambda n: f"PROBE-{n}",
    "locale": "en", "day": "2026-01-01", "text": "hello", "reason": "probe", "role": "agent",
}
#: A query name read by at least this share of the GET routes is the app's, not a route's.
COMMON_SHARE = 0.5


@dataclass
class _Plan:
    """One rule and method: where to send, and the names its view was seen to read."""

    rule: Any
    method: str
    url: str
    query: set = field(default_factory=set)
    form: set = field(default_factory=set)
    json: set = field(default_factory=set)
    body_spec: dict = field(default_factory=dict)
    signed_out: bool = False

    @property
    def unsafe(self) -> bool:
        return self.method in UNSAFE

    @property
    def path(self) -> str:
        return urlsplit(self.url).path


class HostileWalk:
    """Walk ``app``'s URL map with hostile values; ``failures`` lists every answer >= 500.

    ``benign`` gives path argument values that name real objects (``{"order_id": 2,
    "number": "SY…"}``); an unknown number argument is 1, an unknown text one ``"x"``.
    """

    def __init__(self, app, benign: dict[str, Any] | None = None):
        self.app = app
        self.benign = dict(benign or {})
        self.failures: list[str] = []
        self.requests = 0
        self.forms: dict[str, dict[str, str]] = {}
        self._serial = count(1)
        self._paths: dict | None = None
        self._components: dict = {}

    def run(self, client, *, csrf_token: str | None = None, headers: dict | None = None,
            only: Callable | None = None, json_csrf: bool = True) -> None:
        """Walk the rules ``only`` selects with ``client`` (signed in as the caller arranged).

        ``csrf_token`` goes in every form, in ``X-CSRFToken`` and (``json_csrf``) in JSON bodies.
        """
        headers = {"Accept-Language": "en", **(headers or {}), **({"X-CSRFToken": csrf_token} if csrf_token else {})}
        form_token = {"csrf_token": csrf_token} if csrf_token else {}
        json_token = form_token if json_csrf else {}
        plans = [_Plan(rule, method, self._url(rule)) for rule in self.rules(only)
                 for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})]
        # Pages before the forms they show; routes without arguments (lists, "new" forms, whose
        # plausible posts create objects) before the routes about one object, which then exists.
        for plan in sorted(plans, key=lambda p: (bool(p.rule.arguments), p.unsafe)):
            self._discover(client, plan, headers, form_token, json_token)
        gets = [p for p in plans if not p.unsafe and not p.signed_out]
        seen_on = {name: sum(name in p.query for p in gets) for p in gets for name in p.query}
        common = {name for name, n in seen_on.items() if n >= max(2, COMMON_SHARE * len(gets))}
        for plan in plans:
            if not plan.unsafe:
                plan.query -= common
        if gets and common:
            gets[0].query |= common
        for plan in plans:
            self._probe(client, plan, headers, form_token, json_token)

    def rules(self, only: Callable | None = None) -> list:
        return sorted((r for r in self.app.url_map.iter_rules() if only is None or only(r)),
                      key=lambda r: (r.rule, sorted(r.methods or ())))

    def report(self) -> str:
        return f"{len(self.failures)} of {self.requests} requests failed:\n" + "\n".join(self.failures)

    # -- discovery ----------------------------------------------------------------------------

    def _discover(self, client, plan: _Plan, headers: dict, form_token: dict, json_token: dict) -> None:
        query_spec, plan.body_spec = self._spec(plan.rule, plan.method)
        if not plan.unsafe:
            response, plan.query, _json = self._recording(client, plan.method, f"{plan.url}?_probe=1", headers)
            plan.query |= set(query_spec)
            self._harvest(response, plan.url)
        else:
            response, plan.form, _json = self._recording(
                client, plan.method, plan.url, headers,
                data={**self._fields(plan.path, ()), "_probe": "1", **form_token})
            body = {**self._typed(self._fields(plan.path, plan.body_spec), plan.body_spec), "_probe": 1, **json_token}
            _response, _params, plan.json = self._recording(client, plan.method, plan.url, _as_json(headers),
                                                            data=json.dumps(body))
            plan.form = (plan.form | set(self.forms.get(plan.path, {}))) - {"_probe", "csrf_token"}
            plan.json = (plan.json | set(plan.body_spec)) - {"_probe", "csrf_token"}
            plan.query = set(query_spec)
        plan.query.discard("_probe")
        plan.signed_out = _to_sign_in(response)

    def _recording(self, client, method: str, url: str, headers: dict, **kwargs):
        """Send once, recording each name read from the query or form, and from JSON objects."""
        params_seen: set[str] = set()
        json_seen: set[str] = set()

        def record(base, seen):
            class Recorded(base):
                def __contains__(self, key):
                    seen.add(key)
                    return super().__contains__(key)

                def __getitem__(self, key):
                    seen.add(key)
                    return super().__getitem__(key)

                def get(self, key, *args, **kw):
                    seen.add(key)
                    return super().get(key, *args, **kw)

            return Recorded

        base_request, base_json = self.app.request_class, self.app.json

        class Params(record(base_request.parameter_storage_class, params_seen)):
            def getlist(self, key, *args, **kw):
                params_seen.add(key)
                return super().getlist(key, *args, **kw)

        class Objects(record(dict, json_seen)):
            pass

        class RecordedJSON(type(base_json)):
            def loads(self, s, **kw):
                value = base_json.loads(s, **kw)
                return Objects(value) if isinstance(value, dict) else value

        self.app.request_class = type("RecordedRequest", (base_request,), {"parameter_storage_class": Params})
        self.app.json = RecordedJSON(self.app)
        try:
            response = self._send(client, method, url, "(plausible values)", headers, **kwargs)
        finally:
            self.app.request_class, self.app.json = base_request, base_json
        return response, params_seen, json_seen

    def _harvest(self, response, url: str) -> None:
        for action, fields in page_forms(response, url).items():
            self.forms.setdefault(action, {}).update(fields)

    def _spec(self, rule, method: str) -> tuple[list[str], dict[str, dict]]:
        """Query parameter names and JSON body properties of an API operation, if documented."""
        api = self.app.extensions.get("siyu_api")
        if api is None:
            return [], {}
        if self._paths is None:
            document = api.spec.to_dict()
            self._components = document.get("components", {}).get("schemas", {})
            self._paths = document.get("paths", {})
        operation = self._paths.get(re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule), {}).get(method.lower(), {})
        query = [p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"]
        schema = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
        if "$ref" in schema:
            schema = self._components.get(schema["$ref"].rsplit("/", 1)[1], {})
        return query, schema.get("properties", {})

    # -- probing ------------------------------------------------------------------------------

    def _probe(self, client, plan: _Plan, headers: dict, form_token: dict, json_token: dict) -> None:
        method, url = plan.method, plan.url
        fields = self._fields(plan.path, () if plan.signed_out else plan.form)
        extra = {"data": {**fields, **form_token}} if plan.unsafe else {}
        for name, converter in plan.rule._converters.items():
            for value in PATH_NUMBERS if isinstance(converter, NumberConverter) else PATH_TEXT:
                self._send(client, method, self._url(plan.rule, {name: value}), f"path {name}={_show(value)}",
                           headers, **extra)
        if plan.signed_out:
            return
        for name in _one_per_shape(plan.query):
            for value in TEXT_VALUES:
                self._send(client, method, f"{url}?{urlencode({name: value})}", f"query {name}={_show(value)}",
                           headers, **extra)
        if not plan.unsafe:
            return
        for name in _one_per_shape(fields):
            for value in TEXT_VALUES:
                self._send(client, method, url, f"form {name}={_show(value)}", headers,
                           data={**fields, name: value, **form_token})
        plain = {**self._typed(self._fields(plan.path, plan.json or plan.form), plan.body_spec), **json_token}
        for name in _one_per_shape(plan.json):
            for value in JSON_VALUES:
                self._send(client, method, url, f"json {name}={_show(value)}", _as_json(headers),
                           data=_json_with(plain, {name: value}))
        if plan.form and not plan.json:  # a form posted as JSON: every field of one odd type
            for value in JSON_TYPES:
                self._send(client, method, url, f"json every field={_show(value)}", _as_json(headers),
                           data=_json_with(plain, dict.fromkeys(plan.form, value)))
        for body in JSON_BODIES:
            self._send(client, method, url, f"json body {_show(body)}", _as_json(headers), data=body)

    def _send(self, client, method: str, url: str, what: str, headers: dict, **kwargs):
        self.requests += 1
        try:
            response = client.open(url, method=method, headers=headers, **kwargs)
        except Exception as exc:  # noqa: BLE001 - the walk reports whatever escaped the app
            self.failures.append(f"{method} {_show(url, 120)} {what}: raised {type(exc).__name__}: "
                                 f"{_show(str(exc), 160)}")
            return None
        if response.status_code >= 500:
            self.failures.append(f"{method} {_show(url, 120)} {what}: {response.status_code}")
        return response

    # -- values -------------------------------------------------------------------------------

    def _url(self, rule, override: dict[str, str] | None = None) -> str:
        """The rule's path with plausible arguments; ``override`` bypasses the converters."""
        values = {n: self.benign.get(n, 1 if isinstance(c, NumberConverter) else "x")
                  for n, c in rule._converters.items()}
        if not override:
            return rule.build(values, append_unknown=False)[1]
        values.update(override)
        path = "".join(_quote(values[data]) if dynamic else data for dynamic, data in rule._trace)
        return path.split("|", 1)[1]

    def _fields(self, path: str, names: Iterable[str]) -> dict[str, Any]:
        """Plausible values for the form posted to ``path`` and the other ``names`` read: a value
        the page shows, else one by name (``BENIGN_FIELDS``), else what the page sends (an empty
        field), else "1"."""
        shown = self.forms.get(path, {})
        fields: dict[str, Any] = {}
        for name in (set(names) | set(shown)) - {"csrf_token"}:
            if shown.get(name) or (name in shown and name not in BENIGN_FIELDS):
                fields[name] = shown[name]
            else:
                value = BENIGN_FIELDS.get(name, "1")
                fields[name] = value(next(self._serial)) if callable(value) else value
        return fields

    @staticmethod
    def _typed(fields: dict[str, Any], properties: dict[str, dict]) -> dict[str, Any]:
        """Plausible JSON values: the documented type where known, else the form's text."""
        typed = {}
        for name, value in fields.items():
            kind = properties.get(name, {})
            if kind.get("enum"):
                typed[name] = kind["enum"][0]
            elif kind.get("type") in ("integer", "number") or (not kind and str(value).isdigit()
                                                                and len(str(value)) < 10):
                typed[name] = 1
            elif kind.get("type") == "boolean":
                typed[name] = True
            else:
                typed[name] = value
        return typed


class _FormHarvest(HTMLParser):
    """The POST forms of the page at ``url``: action path -> {field: first value}."""

    def __init__(self, url: str):
        super().__init__(convert_charrefs=True)
        self.url = url
        self.forms: dict[str, dict[str, str]] = {}
        self._current: dict[str, str] | None = None
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        if tag == "form":
            if a.get("method", "get").lower() == "post":
                action = urlsplit(urljoin(self.url, a.get("action", ""))).path
                self._current = self.forms.setdefault(action, {})
            return
        if self._current is None:
            return
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in ("submit", "button", "file", "image"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a and name in self._current:
                return
            self._current.setdefault(name, a.get("value", "on" if a.get("type") == "checkbox" else ""))
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and self._select not in self._current:
            self._current[self._select] = a.get("value", "")
        elif tag == "textarea" and name:
            self._textarea = name
            self._current.setdefault(name, "")

    def handle_data(self, data):
        if self._current is not None and self._textarea and not self._current[self._textarea]:
            self._current[self._textarea] = data

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def page_forms(response, url: str) -> dict[str, dict[str, str]]:
    """The POST forms of an HTML ``response`` for ``url``: action path -> {field: value shown}."""
    if response is None or response.mimetype != "text/html":
        return {}
    parser = _FormHarvest(url)
    parser.feed(response.get_data(as_text=True))
    return parser.forms


def _one_per_shape(names: Iterable[str]) -> list[str]:
    """One name per shape: ``fee_110000`` stands for every ``fee_<digits>`` (read by one loop)."""
    shapes: dict[str, str] = {}
    for name in sorted(names):
        shapes.setdefault(re.sub(r"[0-9]+", "#", name), name)
    return list(shapes.values())


def _to_sign_in(response) -> bool:
    return response is not None and response.status_code in (301, 302, 303) \
        and urlsplit(response.headers.get("Location", "")).path.endswith("/login")


def _as_json(headers: dict) -> dict:
    return {**headers, "Content-Type": "application/json"}


def _json_with(plain: dict[str, Any], raw: dict[str, str]) -> str:
    """``plain`` as JSON with ``raw``'s members written as the given JSON text."""
    members = [f"{json.dumps(k)}: {json.dumps(v)}" for k, v in plain.items() if k not in raw]
    members += [f"{json.dumps(k)}: {v}" for k, v in raw.items()]
    return "{" + ", ".join(members) + "}"


def _quote(value: Any) -> str:
    return quote(str(value), safe="")


def _show(text: str, limit: int = 40) -> str:
    shown = text.encode("unicode_escape").decode("ascii")
    return shown if len(shown) <= limit else f"{shown[:limit]}…({len(text)} chars)"
