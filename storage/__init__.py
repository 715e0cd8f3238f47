"""Durable storage: SQL schema and sessions, blob files, FAISS index, graph store."""
