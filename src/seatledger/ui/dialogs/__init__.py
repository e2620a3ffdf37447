"""The application's dialogs: start and sign-in, record forms, seat assignment, operators, errors.

Every dialog calls a service to change data and reads through the query objects; a refused change
is shown inside the dialog, next to the field it concerns, and the dialog stays open with the input
kept.  Nothing here blocks in a nested event loop except the documented convenience functions
(:func:`~seatledger.ui.dialogs.assign.confirm_release` and friends), which wrap a dialog class the
tests drive directly.
"""
