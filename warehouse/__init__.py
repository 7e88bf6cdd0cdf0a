"""Warehouse runtime: settings, raw-schema DDL, dbt build, publish, CLI."""
