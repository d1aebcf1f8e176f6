"""A fault mix for the fake server: every request is answered 429 (``Retry-After: 1``),
then 500, then 503, then properly; some answers are malformed JSON (once) or off the
contract (a confidence of 7, so the pair is re-asked). Used by ``bench/judge_faults.py``
and the retry-accounting tests."""
from __future__ import annotations

import hashlib
import json
import threading

from .fake_server import Reply, Request, error_body, openai_body

FAULTS = (Reply(429, error_body(429, "rate limited"), {"retry-after": "1"}),
          Reply(500, error_body(500, "internal error")), Reply(503, error_body(503, "unavailable")))
GOOD = {"verdict": "compliant", "confidence": 0.9, "rationale": "No sign of a violation.", "evidence": []}
OFF_CONTRACT = {**GOOD, "confidence": 7}


class FaultMix:
    """The handler. A request is known by its body, so a re-sent request continues its
    sequence and a re-ask (a new body) starts a new one. ``malformed_every`` and
    ``off_contract_every`` pick the marked requests by a hash of the body."""

    def __init__(self, malformed_every: int = 7, off_contract_every: int = 5, faults: tuple[Reply, ...] = FAULTS):
        self.malformed_every = malformed_every
        self.off_contract_every = off_contract_every
        self.faults = faults
        self.seen: dict[str, int] = {}
        self.lock = threading.Lock()

    def __call__(self, req: Request) -> Reply:
        digest = hashlib.blake2b(req.body, digest_size=8).hexdigest()
        with self.lock:
            n = self.seen.get(digest, 0)
            self.seen[digest] = n + 1
        if n < len(self.faults):
            return self.faults[n]
        mark = int(digest, 16)
        reask = len((req.json or {}).get("messages", [])) > 2
        if not reask and mark % self.malformed_every == 0 and n == len(self.faults):
            return Reply(200, b"{oops")
        answer = OFF_CONTRACT if not reask and mark % self.off_contract_every == self.off_contract_every - 1 else GOOD
        return Reply(200, openai_body(json.dumps(answer)))
