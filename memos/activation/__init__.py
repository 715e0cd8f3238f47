"""Activation memory: KV caches of prompt pieces, managed for cubes (over activation_cache/)."""
