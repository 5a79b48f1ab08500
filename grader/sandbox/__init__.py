"""The trusted side of the sandbox boundary: limits, isolation, cgroups, the worker runner,
and the wire format.

Empty on purpose: the worker imports `grader.sandbox.wire`, and importing a submodule runs
this file first; anything imported here would be loaded beside student code.
"""
