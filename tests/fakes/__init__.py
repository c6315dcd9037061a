"""In-memory fakes of the operator's ports (the API, the clock), for unit tests."""
