"""S3-compatible storage settings from the usual ``AWS_*`` variables and command-line flags, stated explicitly.

Why explicit: obstore reads ``AWS_*`` variables inside its Rust builder, but the resulting store does not
show them in ``store.config``, and the Icechunk publisher configures its virtual chunk containers (endpoint,
region, path style, plain HTTP, read credentials) from ``store.config``. A build against MinIO or moto
would then publish containers pointing at AWS. So the command line resolves the settings once, here, and
hands the same values to every obstore store (sources, catalogs) and to Icechunk's repository storage.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from .errors import InvalidArgumentError

__all__ = ["S3Settings"]


def _truthy(value: str | None) -> bool:
    return str(value or "").strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class S3Settings:
    """Endpoint, region, plain-HTTP permission and static credentials for S3-compatible storage."""

    endpoint_url: str | None = None
    region: str | None = None
    allow_http: bool = False
    access_key_id: str | None = None
    secret_access_key: str | None = None
    session_token: str | None = None

    @classmethod
    def from_env(cls, *, endpoint_url: str | None = None, region: str | None = None, allow_http: bool | None = None,
                 environ: Mapping[str, str] | None = None) -> S3Settings:
        """Flags first, then ``AWS_ENDPOINT_URL`` (``AWS_ENDPOINT``), ``AWS_REGION`` (``AWS_DEFAULT_REGION``),
        ``AWS_ALLOW_HTTP``, ``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``/``AWS_SESSION_TOKEN``."""
        env = os.environ if environ is None else environ
        endpoint = endpoint_url or env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL") \
            or env.get("AWS_ENDPOINT")
        settings = cls(
            endpoint_url=endpoint or None,
            region=region or env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or None,
            allow_http=bool(allow_http) or _truthy(env.get("AWS_ALLOW_HTTP")),
            access_key_id=env.get("AWS_ACCESS_KEY_ID") or None,
            secret_access_key=env.get("AWS_SECRET_ACCESS_KEY") or None,
            session_token=env.get("AWS_SESSION_TOKEN") or None,
        )
        if settings.endpoint_url and settings.endpoint_url.startswith("http://") and not settings.allow_http:
            raise InvalidArgumentError(
                f"the S3 endpoint {settings.endpoint_url} is plain http://, which is refused by default; pass "
                "--allow-http (or set AWS_ALLOW_HTTP=true) if that is intended")
        return settings

    def store_kwargs(self) -> dict[str, Any]:
        """Keywords of ``obstore.store.S3Store`` (besides the bucket)."""
        kwargs: dict[str, Any] = {}
        if self.endpoint_url:
            kwargs.update(endpoint=self.endpoint_url, virtual_hosted_style_request=False)
        if self.region:
            kwargs["region"] = self.region
        if self.access_key_id and self.secret_access_key:
            kwargs.update(access_key_id=self.access_key_id, secret_access_key=self.secret_access_key)
            if self.session_token:
                kwargs["token"] = self.session_token
        if self.allow_http:
            kwargs["client_options"] = {"allow_http": True}
        return kwargs

    def obstore_store(self, bucket: str) -> Any:
        from obstore.store import S3Store

        return S3Store(bucket, **self.store_kwargs())

    def icechunk_storage(self, url: str) -> Any:
        """Icechunk repository storage at ``s3://bucket/prefix``."""
        import icechunk as ic

        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.netloc:
            raise InvalidArgumentError(f"{url}: expected s3://bucket/prefix for an Icechunk repository in S3")
        static = bool(self.access_key_id and self.secret_access_key)
        return ic.s3_storage(
            bucket=parts.netloc, prefix=parts.path.strip("/") or None, region=self.region,
            endpoint_url=self.endpoint_url, allow_http=self.allow_http,
            access_key_id=self.access_key_id if static else None,
            secret_access_key=self.secret_access_key if static else None,
            session_token=self.session_token if static else None,
            from_env=None if static else True, force_path_style=self.endpoint_url is not None)
