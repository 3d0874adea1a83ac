"""infragate: BDD conformance checks for deployed infrastructure."""
