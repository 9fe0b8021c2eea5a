"""The course's assignments, one folder each (assignment.toml, checks/, ...).

Hidden checks (each assignment's hidden/ folder) live in the course repository
only: they are excluded from the wheel and from student releases.
"""
