"""What was bought: vendors, products and entitlements."""
