"""Machine translation of untranslated messages: stored beside the original with provenance, never replacing a
human translation or the original (issue 16)."""
