"""What people read: the student report, the class summary, the gradebook, shared text cleaning."""
