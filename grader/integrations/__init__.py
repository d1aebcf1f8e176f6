"""Integrations with other harnesses (optional extras).

- :mod:`grader.integrations.inspect`: ``constitution_scorer()`` for Inspect AI
  (``pip install 'constitution-grader[inspect]'``).
"""
