"""Probe: a live sign-in to the SMTP server a set names (``check-connection``), and OAuth 2.0
tokens for it."""
