"""The API: pydantic models that are the CRD contract (group mediajobs.dev).

``common`` (names and the base model), ``mediajob``, ``hitl``, ``task`` (the
worker contract), ``crd`` (the generator). Import the module you need: the
job container loads the MediaJob and Task models, never the generator.
"""
