"""Cross-cutting pieces: database, security, mail, jobs, bus, languages, errors, API."""
