"""Render: a validated environment turned into the portal's runtime config, through a sandboxed
template, with its secret references resolved; and the atomic writing of the result."""
