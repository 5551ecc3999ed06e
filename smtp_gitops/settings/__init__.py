"""Settings: where the files live, what they may say (the model and its vocabulary), how a base
is merged under an environment, and the diagnostics every later stage reports in.

Nothing here reads a settings file with rules or touches the network; every other folder
builds on this one."""
