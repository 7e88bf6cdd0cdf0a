"""Great Expectations suites (suites/*.json) and the quality gate that runs them."""
