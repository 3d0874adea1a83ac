"""Binds every scenario of the selected feature files to a pytest test."""

from pytest_bdd import scenarios

from infragate.suite import feature_paths

scenarios(*feature_paths())
