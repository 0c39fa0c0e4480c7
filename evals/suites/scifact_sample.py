"""SciFact on a sampled corpus through the product's path: the CI selection's SciFact (see `scifact.run_sample`)."""

from evals.suites.scifact import run_sample as run

__all__ = ["run"]
