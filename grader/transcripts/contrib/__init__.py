"""Readers for formats of particular projects, shipped as worked examples of the
``grader.formats`` plug-in mechanism (each module exposes ``FORMAT``)."""
