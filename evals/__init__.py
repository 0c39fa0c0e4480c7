"""Evaluation harness: public-data and demo-case suites, a threshold gate for CI, and a report writer.

Run `python -m evals list | SUITE | all | ci [--json] [--quick] [--out DIR]`."""
