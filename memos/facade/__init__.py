"""MemOS's calls, one file per concern; ``memos.kernel.MemOS`` composes them into one facade.

Every call takes ``user`` (None: the local administrator) and checks access itself, so the
edges (REST routes, CLI, MCP, console) only ever call the facade.
"""
