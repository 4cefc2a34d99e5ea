"""The package version. It must equal the Go engine's classifier.Version:
the loader refuses a library built from another version."""

__version__ = "0.9.0"
