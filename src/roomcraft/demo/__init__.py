"""The demo of a fresh install: an account, renders by the local engine and a community gallery."""
