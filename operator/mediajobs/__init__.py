"""mediajobs: a Kubernetes-native operator for media work.

Layers (enforced by import-linter, see pyproject.toml):
``cli > {controller, worker} > kube > {scheduling, jobs, progress} > catalog > api``.
``api`` and ``catalog`` are plain data; only ``kube`` talks to the API server.
"""

__version__ = "0.1.0"
