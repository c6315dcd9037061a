"""Pure admission: ordering, capacity, the admit/wait decision, backoff.

No kopf, no client, no clock: the controller passes in a snapshot of the world
and "now", and applies the decision it gets back.
"""
