"""MemCube and its memories: items, lifecycle states, search hits."""
