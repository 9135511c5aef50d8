"""The live topic board: topics, dot votes, columns, timer and its event channel."""
