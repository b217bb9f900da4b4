"""The ``wsim`` command line; nothing else in the project imports it.

`main` holds run, validate, calibrate, compare and report; `sweep` holds sweep, resume,
status, analyze, analyze-rules and rerun; `errors` how a command ends on invalid input.
"""
