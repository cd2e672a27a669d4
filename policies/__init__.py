"""The aks-bluegreen CrossGuard policy pack.

Importing any module here only defines policies: `__main__.py` is the one module that starts the
analyzer, so the offline plan and the tests can load the very same policy objects.
"""
