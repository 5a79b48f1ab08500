"""Judging: expectations (how a value is judged), verdicts (frame -> CheckResult), the reference's values and their cache."""
