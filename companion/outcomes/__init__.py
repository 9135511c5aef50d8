"""The end of a programme: feedback, the survey, outcome figures and charts, exports."""
