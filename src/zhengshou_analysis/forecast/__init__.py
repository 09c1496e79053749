"""Forecasts: delivery survival, transitional fees, inflows and the funding gap."""
