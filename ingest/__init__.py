"""Ingestion: source connectors, landing (immutable raw files), loading into the raw schema."""
