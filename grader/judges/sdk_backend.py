"""What the OpenAI and Anthropic backends share: an official SDK client per event loop
(retries off: tenacity retries in one layer), settings without secrets, and the mapping
of the SDK's errors to transient (retried) or final provider errors."""
from __future__ import annotations

from types import ModuleType
from typing import Any, Awaitable, Callable, Mapping, TypeVar

from ..errors import TransientProviderError
from .http_client import LoopClient, pooled_http_client
from .transport import Scrubber, error_message, public_url, status_error

T = TypeVar("T")


def _transport_cause(error: BaseException) -> BaseException | None:
    """The aiohttp exception behind an SDK error, if any. The SDKs' aiohttp transport
    reports every aiohttp connection error (a refused connection, a dropped one) as a
    connect *timeout*; the original tells which it was."""
    seen: set[int] = set()
    e: BaseException | None = error
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        if type(e).__module__.split(".")[0] == "aiohttp":
            return e
        e = e.__cause__ or e.__context__
    return None


class SdkBackend:
    """Base of the SDK backends. Subclasses set ``name``, ``sdk`` (the SDK module),
    ``client_class`` (its async client) and ``path`` (the endpoint), and implement
    ``request``, ``reask`` and ``send``."""

    name: str = ""
    sdk: ModuleType
    client_class: Any
    path: str = ""
    cacheable = True

    def __init__(self, model: str, api_key: str, *, base_url: str | None = None, timeout: float = 120.0,
                 temperature: float | None = 0.0, pool: int = 8):
        self.model = model
        self._api_key = api_key
        self.base_url = base_url
        self.timeout = timeout
        self.pool = pool
        self.temperature = temperature
        self.scrub = Scrubber([api_key])
        self.clients: LoopClient[Any] = LoopClient(self._make_client)

    @classmethod
    def from_spec(cls, target: str, *, api_key: str, base_url: str | None, timeout: float,
                  temperature: float | None, pool: int, **_: Any) -> "SdkBackend":
        """The backend for the spec ``NAME:target`` (the factory's one way to build any backend)."""
        return cls(target, api_key, base_url=base_url, timeout=timeout, temperature=temperature, pool=pool)

    def _make_client(self) -> Any:
        return self.client_class(api_key=self._api_key, base_url=self.base_url, max_retries=0,
                                 timeout=self.timeout, http_client=pooled_http_client(self.sdk, self.pool))

    def params(self) -> dict[str, Any]:
        """What besides the request body decides the answer (part of the cache key): the
        temperature, and the server — two servers may serve the same model name."""
        return {"temperature": self.temperature, "base_url": public_url(self.base_url)}

    def settings(self) -> dict[str, Any]:
        return {"backend": self.name, "model": self.model, "base_url": public_url(self.base_url),
                "timeout": self.timeout, "temperature": self.temperature}

    async def post(self, body: Mapping[str, Any]) -> str:
        """POST ``body`` exactly as given and return the raw response text.

        ``client.post`` is the SDK's documented way to send an exact JSON body (no
        per-request re-typing of the body); errors, headers and timeouts are the SDK's own."""
        return await self.call(lambda client: client.post(self.path, cast_to=str, body=dict(body)))

    async def call(self, fn: Callable[[Any], Awaitable[T]]) -> T:
        """``await fn(client)`` with the SDK's errors mapped to transient (retried) or final
        provider errors, secrets scrubbed (also used by the batch clients)."""
        try:
            return await fn(await self.clients.get())
        except self.sdk.APITimeoutError as e:
            cause = _transport_cause(e)
            if cause is None or isinstance(cause, TimeoutError):
                raise TransientProviderError(f"{self.name}: no response within {self.timeout:g}s (timeout)") from None
            raise TransientProviderError(self.scrub(f"{self.name}: connection error: {cause}")) from None
        except self.sdk.APIConnectionError as e:
            raise TransientProviderError(self.scrub(f"{self.name}: connection error: {e}")) from None
        except self.sdk.APIStatusError as e:
            raise status_error(self.name, e.status_code, self.scrub(error_message(e.body, e.message)),
                               e.response.headers) from None

    async def aclose(self) -> None:
        await self.clients.aclose()
