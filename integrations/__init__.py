"""Video platforms behind the `companion.meetings.platform.Platform` protocol."""
