"""No-account rooms on a Jitsi Meet server: the embedded default platform."""
