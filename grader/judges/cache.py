"""The judge's answer cache: SQLite (WAL) in the user cache directory.

The key is a 256-bit BLAKE2b hash of the backend name, the model, the request parameters,
the exact JSON request body and the sample number, so a re-run of the same requests is
served from here with no network call (BLAKE2b: about three times faster than sha256 on
~5 KB requests, where hashing was the largest cost of a cached judgment). API keys are never part of a key or a value. The folder is
``$GRADER_CACHE_DIR`` if set, else the platform's user cache dir (``~/.cache/
constitution-grader`` on Linux).
"""
from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from pathlib import Path
from typing import Any, Callable, Mapping, Protocol, Sequence

import platformdirs

from ..errors import JudgeConfigError

CACHE_ENV = "GRADER_CACHE_DIR"
CACHE_FILE = "judge-cache.sqlite3"
CACHE_VERSION = 2  # 2: BLAKE2b keys, long strings by digest

_SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    key TEXT PRIMARY KEY,
    backend TEXT NOT NULL,
    model TEXT NOT NULL,
    created REAL NOT NULL,
    value TEXT NOT NULL
)
"""


def cache_dir(override: str | Path | None = None) -> Path:
    """Where the cache lives: ``override``, else ``$GRADER_CACHE_DIR``, else the user cache dir."""
    if override is not None:
        return Path(override)
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env)
    return Path(platformdirs.user_cache_dir("constitution-grader", appauthor=False))


_FROZEN: dict[int, tuple[Any, bytes]] = {}

#: Strings this long are represented by their own BLAKE2b digest (a Merkle step), which is
#: remembered per string object: the judge's system prompt, one object sent with every
#: request, is then hashed once instead of once per request.
_LONG = 1024
_DIGESTS: dict[int, tuple[str, bytes]] = {}


def _long_str(v: str) -> bytes:
    hit = _DIGESTS.get(id(v))
    if hit is not None and hit[0] is v:
        return hit[1]
    out = b"h" + hashlib.blake2b(v.encode("utf-8"), digest_size=32).digest()
    if len(_DIGESTS) >= 64:  # unique texts churn through; the shared ones come straight back
        _DIGESTS.clear()
    _DIGESTS[id(v)] = (v, out)  # the reference keeps the id from being reused
    return out


def _feed(put: Callable[[bytes], Any], v: Any) -> None:
    """Put ``v`` in an unambiguous canonical form (type tags, lengths, sorted keys): equal
    JSON values give equal bytes, different ones differ. Short strings inside containers
    are inlined; long ones (message texts) stand as their digest."""
    t = type(v)
    if t is str:
        if len(v) >= _LONG:
            put(_long_str(v))
            return
        b = v.encode("utf-8")
        put(b"s%d:" % len(b))
        put(b)
        return
    hit = _FROZEN.get(id(v))
    if hit is not None and hit[0] is v:
        put(hit[1])
    elif t is dict:
        put(b"d%d:" % len(v))
        for k in sorted(v):
            x = v[k]
            kb = k.encode("utf-8")
            if type(x) is str and len(x) < _LONG:
                xb = x.encode("utf-8")
                put(b"s%d:%bs%d:" % (len(kb), kb, len(xb)))
                put(xb)
            else:
                put(b"s%d:%b" % (len(kb), kb))
                _feed(put, x)
    elif t is list or t is tuple:
        put(b"l%d:" % len(v))
        for x in v:
            _feed(put, x)
    elif v is None or t is bool:
        put(b"c" + repr(v).encode() + b";")
    elif t is int or t is float:
        put(b"n" + repr(v).encode() + b";")
    else:
        raise TypeError(f"cannot hash {t.__name__} in a judge request")


def canonical(value: Any) -> bytes:
    """The canonical bytes of a JSON value (see :func:`_feed`)."""
    parts: list[bytes] = []
    _feed(parts.append, value)
    return b"".join(parts)


def frozen(value: Any) -> Any:
    """Register a constant (never mutated, kept alive) request part, e.g. the answer
    schema, so its canonical bytes are computed once instead of for every request."""
    _FROZEN[id(value)] = (value, canonical(value))
    return value


def key_head(backend: str, model: str, params: Mapping[str, Any]) -> bytes:
    """The canonical bytes of what, besides the request and sample, goes into a key."""
    return canonical({"v": CACHE_VERSION, "backend": backend, "model": model, "params": dict(params)})


def request_key(head: bytes, request: Mapping[str, Any], sample: int) -> str:
    """BLAKE2b-256 of :func:`key_head`, the sample number and the exact request body
    (joined first: one hash update instead of dozens)."""
    parts = [head, b"sample%d;" % sample]
    _feed(parts.append, request if type(request) is dict else dict(request))
    return hashlib.blake2b(b"".join(parts), digest_size=32).hexdigest()


def cache_key(backend: str, model: str, params: Mapping[str, Any], request: Mapping[str, Any],
              sample: int) -> str:
    """BLAKE2b-256 of everything that determines the answer (never the API key): the backend,
    model, parameters, sample number and the exact request body."""
    return request_key(key_head(backend, model, params), request, sample)


class AnswerCache(Protocol):
    """What the judge needs of a cache (:class:`JudgeCache`, or a wrapper of one)."""

    path: Path

    def get(self, key: str) -> dict[str, Any] | None: ...

    def get_many(self, keys: Sequence[str]) -> dict[str, dict[str, Any]]: ...

    def put(self, key: str, backend: str, model: str, value: Mapping[str, Any]) -> None: ...

    def close(self) -> None: ...


class JudgeCache:
    """A key -> JSON value store. Reads and writes are synchronous and short (WAL mode,
    ``synchronous=NORMAL``): a lookup costs tens of microseconds."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(self.path), timeout=30, isolation_level=None,
                                       check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(_SCHEMA)
        except (OSError, sqlite3.Error) as e:
            raise JudgeConfigError(f"{self.path}: cannot open the judge cache: {e} "
                                   f"(set {CACHE_ENV} to another folder, or pass --no-cache)") from None

    @classmethod
    def open_default(cls, directory: str | Path | None = None) -> "JudgeCache":
        return cls(cache_dir(directory) / CACHE_FILE)

    #: lookups and writes that failed (e.g. "database is locked" when two runs share the
    #: cache): a failed lookup is a miss and a failed write is skipped, never a lost judgment
    failures = 0

    def get(self, key: str) -> dict[str, Any] | None:
        try:
            row = self._db.execute("SELECT value FROM answers WHERE key = ?", (key,)).fetchone()
        except sqlite3.Error:
            self.failures += 1
            return None
        if row is None:
            return None
        try:
            value = json.loads(row[0])
        except json.JSONDecodeError:
            return None  # a corrupt entry is a miss; it is overwritten by the next answer
        return value if isinstance(value, dict) else None

    def get_many(self, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The entries found among ``keys`` (one query per 500 keys)."""
        out: dict[str, dict[str, Any]] = {}
        for i in range(0, len(keys), 500):
            chunk = keys[i:i + 500]
            try:
                rows = self._db.execute(f"SELECT key, value FROM answers WHERE key IN ({','.join('?' * len(chunk))})",
                                        chunk).fetchall()
            except sqlite3.Error:
                self.failures += 1
                continue
            for key, value in rows:
                try:
                    parsed = json.loads(value)
                except json.JSONDecodeError:
                    continue
                if isinstance(parsed, dict):
                    out[key] = parsed
        return out

    def put(self, key: str, backend: str, model: str, value: Mapping[str, Any]) -> None:
        try:
            self._db.execute("INSERT OR REPLACE INTO answers (key, backend, model, created, value) VALUES (?, ?, ?, ?, ?)",
                             (key, backend, model, time.time(), json.dumps(value, ensure_ascii=True)))
        except sqlite3.Error:
            self.failures += 1

    def __len__(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM answers").fetchone()[0])

    def close(self) -> None:
        self._db.close()
