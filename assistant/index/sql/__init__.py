"""Where the manifest and the dedup key tables live: one SQLite file per index folder (the one-machine default), or
a PostgreSQL database that several machines share (`index.manifest_url`), with the case lock as an advisory lock."""
