"""The web pages (`cuiban serve`): a thin layer over the services, like the command line."""
