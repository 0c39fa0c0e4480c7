"""The command line: `assistant ingest / ask / tag / eval / serve / demo` and the user administration commands."""
