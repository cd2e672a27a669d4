"""The cut-over probe: the runbook's curl loop as a tool.

It requests one URL at a fixed interval, classifies every answer, and at the end writes a summary,
a JSON log of every request and a timeline picture. It is not part of the Pulumi program: it runs
beside `pulumi up` (deploy.yml) or by hand (`bin/probe`), against the gateway's public address.
"""
