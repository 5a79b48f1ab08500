"""Running a course's batch: the batch runner, grading one submission step by step, self-check and templates."""
