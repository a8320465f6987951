"""Loading landing files into the raw layer: discovery, file checks, row rules, the ledger and the loader."""
