"""A case's keyword index: BM25 over our own tokens, built in one streamed pass and scored with NumPy."""
