"""Operators and sign-in, the signed-in session's :class:`Services`, and the workspace."""
