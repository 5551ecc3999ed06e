"""smtp-gitops: keep a portal's outgoing-mail (SMTP) settings in git."""

__version__ = "0.1.0"
