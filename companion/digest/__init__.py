"""The post-meeting digest email, session reminders and the participant's own pages."""
