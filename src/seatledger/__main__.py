"""``python -m seatledger``."""

from seatledger.cli import main

raise SystemExit(main())
