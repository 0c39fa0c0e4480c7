"""The Gradio interface: one builder per tab, pure rendering helpers, handlers that are plain functions."""
