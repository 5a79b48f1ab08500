"""Finding submissions: LMS layouts, student folders and safe archive extraction."""
