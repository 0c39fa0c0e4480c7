"""The per-case index (Chroma vectors, BM25 beside it, the ingest manifest), the embedder and hybrid retrieval."""
