"""The conversation flows; dialog/flows/registry.py builds them all."""
