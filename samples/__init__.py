"""The shipped synthetic campaign sample (no real people) and the script that makes it."""
