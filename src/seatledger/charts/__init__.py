"""Charts of usage against limits, drawn with pyqtgraph for the window and for files.

:func:`seatledger.charts.usage.render_usage_chart` writes a PNG or SVG without a window (the
command line and the audit report use it); :func:`seatledger.charts.usage.draw_usage` draws the
same chart into a plot the Usage page shows.  Charts draw values from
:mod:`seatledger.domain.usage`; they never read the database (import-linter keeps ``store`` and
SQLAlchemy out).  Importing this package costs nothing: pyqtgraph loads with the modules in it.
"""
