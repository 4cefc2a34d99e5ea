"""``ipclassifier validate``: the labels measured against truth.

The measuring is a Go program of its own (``ipclassifier-validate``, run by
:mod:`ipclassifier._harness`), so the library a host loads carries none of
it; :mod:`.cli` turns the command's options into its spec and prints (or
plots, with the ``validate`` extra: matplotlib) what it measured.
"""
