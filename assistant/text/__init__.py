"""The text toolkit: pure functions over strings, shared by every stage (no imports above the base)."""
