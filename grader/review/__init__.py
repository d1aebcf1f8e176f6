"""Review tools that read a finished run: checklists (gates), calibration against human labels, audits."""
