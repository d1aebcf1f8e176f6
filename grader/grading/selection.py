"""Which transcripts a run grades: ``--limit`` and ``--sample`` over the input stream, and
transcript ids made unique within the run."""
from __future__ import annotations

import random
from dataclasses import replace
from typing import Callable, Iterator, Mapping

from ..errors import InputError
from ..transcripts.model import Transcript


def select(items: Iterator[Transcript | InputError], limit: int | None, sample: int | None, seed: int,
           on_error: Callable[[InputError], None]) -> Iterator[Transcript]:
    """Apply --limit and --sample (seeded reservoir sampling), pass errors to on_error."""
    def good() -> Iterator[Transcript]:
        for item in items:
            if isinstance(item, InputError):
                on_error(item)
            else:
                yield item

    stream = good()
    if sample is not None:
        rng = random.Random(seed)
        reservoir: list[tuple[int, Transcript]] = []
        for i, t in enumerate(stream):
            if len(reservoir) < sample:
                reservoir.append((i, t))
            else:
                j = rng.randint(0, i)
                if j < sample:
                    reservoir[j] = (i, t)
        stream = iter([t for _, t in sorted(reservoir, key=lambda x: x[0])])
    for n, t in enumerate(stream):
        if limit is not None and n >= limit:
            return
        yield t


class UniqueIds:
    """Makes transcript ids unique within a run, deterministically: a repeated id ``x``
    becomes ``x#2`` (or the next free ``x#N`` when an input already uses ``x#2``)."""

    def __init__(self) -> None:
        self.issued: set[str] = set()
        self.repeats: dict[str, int] = {}

    def __call__(self, t: Transcript, tags: Mapping[str, str]) -> Transcript:
        new_id = t.id
        if new_id in self.issued:
            n = self.repeats.get(t.id, 1)
            while new_id in self.issued:
                n += 1
                new_id = f"{t.id}#{n}"
            self.repeats[t.id] = n
        self.issued.add(new_id)
        if new_id == t.id and not tags:
            return t
        return replace(t, id=new_id, metadata={**t.metadata, **tags})
