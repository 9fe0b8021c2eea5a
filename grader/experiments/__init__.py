"""Running an assignment's training experiments with a student's functions."""
