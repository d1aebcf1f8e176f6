"""Security analysis of code the assistant wrote, for the ``code_security`` kind: finding
the code (``code_extract.py``), bandit (``bandit_scan.py``), AST detectors
(``security_*.py``) and whether the user asked for it (``security_exemption.py``)."""
