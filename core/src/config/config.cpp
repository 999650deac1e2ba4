// placeholder: filled in by the config module
