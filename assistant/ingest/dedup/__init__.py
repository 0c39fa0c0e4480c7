"""Duplicates across sources: a message already indexed from one source is not indexed again from another; the later
source's provenance is added to the chunk that holds it (keys.py: what makes two messages the same; table.py: the
per-case key table beside the manifest; provenance.py: the holder chunks' metadata; merger.py: the ingest steps)."""
