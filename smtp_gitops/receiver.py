"""``python -m smtp_gitops.receiver``: the reference reload receiver, run on a portal node.

The receiver lives with deploy (``smtp_gitops.deploy.receiver``), whose protocol it answers;
this module keeps the documented command working.
"""

from smtp_gitops.deploy.receiver import main

if __name__ == "__main__":
    raise SystemExit(main())
