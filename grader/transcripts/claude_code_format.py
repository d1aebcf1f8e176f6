"""Claude Code session files (``~/.claude/projects/<project>/<session id>.jsonl``).

One JSON record a line. Records of ``type`` ``user`` and ``assistant`` carry an Anthropic
Messages ``message`` (text, ``tool_use``, ``tool_result``, ``thinking`` blocks, read by
``anthropic_format``); every record has ``uuid`` and ``parentUuid``, and ``sessionId``,
``isSidechain``, ``cwd``, ``gitBranch``, ``version``, ``timestamp``. Other types (``summary``,
``system`` notices, ``file-history-snapshot``, ``queue-operation``, ``attachment``, ...) are not
conversation turns: ``summary`` texts are kept as metadata, the rest is left out.

- The main conversation follows the parent chain (``parentUuid``, or ``logicalParentUuid``
  across a compaction) back from its last message, so turns abandoned by an edit or a retry
  are left out and the order is the chain's; records without uuids are read in file order.
- An assistant reply written as several records (one per content block, sharing
  ``message.id``) is one message.
- Sidechains (sub-agents, ``isSidechain: true``) are their own transcripts, one per chain
  (per ``agentId`` when records carry one), with metadata ``sidechain: true``; id
  ``<session id>/sidechain-<agentId or N>``.
- Metadata: ``sessionId``, ``cwd``, ``gitBranch``, ``version``, ``model`` (of the first
  assistant message), ``started``/``ended`` (first and last timestamp), ``summary`` (list).
- Id: the session id (else the file stem); locator ``line N`` of the chain's first record.

Detected when one of the first lines is an object with a ``sessionId`` and a ``type``, or a
``summary`` record with a ``leafUuid``.
"""
from __future__ import annotations

import json
from typing import Any, Iterator

from ..errors import InputError
from .anthropic_format import messages_from_anthropic
from .jsonio import iter_jsonl
from .model import Source, Transcript

TURN_TYPES = frozenset({"user", "assistant"})


def detect(head: bytes, path: str) -> bool:
    for line in head.split(b"\n")[:10]:
        try:
            rec = json.loads(line)
        except (ValueError, RecursionError):
            continue
        if isinstance(rec, dict) and isinstance(rec.get("type"), str) and (
                "sessionId" in rec or (rec["type"] == "summary" and "leafUuid" in rec)):
            return True
    return False


def read(path: str, stem: str) -> Iterator[Transcript | InputError]:
    records: list[tuple[int, dict[str, Any]]] = []
    summaries: list[str] = []
    for item in iter_jsonl(path):
        if isinstance(item, InputError):
            yield item
            continue
        n, rec = item
        if not isinstance(rec, dict):
            yield InputError(path, f"line {n}", f"expected a Claude Code record (an object), got {type(rec).__name__}")
            continue
        if rec.get("type") == "summary" and isinstance(rec.get("summary"), str):
            summaries.append(rec["summary"])
        records.append((n, rec))
    if not any(_is_turn(r) for _, r in records):
        yield InputError(path, "", "Claude Code session without user or assistant messages")
        return
    by_uuid = {r["uuid"]: (n, r) for n, r in records if isinstance(r.get("uuid"), str)}
    main = [x for x in records if not x[1].get("isSidechain")]
    session = next((r["sessionId"] for _, r in records if isinstance(r.get("sessionId"), str)), None) or stem
    if any(_is_turn(r) for _, r in main):
        chain, gaps = _chain_or_all(main, by_uuid)
        yield from _transcript(chain, path, str(session), {**({"summary": summaries} if summaries else {}), **gaps})
    for label, group in _sidechains([x for x in records if x[1].get("isSidechain")]):
        chain, gaps = _chain_or_all(group, by_uuid)
        yield from _transcript(chain, path, f"{session}/sidechain-{label}", {"sidechain": True, **gaps})


def _chain_or_all(records: list[tuple[int, dict[str, Any]]], by_uuid: dict[str, tuple[int, dict[str, Any]]]
                  ) -> tuple[list[tuple[int, dict[str, Any]]], dict[str, Any]]:
    """The parent chain, and metadata on what it leaves out; when the chain breaks (a
    parent not in the file), every turn in file order instead, so nothing before the break
    is lost."""
    chain = _chain(records, by_uuid)
    gaps = _left_out(records, chain, by_uuid)
    if "chain_broken_at" in gaps:
        gaps.pop("off_chain_lines", None)
        return [x for x in records if _is_turn(x[1])], gaps
    return chain, gaps


def _left_out(records: list[tuple[int, dict[str, Any]]], chain: list[tuple[int, dict[str, Any]]],
              by_uuid: dict[str, tuple[int, dict[str, Any]]]) -> dict[str, Any]:
    """Metadata naming what the parent chain does not reach, so nothing is dropped unseen:
    ``off_chain_lines`` (turns on abandoned branches or before a break; their tool calls may
    have run) and ``chain_broken_at`` (the line whose parent is not in the file)."""
    out: dict[str, Any] = {}
    on = {n for n, _ in chain}
    off = [n for n, r in records if _is_turn(r) and n not in on]
    if off:
        out["off_chain_lines"] = off
    if chain:
        first = chain[0][1]
        parent = first.get("parentUuid") or first.get("logicalParentUuid")
        if isinstance(parent, str) and parent not in by_uuid:
            out["chain_broken_at"] = chain[0][0]
    return out


def _is_turn(rec: dict[str, Any]) -> bool:
    return rec.get("type") in TURN_TYPES and isinstance(rec.get("message"), dict)


def _chain(records: list[tuple[int, dict[str, Any]]], by_uuid: dict[str, tuple[int, dict[str, Any]]]
           ) -> list[tuple[int, dict[str, Any]]]:
    """The turns on the parent chain of the last turn in ``records`` (all turns in file
    order when the records carry no uuids). The chain runs through every record type."""
    turns = [x for x in records if _is_turn(x[1])]
    if not turns or not turns[-1][1].get("uuid"):
        return turns
    out = []
    seen: set[str] = set()
    cur: tuple[int, dict[str, Any]] | None = turns[-1]
    while cur is not None:
        uid = cur[1].get("uuid")
        if not isinstance(uid, str) or uid in seen:
            break  # no uuid, or a cycle in a damaged file
        seen.add(uid)
        out.append(cur)
        parent = cur[1].get("parentUuid") or cur[1].get("logicalParentUuid")
        cur = by_uuid.get(parent) if isinstance(parent, str) else None
    return [x for x in reversed(out) if _is_turn(x[1])]


def _sidechains(records: list[tuple[int, dict[str, Any]]]) -> Iterator[tuple[str, list[tuple[int, dict[str, Any]]]]]:
    """Sidechain records grouped per sub-agent: by ``agentId``, else by the chain's root."""
    groups: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    roots: dict[str, str] = {}
    count = 0
    for n, r in records:
        agent = r.get("agentId")
        if isinstance(agent, str) and agent:
            key = agent
        else:
            parent = r.get("parentUuid")
            found = roots.get(parent) if isinstance(parent, str) else None
            if found is None:
                count += 1
                found = str(count)
            key = found
        if isinstance(r.get("uuid"), str):
            roots[r["uuid"]] = key
        groups.setdefault(key, []).append((n, r))
    for key, group in groups.items():
        if any(_is_turn(r) for _, r in group):
            yield key, group


def _transcript(chain: list[tuple[int, dict[str, Any]]], path: str, tid: str,
                extra: dict[str, Any]) -> Iterator[Transcript | InputError]:
    if not chain:
        return
    locator = f"line {chain[0][0]}"
    messages: list[dict[str, Any]] = []
    last_id: Any = None
    for _, rec in chain:
        msg = rec["message"]
        role = msg.get("role", rec["type"])
        content = msg.get("content")
        blocks = content if isinstance(content, list) else [{"type": "text", "text": content or ""}]
        mid = msg.get("id")
        if role == "assistant" and mid is not None and mid == last_id and messages:
            messages[-1]["content"].extend(blocks)  # one reply written as several records
            continue
        messages.append({"role": role, "content": list(blocks)})
        last_id = mid if role == "assistant" else None
    try:
        msgs = messages_from_anthropic(None, messages, path, locator)
    except InputError as e:
        yield e
        return
    first = chain[0][1]
    meta: dict[str, Any] = {k: first[k] for k in ("sessionId", "cwd", "gitBranch", "version") if first.get(k)}
    model = next((r["message"].get("model") for _, r in chain if r["type"] == "assistant" and r["message"].get("model")), None)
    if model:
        meta["model"] = model
    if first.get("agentId"):
        meta["agentId"] = first["agentId"]
    stamps = [r["timestamp"] for _, r in chain if isinstance(r.get("timestamp"), str)]
    if stamps:
        meta["started"], meta["ended"] = stamps[0], stamps[-1]
    meta.update(extra)
    yield Transcript(tid, msgs, meta, Source(path, locator))
