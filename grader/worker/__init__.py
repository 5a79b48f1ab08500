"""The untrusted side: the only code that runs beside student code, inside the sandbox.

Imports nothing of the trusted side but `grader.sandbox.wire` (and `grader.probing`,
which probe files use). Kept empty so that `python -m grader.worker` starts fast.
"""
