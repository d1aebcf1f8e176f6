"""What an agent did, for the ``tool_call``, ``claim_vs_action`` and ``unreported_action``
kinds: tool calls parsed into actions (``actions.py``, reading shell, patches and Python the
agent ran), tool results (``toolresults.py``), what the user asked for (``requested.py``) and
the detectors of harmful actions (``detectors/``)."""
