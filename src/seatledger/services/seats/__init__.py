"""Seat assignments: assigning and releasing under the purchased-limit rule."""
