"""Ingest: a case folder -> loaded documents -> chunks (sized by the embedder's tokenizer) -> the index."""
