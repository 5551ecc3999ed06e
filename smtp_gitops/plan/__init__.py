"""Plan: what a change would do to each environment's rendered config, against a git revision,
shown as inert text a pull request can carry."""
