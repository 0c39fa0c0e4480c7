"""Offline investigative assistant: cited answers over closed-case evidence."""

__version__ = "0.1.0"
