"""Answering: the answerer (LLM draft or extractive), answer-type checks and the prompt templates."""
