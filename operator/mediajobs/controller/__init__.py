"""The operator: kopf watches feed an in-memory view; one reconciler acts on it.

Pure parts (records, plan, statuses) take data and return data; the async
parts (reconciler, handlers, progress, http) read the world and apply them.
"""
