"""Platform-neutral meeting rooms: the MeetingRoom model, the Platform protocol, the registry."""
