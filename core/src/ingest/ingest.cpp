// placeholder: filled in by the ingest module
