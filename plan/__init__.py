"""The offline plan: the real program evaluated under Pulumi's mocks, two configs compared."""
