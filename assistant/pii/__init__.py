"""PII: Presidio tagging with UK recognizers, identifier normalisation, and role-gated masking for display."""
