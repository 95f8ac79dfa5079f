"""Rendering: turning core data into text, tables and pictures."""
