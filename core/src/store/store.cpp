// placeholder: filled in by the store module
