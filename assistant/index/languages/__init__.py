"""Search across languages: the multilingual vector space, EmbeddingGemma re-scoring, and how retrieval uses both."""
