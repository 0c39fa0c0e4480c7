"""Helpers of the extractive answerer's sentence scoring (kept apart: `assistant/answer/` is full)."""
