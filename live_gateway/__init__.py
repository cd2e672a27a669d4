"""What the live Application Gateway serves: read from ARM, judged against the active cluster.

The cut-over verification and the retire guard are Pulumi dynamic providers. The Pulumi CLI runs
them in a separate process, `python -m pulumi.dynamic`, started in the program's directory with
the program's virtualenv (pulumi/pulumi sdk/python/dist/pulumi-resource-pulumi-python;
sdk/go/common/resource/plugin/plugin.go ExecPlugin sets `cmd.Dir` to the program directory).
The SDK pickles a provider by reference to its class (pulumi 3.272 dynamic.py serialize_provider:
`dill.dumps(..., recurse=True)` on a class that is not in `__main__`), so that process imports
this package by name. It therefore stays light and free of side effects: no Pulumi program
modules, no pulumi_azure_native; the Azure SDK is imported only when a provider talks to ARM.
Renaming a module here orphans the providers stored in existing stacks' state.
"""
