"""Verification: every claim of a draft is checked against the words of its cited passages."""
