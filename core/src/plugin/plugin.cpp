// placeholder: filled in by the plugin module
