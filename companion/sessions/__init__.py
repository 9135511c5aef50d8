"""Sessions, agenda (with expert talks), schedule, join links and attendance."""
