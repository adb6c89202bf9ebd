"""Modality plugins: goal templates and standard measures contributed through pluggy hooks."""
