"""The progress channel: FFmpeg progress parsing, throttling, the Redis wire format."""
