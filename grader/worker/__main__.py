"""`python -m grader.worker`: the command the sandbox starts."""

from grader.worker.runner import main

main()
