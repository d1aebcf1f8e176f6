"""What a check kind is (``base.py``: Check, CheckResult, Hit; ``context.py``: the values
shared by every check run on one transcript) and the built-in kinds, one module each;
:mod:`grader.checks.registry` lists them in its table."""
