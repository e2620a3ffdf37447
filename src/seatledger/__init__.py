"""SeatLedger: software licenses and seat assignments with a tamper-evident ledger."""

__version__ = "0.1.0"
APP_ID = "org.seatledger.SeatLedger"
APP_NAME = "SeatLedger"
ORG_NAME = "SeatLedger"
