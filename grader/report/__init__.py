"""Renderings of a GradeResult."""
