"""PyInstaller entry point: run the SeatLedger command-line/GUI launcher."""

from seatledger.cli import main

raise SystemExit(main())
