"""An OPA server as an engine, over REST through opa-python-client.

``load`` uploads every module of the bundle (``PUT /v1/policies/governance/<path>``, with
``rego_compat=False``: a v0 module is an error, never silently "upgraded") and the data document
(``PUT /v1/data/waivers``); ``evaluate`` is ``POST /v1/data/<path>`` with ``{"input": ...}``. OPA
answers an undefined document with a body that has no ``result`` key
(https://www.openpolicyagent.org/docs/latest/rest-api/#get-a-document-with-input): that is
undefined, so the gate fails closed. HTTP and connection errors fail closed with the server's
message, and so does a body that is not strict JSON (a repeated key, NaN). Tests are run by
querying each ``test_*`` rule the same way (OPA's REST API has no test runner).

Configuration (environment, never logged): ``GOVERNANCE_OPA_URL`` (http[s]://host:port),
``GOVERNANCE_OPA_TOKEN`` (bearer token), ``GOVERNANCE_OPA_CA_BUNDLE`` (CA file for TLS),
``GOVERNANCE_OPA_CLIENT_CERT`` / ``GOVERNANCE_OPA_CLIENT_KEY`` (mutual TLS).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from governance import ci_context
from governance.errors import ConfigurationError
from governance.policy.bundle import PolicyBundle
from governance.policy.engines.opa_cli import errors_to_engine_error
from governance.policy.engines.port import (
    DEFAULT_TIMEOUT_S,
    EngineError,
    Evaluation,
    RegoTestResult,
    SourceLocation,
    decode_engine_json,
    normalise_path,
)
from governance.policy.testing import discover_tests


def _policy_id(path: str) -> str:
    return "governance/" + path.replace("/", "_")


class OpaServerEngine:
    """``PolicyEngine`` over an OPA server's REST API."""

    name = "opa-server"

    def __init__(self, client: Any, url: str, *, upload: bool = True) -> None:
        self.client = client
        self.url = url
        self.upload = upload
        self._bundle: PolicyBundle | None = None

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        token: str | None = None,
        ca_bundle: str | None = None,
        client_cert: tuple[str, str] | None = None,
    ) -> OpaServerEngine:
        from opa_client.opa import OpaClient

        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigurationError(
                f"OPA server URL {url!r} is not http(s)://host[:port]",
                hint="set GOVERNANCE_OPA_URL, e.g. https://opa.internal:8181",
            )
        https = parts.scheme == "https"
        env = ci_context.current()
        token = token or env.variable("GOVERNANCE_OPA_TOKEN") or None
        ca_bundle = ca_bundle or env.variable("GOVERNANCE_OPA_CA_BUNDLE") or None
        cert_file = env.variable("GOVERNANCE_OPA_CLIENT_CERT")
        key_file = env.variable("GOVERNANCE_OPA_CLIENT_KEY")
        if client_cert is None and cert_file and key_file:
            client_cert = (cert_file, key_file)
        # opa-python-client sets requests' `verify` from `ssl`: True, or a CA bundle path
        ssl: bool | str = (ca_bundle or True) if https else False
        client = OpaClient(
            host=parts.hostname,
            port=parts.port or (443 if https else 8181),
            ssl=ssl,
            cert=client_cert,
            token=token,
            timeout=timeout_s,
            retries=0,
        )
        return cls(client, f"{parts.scheme}://{parts.hostname}:{parts.port or ''}".rstrip(":"))

    def version(self) -> str:
        try:
            status = self.client.get_status()
            labels = status.get("result", {}).get("labels", {}) if isinstance(status, dict) else {}
            return str(labels.get("version") or "unknown")
        except Exception:  # noqa: BLE001 - the status plugin is optional on a server
            return "unknown"

    def _upload(self, bundle: PolicyBundle, data: Mapping[str, Any], with_tests: bool) -> None:
        from opa_client.errors import RegoParseError

        for f in bundle.files:
            if f.is_test and not with_tests:
                continue
            try:
                self.client.update_policy_from_string(
                    f.source, _policy_id(f.path), rego_compat=False
                )
            except RegoParseError as err:
                raise EngineError(f"OPA server rejected {f.path}: {err}", kind="compile") from None
            except Exception as err:  # noqa: BLE001 - requests/HTTP errors: fail closed
                raise self._http_error(err, f"uploading {f.path}") from None
        for key, value in data.items():
            try:
                if isinstance(value, dict):
                    self.client.update_or_create_data(value, key)
                else:  # PUT of a non-object is refused by the client: JSON-patch it in
                    self.client.patch_data("", [{"op": "add", "path": f"/{key}", "value": value}])
            except Exception as err:  # noqa: BLE001
                raise self._http_error(err, f"uploading data.{key}") from None

    def load(self, bundle: PolicyBundle, data: Mapping[str, Any] | None = None) -> None:
        self._bundle = bundle
        if self.upload:
            self._upload(bundle, dict(data or {}), with_tests=False)

    def _http_error(self, err: Exception, what: str) -> EngineError:
        response = getattr(err, "response", None)
        if response is not None:
            try:
                body = response.json()
            except ValueError:
                body = {"message": response.text[:500]}
            if isinstance(body, dict) and body.get("errors"):
                e = errors_to_engine_error(body)
                e.reason = f"OPA server error while {what}: {e.reason}"
                return e
            message = body.get("message") if isinstance(body, dict) else None
            return EngineError(
                f"OPA server answered {response.status_code} while {what}: {message or body}"
            )
        return EngineError(f"OPA server unreachable while {what}: {err}", kind="unavailable")

    def _post_query(self, ref: str, input_doc: Mapping[str, Any]) -> bytes:
        """``POST /v1/data/<ref>`` through the client's own session (its TLS, token and
        timeout), returning the body unread: opa-python-client's ``query_rule`` decodes it with
        ``response.json()``, which keeps the last of repeated keys, so the body is read here by
        ``decode_engine_json`` instead."""
        client = self.client
        response = client._session.post(
            f"{client.root_url}/data/{ref.replace('.', '/')}",
            json={"input": dict(input_doc)},
            timeout=client.timeout,
        )
        response.raise_for_status()
        return bytes(response.content)

    def _query(self, path: str, input_doc: Mapping[str, Any]) -> Any:
        ref = normalise_path(path)
        try:
            body = self._post_query(ref, input_doc)
        except Exception as err:  # noqa: BLE001 - every transport failure is a denial
            raise self._http_error(err, f"evaluating data.{ref}") from None
        doc = decode_engine_json(body, f"OPA server response for data.{ref}")
        if not isinstance(doc, dict) or "result" not in doc:
            raise EngineError(
                f"data.{ref} is undefined (no result in the response)", kind="undefined"
            )
        return doc["result"]

    def evaluate(self, path: str, input_doc: Mapping[str, Any]) -> Evaluation:
        started = time.perf_counter()
        value = self._query(path, input_doc)
        return Evaluation(normalise_path(path), value, (), (time.perf_counter() - started) * 1e3)

    def run_tests(self, bundle: PolicyBundle) -> list[RegoTestResult]:
        self._upload(bundle, {}, with_tests=True)
        results = []
        for t in discover_tests(bundle):
            loc = SourceLocation(t.file, t.line)
            if t.skip:
                results.append(RegoTestResult(t.package, t.name, loc, "skip"))
                continue
            try:
                value = self._query(f"{t.package}.{t.name}", {})
                outcome = "pass" if value is True else "fail"
                message = "" if value is True else f"got {value!r}, expected true"
            except EngineError as err:
                outcome = "fail" if err.kind == "undefined" else "error"
                message = err.reason
            results.append(RegoTestResult(t.package, t.name, loc, outcome, message))
        return results

    def close(self) -> None:
        try:
            self.client.close_connection()
        except Exception:  # noqa: BLE001 - closing an idle session cannot change a decision
            pass
