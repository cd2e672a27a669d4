"""One ComponentResource per concept of the blue/green stack."""
