"""Test and benchmark helpers that ship with the package, so ``tests/`` and ``bench/`` share
them without path tricks: a scriptable fake LLM server on 127.0.0.1
(:mod:`.fake_server`, with the providers' batch endpoints in :mod:`.fake_batches`) and
synthetic conversations (:mod:`.corpus`). Nothing here is used by the grader itself."""
