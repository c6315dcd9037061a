"""The operator: informers feed an in-memory view; one reconciler acts on it.

- ``operator``: the kopf shell (login, start-up, clean-up, signals) that wires the rest.
- ``reconciler``: the loop that ties the parts below; ``snapshot()`` publishes the queues.
- ``view`` and ``ledger``: what the watches show, and the slots admission holds that they
  do not show yet.
- ``queues``: who waits, in which order, where and why; admission passes.
- ``effects`` and ``lanes``: the writes (admission first), timers, the one clock.
- ``actions``: the API writes of each step, through the port (kube/port.py).
- ``reports``: positions and progress, written coalesced.
- ``snapshot``, ``metrics``, ``http``: the read-only picture of the queues, and who reads it.
- ``board``, ``feed``, ``sse``, ``webview`` (and ``static/``): the read-only web view, its
  model built from what the operator holds, pushed to open pages over Server-Sent Events.
- ``progress``: the Redis stream of progress, into the reconciler.
- ``election``: leader election among replicas on a Lease; only the holder writes.

The pure parts (records, plan, statuses) live in mediajobs.lifecycle.
"""
