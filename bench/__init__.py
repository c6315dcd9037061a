"""`make bench`: measurements against the targets in DESIGN.md ("Performance targets")."""
